"""The device's write of many records at once (a restore: tens of thousands of puts in one
transaction) is read and written in batches, and ends exactly as its operations would one by
one, in order: a record put twice ends as the second, a put then a delete ends deleted, a
delete then a put ends present; and one stale or signed record among thousands refuses the
whole write before anything is written."""

import json

import pytest

from tests.support.browser import (
    open_app,
    raw_store,
    set_up_practice_with_a_client,
    turn_encryption_on,
)

N = 3000  # records in each big write: thousands, as a restore's parts are

# The app's own storage facade, called as the Data screen's restore calls it: `write` takes
# one JSON text, `stageOps` + `writeStaged` take it in parts and write it in one transaction.
WRITE = """async ([ops, staged]) => {
    const s = await import(new URL('js/store.js', location.href).href);
    try {
        if (!staged) return { written: await s.write(JSON.stringify(ops)) };
        let stage = 0;
        for (let i = 0; i < ops.length; i += 1000) stage = s.stageOps(stage, JSON.stringify(ops.slice(i, i + 1000)));
        try { return { written: await s.writeStaged(stage, "") }; } finally { s.dropStaged(stage); }
    } catch (e) { return { error: String(e.message || e) }; }
}"""

ALL = """async (store) => JSON.parse(await (await import(new URL('js/store.js', location.href).href)).getAll(store))"""


def write(page, ops, staged=False) -> dict:
    return page.evaluate(WRITE, [ops, staged])


def stored(page, store: str) -> dict[str, dict]:
    return {d["id"]: d for d in page.evaluate(ALL, store)}


def put(store: str, doc_id: str, **fields) -> dict:
    return {"store": store, "doc": {"id": doc_id, **fields}}


def delete(store: str, doc_id: str, **check) -> dict:
    return {"store": store, "delete": doc_id, **check}


@pytest.mark.parametrize("staged", [False, True], ids=["one text", "in parts"])
def test_a_big_mixed_write_ends_as_its_operations_in_order(page, staged):
    open_app(page)
    seed = [put("goals", f"old{i}", n=0) for i in range(N)]
    assert write(page, seed) == {"written": N}

    ops = []
    for i in range(N):  # new records, the store changing every 500 (many runs)
        ops.append(put("goals" if (i // 500) % 2 == 0 else "referrals", f"new{i}", n=1))
    ops += [delete("goals", f"old{i}") for i in range(1000)]  # a run of deletes
    ops += [
        put("goals", "old5", n=2),  # deleted above, put again: present
        put("goals", "old1000", n=2),
        put("goals", "old1000", n=3),  # put twice: the second
        put("goals", "old1001", n=2),
        delete("goals", "old1001"),  # put then deleted: gone
        delete("goals", "old1002"),
        put("goals", "old1002", n=4),  # deleted then put: present
        delete("referrals", "new1"),  # not there (new1 went into goals): nothing happens
        delete("goals", "new1"),  # put at the start of this write, deleted at its end
        put("referrals", "new0", n=5),  # put as a goal earlier in this write, now a referral too
    ]
    result = write(page, ops, staged)
    assert result == {"written": len(ops)}, result

    goals, referrals = stored(page, "goals"), stored(page, "referrals")
    new_goals = {f"new{i}" for i in range(N) if (i // 500) % 2 == 0} - {"new1"}
    new_referrals = {f"new{i}" for i in range(N) if (i // 500) % 2 == 1} | {"new0"}
    old_kept = {f"old{i}" for i in range(1000, N)} - {"old1001"} | {"old5"}
    assert set(goals) == new_goals | old_kept
    assert set(referrals) == new_referrals
    assert goals["old5"]["n"] == 2
    assert goals["old1000"]["n"] == 3
    assert goals["old1002"]["n"] == 4
    assert goals["new0"]["n"] == 1 and referrals["new0"]["n"] == 5
    assert goals["old2999"]["n"] == 0 and goals["new0"]["n"] == 1


@pytest.mark.parametrize("staged", [False, True], ids=["one text", "in parts"])
def test_one_stale_or_signed_record_among_thousands_writes_nothing(page, staged):
    open_app(page)
    seed = [put("goals", f"g{i}", n=0, _rev="1-a") for i in range(N)]
    seed.append(put("goals", "signed", n=0, _rev="1-s", _signed=True))
    seed.append(put("goals", "signed-before-markers", n=0, signed_at="2025-01-01T09:00:00Z"))
    assert write(page, seed) == {"written": N + 2}
    before = stored(page, "goals")

    def batch() -> list[dict]:
        """Every seeded record changed (each checked against the revision it was read at)
        and new records, in one write."""
        ops = [
            {**put("goals", f"g{i}", n=1, _rev="2-b"), "expect": "1-a", "guard": True}
            for i in range(N)
        ]
        return ops + [put("goals", f"extra{i}", n=1) for i in range(N)]

    # A stale revision in the middle: nothing at all is written, whatever came before it.
    stale = batch()
    stale[N // 2] = {**stale[N // 2], "expect": "1-other"}
    result = write(page, stale, staged)
    assert "MEDEX_STALE goals g1500" in result.get("error", ""), result
    assert stored(page, "goals") == before

    # A guarded delete of a signed record at the end (by its marker, or, written before
    # markers existed, by its signature field): refused, nothing written.
    for signed_id in ("signed", "signed-before-markers"):
        signed = [*batch(), delete("goals", signed_id, guard=True)]
        result = write(page, signed, staged)
        assert f"MEDEX_SIGNED goals {signed_id}" in result.get("error", ""), result
        assert stored(page, "goals") == before

    # A record never stored is expected as "": one that exists is stale.
    created = [*batch(), {**put("goals", "g7", n=9), "expect": ""}]
    result = write(page, created, staged)
    assert "MEDEX_STALE goals g7" in result.get("error", ""), result
    assert stored(page, "goals") == before

    # The same write with every check right is written whole: each check read its own
    # record's stored revision. A guarded delete of g0 after its put is checked against what
    # was stored before the write ("1-a"), not what the write itself put.
    right = [
        *batch(),
        {**put("goals", "fresh", n=1), "expect": ""},
        delete("goals", "g0", expect="1-a", guard=True),
    ]
    result = write(page, right, staged)
    assert result == {"written": len(right)}, result
    after = stored(page, "goals")
    assert len(after) == 2 * N + 2  # g1…g2999, the extras, the two signed and "fresh"
    assert "g0" not in after
    assert {after[f"g{i}"]["_rev"] for i in range(1, N)} == {"2-b"}
    assert after["signed"] == before["signed"]
    assert json.dumps(after["fresh"]) == json.dumps({"id": "fresh", "n": 1})


def test_a_big_staged_write_is_sealed_when_encryption_is_on(page):
    """Sealed records are made before the transaction (not a part at a time inside it): the
    same write ends the same, and nothing of it is stored in clear."""
    set_up_practice_with_a_client(page)
    passphrase = "correct horse battery"
    turn_encryption_on(page, passphrase)

    ops = [put("goals", f"new{i}", n=1, words="plain words") for i in range(N)]
    ops += [put("goals", "new7", n=2), delete("goals", "new8")]
    ops += [delete("goals", "new9"), put("goals", "new9", n=3)]
    result = write(page, ops, staged=True)
    assert result == {"written": len(ops)}, result
    goals = stored(page, "goals")
    assert len(goals) == N - 1 and "new8" not in goals
    assert (goals["new0"]["n"], goals["new7"]["n"], goals["new9"]["n"]) == (1, 2, 3)
    raw = raw_store(page, "goals")
    assert "plain words" not in raw and raw.count('"_enc"') == N - 1


# A restore's parts of a backup that this device holds none of: handed over as the JSON text
# they came in (`stageEncoded`), with each record's revision and signed marker, then the other
# ops in parts (`stageOps`), all written by `writeStaged` in one transaction.
WRITE_ENCODED = """async ([parts, ops]) => {
    const s = await import(new URL('js/store.js', location.href).href);
    let stage = 0;
    try {
        for (const [store, docs, revisions, signed] of parts) {
            stage = s.stageEncoded(stage, store, JSON.stringify(docs), JSON.stringify(revisions), JSON.stringify(signed));
        }
        for (let i = 0; i < ops.length; i += 1000) stage = s.stageOps(stage, JSON.stringify(ops.slice(i, i + 1000)));
        return { written: await s.writeStaged(stage, "") };
    } catch (e) { return { error: String(e.message || e) }; } finally { s.dropStaged(stage); }
}"""


def encoded_parts(n: int, words: str = "plain words") -> list[list]:
    """Parts of 1,000 goals each, every 7th signed: [store, docs, revisions, signed]."""
    parts = []
    for start in range(0, n, 1000):
        ids = range(start, min(n, start + 1000))
        docs = [{"id": f"e{i}", "n": i, "words": words} for i in ids]
        parts.append(["goals", docs, [f"1-r{i}" for i in ids], [i % 7 == 0 for i in ids]])
    return parts


def test_whole_parts_are_written_as_they_came_with_their_revisions_or_not_at_all(page):
    open_app(page)
    seed = [put("goals", f"g{i}", n=0, _rev="1-a") for i in range(10)]
    assert write(page, seed) == {"written": 10}
    before = stored(page, "goals")

    # One stale op after the parts: nothing of the parts is written either.
    stale = [{**put("goals", "g3", n=1, _rev="2-b"), "expect": "1-other"}]
    result = page.evaluate(WRITE_ENCODED, [encoded_parts(N), stale])
    assert "MEDEX_STALE goals g3" in result.get("error", ""), result
    assert stored(page, "goals") == before

    # A part whose revisions do not match its records is refused whole.
    broken = encoded_parts(2000)
    broken[1][2] = broken[1][2][:-1]
    broken[1][3] = broken[1][3][:-1]
    result = page.evaluate(WRITE_ENCODED, [broken, []])
    assert "MEDEX_BAD_PART: goals" in result.get("error", ""), result
    assert stored(page, "goals") == before

    ops = [{**put("goals", "g3", n=1, _rev="2-b"), "expect": "1-a"}, delete("goals", "g4")]
    result = page.evaluate(WRITE_ENCODED, [encoded_parts(N), ops])
    assert result == {"written": N + 2}, result
    after = stored(page, "goals")
    assert len(after) == N + 9 and "g4" not in after and after["g3"]["_rev"] == "2-b"
    assert after["e1234"] == {"id": "e1234", "n": 1234, "words": "plain words", "_rev": "1-r1234"}
    assert after["e1232"]["_signed"] is True  # 1232 = 7 × 176
    assert sum(bool(d.get("_signed")) for d in after.values()) == len(range(0, N, 7))


def test_whole_parts_are_sealed_when_encryption_is_on(page):
    set_up_practice_with_a_client(page)
    passphrase = "correct horse battery"
    turn_encryption_on(page, passphrase)

    result = page.evaluate(WRITE_ENCODED, [encoded_parts(N), [put("goals", "other", n=1)]])
    assert result == {"written": N + 1}, result
    goals = stored(page, "goals")
    assert len(goals) == N + 1 and goals["e7"]["_signed"] is True and goals["e8"]["_rev"] == "1-r8"
    raw = raw_store(page, "goals")
    assert "plain words" not in raw and raw.count('"_enc"') == N + 1
