"""Physician documents: due rules, scope check, view-models, snapshots and the log."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from medex.documents import (
    DEFAULT_SCOPE_WORDS,
    SPECS,
    Communication,
    DocKind,
    DocumentSettings,
    LoopFacts,
    SentDocument,
    acknowledge,
    documents_owed,
    highlight,
    parse_scope_words,
    plain_row,
    scope_check,
    view_model,
)
from medex.forms import Refused
from medex.repository import InMemoryRepository
from medex.services.documents import (
    MarkAcknowledged,
    MarkSent,
    SaveDocumentSettings,
    documents_dashboard,
    gather,
    mark_acknowledged,
    mark_sent,
    owed_documents,
    provider_outcomes,
    save_settings,
)
from tests.support.aio import run
from tests.support.seeders import FIRST, TODAY, seed_typical_client

HOSTILE = "<script>alert(1)</script>{{ 7*7 }}\u202eevil\U0001f600 " + "W" * 120


@pytest.fixture
def seeded():
    repo = InMemoryRepository()
    client, provider, ep = seed_typical_client(repo)
    return repo, client, provider, ep


# -- due rules --------------------------------------------------------------------------------


def facts(**kw):
    base = dict(client_id="c", client_name="Ann Lee", provider_id="p", provider_name="Dr. Chen")
    return LoopFacts(**{**base, **kw})


def kinds(owed):
    return {o.kind: o for o in owed}


def test_nothing_owed_before_the_first_visit():
    assert documents_owed(facts(first_visit=None), TODAY) == []


@pytest.mark.parametrize(
    ("days_after", "status"),
    [(0, "upcoming"), (1, "due"), (2, "overdue")],
)
def test_intro_letter_due_within_24_hours_of_first_visit(days_after, status):
    """Due the day after the first visit: upcoming on the day, due the next day, then overdue."""
    owed = kinds(documents_owed(facts(first_visit=FIRST), FIRST + timedelta(days=days_after)))
    intro = owed[DocKind.INTRO_LETTER]
    assert intro.due_on == FIRST + timedelta(days=1) and intro.status == status


@pytest.mark.parametrize(("days_after", "status"), [(6, "upcoming"), (7, "due"), (8, "overdue")])
def test_assessment_summary_due_within_a_week(days_after, status):
    owed = kinds(documents_owed(facts(first_visit=FIRST), FIRST + timedelta(days=days_after)))
    assert owed[DocKind.ASSESSMENT_SUMMARY].status == status


def test_sent_documents_are_no_longer_owed():
    sent = (("intro_letter", FIRST), ("assessment_summary", FIRST + timedelta(days=3)))
    owed = kinds(documents_owed(facts(first_visit=FIRST, sent=sent), FIRST + timedelta(days=10)))
    assert DocKind.INTRO_LETTER not in owed and DocKind.ASSESSMENT_SUMMARY not in owed


@pytest.mark.parametrize(
    ("days_after", "listed", "status"),
    [(22, False, None), (23, True, "upcoming"), (30, True, "due"), (31, True, "overdue")],
)
def test_progress_report_every_30_days_shown_a_week_ahead(days_after, listed, status):
    owed = kinds(documents_owed(facts(first_visit=FIRST), FIRST + timedelta(days=days_after)))
    assert (DocKind.PROGRESS_REPORT in owed) is listed
    if listed:
        assert owed[DocKind.PROGRESS_REPORT].status == status


def test_progress_report_30_days_after_the_last_one():
    sent = (("progress_report", FIRST + timedelta(days=30)),)
    owed = kinds(documents_owed(facts(first_visit=FIRST, sent=sent), FIRST + timedelta(days=60)))
    assert owed[DocKind.PROGRESS_REPORT].due_on == FIRST + timedelta(days=60)


def test_progress_report_before_an_earlier_physician_follow_up():
    """A follow-up on day 20 moves the report to day 19 (before the visit), not day 30."""
    f = facts(first_visit=FIRST, follow_up=FIRST + timedelta(days=20))
    owed = kinds(documents_owed(f, FIRST + timedelta(days=19)))
    report = owed[DocKind.PROGRESS_REPORT]
    assert report.due_on == FIRST + timedelta(days=19) and report.status == "due"
    assert "follow-up" in report.reason


def test_follow_up_later_than_30_days_does_not_delay_the_report():
    f = facts(first_visit=FIRST, follow_up=FIRST + timedelta(days=50))
    owed = kinds(documents_owed(f, FIRST + timedelta(days=30)))
    assert owed[DocKind.PROGRESS_REPORT].due_on == FIRST + timedelta(days=30)


def test_no_progress_report_after_discharge_but_a_discharge_summary():
    day = FIRST + timedelta(days=40)
    f = facts(first_visit=FIRST, active=False, discharged_on=day)
    owed = kinds(documents_owed(f, day + timedelta(days=40)))
    assert DocKind.PROGRESS_REPORT not in owed
    assert owed[DocKind.DISCHARGE_SUMMARY].status == "overdue"
    sent = (("discharge_summary", day),)
    f2 = facts(first_visit=FIRST, active=False, discharged_on=day, sent=sent)
    assert DocKind.DISCHARGE_SUMMARY not in kinds(documents_owed(f2, day))


def test_change_in_status_owed_until_a_report_after_the_flag():
    flag_day = FIRST + timedelta(days=12)
    f = facts(first_visit=FIRST, flagged=((flag_day, "Resting BP too high"),))
    owed = kinds(documents_owed(f, flag_day))
    assert owed[DocKind.CHANGE_IN_STATUS].status == "due"
    assert "Resting BP too high" in owed[DocKind.CHANGE_IN_STATUS].reason
    before = facts(
        first_visit=FIRST,
        flagged=((flag_day, "x"),),
        sent=(("change_in_status", flag_day - timedelta(days=1)),),
    )
    assert DocKind.CHANGE_IN_STATUS in kinds(documents_owed(before, flag_day))
    after = facts(
        first_visit=FIRST, flagged=((flag_day, "x"),), sent=(("change_in_status", flag_day),)
    )
    assert DocKind.CHANGE_IN_STATUS not in kinds(documents_owed(after, flag_day))


def test_a_change_in_status_report_names_the_flags_up_to_today():
    day = FIRST + timedelta(days=12)
    flags = (
        (day + timedelta(days=2), "Chest pain"),
        (day, "Dizziness"),
        (day, "Resting BP too high"),
        (day + timedelta(days=5), "Fall"),
        (day + timedelta(days=6), "Shortness of breath"),
    )
    f = facts(first_visit=FIRST, flagged=flags)
    assert DocKind.CHANGE_IN_STATUS not in kinds(documents_owed(f, day - timedelta(days=1)))

    def reason(after: int) -> str:
        return kinds(documents_owed(f, day + timedelta(days=after)))[
            DocKind.CHANGE_IN_STATUS
        ].reason

    first = "Flagged on " + f"{day.strftime('%b')} {day.day}, {day.year}: "
    assert reason(0) == first + "Dizziness; Resting BP too high"
    assert reason(1) == reason(0)
    assert reason(2) == first + "Dizziness; Resting BP too high; Chest pain"
    assert reason(6) == reason(2)  # three named at most
    later = kinds(documents_owed(f, day + timedelta(days=6)))[DocKind.CHANGE_IN_STATUS]
    assert (later.due_on, later.since, later.status) == (day, day, "overdue")


def _documents_owed_as_written_before(facts: LoopFacts, today):
    """The due rules as one function of today, as they were before ``owed_candidates``
    split them into what does not depend on today and the comparisons with it (kept here to
    check that the split changed nothing)."""
    from medex.documents import Owed, _fmt, _last_sent, _status

    out = []

    def add(kind, due_on, since, reason):
        out.append(
            Owed(kind, facts.client_id, facts.client_name, facts.provider_id,
                 facts.provider_name, due_on, since, _status(due_on, today), reason)
        )  # fmt: skip

    fv = facts.first_visit
    if fv is not None and fv <= today:
        if _last_sent(facts, DocKind.INTRO_LETTER) is None:
            add(DocKind.INTRO_LETTER, fv + timedelta(days=1), fv,
                f"First visit {_fmt(fv)}: due within 24 hours")  # fmt: skip
        if _last_sent(facts, DocKind.ASSESSMENT_SUMMARY) is None:
            add(DocKind.ASSESSMENT_SUMMARY, fv + timedelta(days=7), fv,
                f"First visit {_fmt(fv)}: due within a week")  # fmt: skip
        if facts.active and facts.discharged_on is None:
            last = _last_sent(facts, DocKind.PROGRESS_REPORT)
            anchor = max(last, fv) if last else fv
            due = anchor + timedelta(days=30)
            why = (
                f"30 days after the last progress report ({_fmt(anchor)})"
                if last
                else f"30 days after the first visit ({_fmt(fv)})"
            )
            fu = facts.follow_up
            if fu is not None and fu > anchor:
                before = fu - timedelta(days=1)
                if before < due:
                    due = max(before, anchor)
                    why = f"Before the physician's follow-up on {_fmt(fu)}"
            if today >= due - timedelta(days=7):
                add(DocKind.PROGRESS_REPORT, due, anchor, why)
    if facts.discharged_on is not None:
        last = _last_sent(facts, DocKind.DISCHARGE_SUMMARY)
        if last is None or last < facts.discharged_on:
            add(DocKind.DISCHARGE_SUMMARY, facts.discharged_on, facts.discharged_on,
                f"Discharged on {_fmt(facts.discharged_on)}")  # fmt: skip
    last_cis = _last_sent(facts, DocKind.CHANGE_IN_STATUS)
    unreported = sorted(
        (d, t) for d, t in facts.flagged if d <= today and (last_cis is None or last_cis < d)
    )
    if unreported:
        first_day = unreported[0][0]
        titles = list(dict.fromkeys(t for _d, t in unreported))
        add(DocKind.CHANGE_IN_STATUS, first_day, first_day,
            f"Flagged on {_fmt(first_day)}: " + "; ".join(titles[:3]))  # fmt: skip
    return sorted(out, key=lambda o: (o.due_on, o.kind.value))


def test_the_due_rules_owe_on_every_day_what_they_owed_as_one_function_of_today():
    import random

    rng = random.Random(11)

    def some_day(spread: int = 90):
        return FIRST + timedelta(days=rng.randrange(-spread, spread))

    kinds_sent = [k.value for k in DocKind]
    checked = 0
    for _ in range(300):
        f = facts(
            first_visit=some_day() if rng.random() < 0.85 else None,
            follow_up=some_day() if rng.random() < 0.4 else None,
            active=rng.random() < 0.8,
            discharged_on=some_day() if rng.random() < 0.25 else None,
            flagged=tuple(
                (some_day(), rng.choice(["Dizziness", "Chest pain", "Fall", "BP"]))
                for _ in range(rng.randrange(0, 6))
            ),
            sent=tuple((rng.choice(kinds_sent), some_day()) for _ in range(rng.randrange(0, 5))),
        )
        for offset in range(-100, 130, 3):
            today = FIRST + timedelta(days=offset)
            expected = _documents_owed_as_written_before(f, today)
            assert documents_owed(f, today) == expected, (f, today)
            checked += len(expected)
    assert checked > 5_000  # the random practices owe something on most days


# -- scope check ------------------------------------------------------------------------------


def test_scope_check_finds_word_forms_with_the_reason():
    texts = {"note": ("Note", "We treated her knee. Treatment continues; therapy helps.")}
    found = scope_check(texts, list(DEFAULT_SCOPE_WORDS))
    assert [f.word for f in found] == ["treated", "Treatment", "therapy"]
    assert "physician's or therapist's role" in found[0].reason
    assert found[0].field == "note" and found[0].label == "Note"


def test_scope_check_ignores_words_that_only_contain_a_stem():
    """'retreat' and 'secure' are not 'treat' and 'cure'."""
    texts = {"n": ("N", "A retreat to secure footing; uncured? no.")}
    assert scope_check(texts, list(DEFAULT_SCOPE_WORDS)) == []


def test_scope_words_are_configurable():
    words = parse_scope_words("guarantee: Do not promise results\n\nfix")
    assert [w.stem for w in words] == ["guarantee", "fix"]
    found = scope_check({"n": ("N", "We guarantee it will fix you")}, words)
    assert [f.word for f in found] == ["guarantee", "fix"]
    with pytest.raises(ValueError, match="Line 1"):
        parse_scope_words("x: too short")


def test_highlight_segments_cover_the_whole_text():
    text = "Continue therapy, not a cure."
    parts = highlight(text, list(DEFAULT_SCOPE_WORDS))
    assert "".join(p for p, _ in parts) == text
    assert [p for p, flagged in parts if flagged] == ["therapy", "cure"]


# -- view-models ------------------------------------------------------------------------------


def test_progress_report_view_model_leads_with_outcomes(seeded):
    repo, client, _provider, _ep = seeded
    inp = run(gather(repo, DocKind.PROGRESS_REPORT, TODAY, client_id=client.id))
    vm = view_model(inp)
    tug = next(m for m in vm["measures"] if m["id"] == "tug")
    # baseline 14.2 → previous 12.1 → now 10.4 s: 3.8 s faster
    assert (tug["baseline"]["value"], tug["previous"]["value"], tug["now"]["value"]) == (
        "14.2",
        "12.1",
        "10.4",
    )
    assert tug["change"] == "−3.8" and tug["trend"] == "improved"
    chair = next(m for m in vm["measures"] if m["id"] == "chair_stand_30s")
    assert chair["change"] == "+4"
    assert chair["norm_moved"] and chair["norm_then"].startswith("Below normal")
    assert vm["provider"]["display_name"] == "Maria Chen, MD"
    assert vm["client"]["dob"] == "1952-08-01" and vm["client"]["referral_date"] == "2024-12-27"
    assert [d["code"] for d in vm["diagnoses"]] == ["Z96.651", "M17.11"]
    assert 1 <= len(vm["charts"]) <= 4 and vm["charts"][0]["svg"].startswith("<svg")
    assert vm["attendance"]["cancelled"] == 1
    (event,) = vm["safety"]  # one flagged session, its flags and reading once
    assert event["severity"] == "hard_stop" and event["details"] == ["Resting 205/92 mmHg, seated"]
    assert event["date"] == "2025-01-23" and "call Dr. Chen" in event["action"]
    assert vm["authored"]["recommendation"] == "refer_back"  # a hard stop in the period
    assert "do not diagnose" in vm["scope_statement"]
    assert vm["signature"] == {"name": "Dana Reyes", "credentials": "MS, ACSM-CEP"}


def test_view_model_is_json_ready(seeded):
    import json

    repo, client, _p, _e = seeded
    for kind in DocKind:
        if SPECS[kind].per_provider:
            continue
        vm = view_model(run(gather(repo, kind, TODAY, client_id=client.id)))
        assert json.loads(json.dumps(vm)) == vm, kind


def test_superbill_icd10_from_referral_fees_and_payments(seeded):
    repo, client, _p, _e = seeded
    inp = run(
        gather(
            repo,
            DocKind.SUPERBILL,
            TODAY,
            client_id=client.id,
            authored={"fee_per_session": "85"},
        )
    )
    vm = view_model(inp)
    bill = vm["bill"]
    # 12 booked, 1 cancelled, 1 stopped for high blood pressure (not billed by default)
    assert len(bill["lines"]) == 10
    assert bill["total"] == "$850.00" and bill["paid"] == "$450.00" and bill["balance"] == "$400.00"
    assert bill["payments"][0]["method"] == "HSA/FSA"
    assert bill["npi"] == "1234567893"
    assert "do not bill therapy CPT codes" in bill["cpt_note"]


def test_plain_language_card_row():
    row = {
        "name": "30-Second Chair Stand",
        "unit": "stands",
        "now": {"value": "12"},
        "baseline": {"value": "8"},
        "count": 3,
        "trend": "improved",
        "mcid": "improved",
        "norm_now_status": "within",
    }
    text = plain_row(row)
    assert text.startswith("30-Second Chair Stand: 8 → 12 stands. Better than when you started")
    assert "real difference" in text and "normal range" in text


def test_provider_outcomes_lists_referred_clients(seeded):
    repo, _client, provider, _e = seeded
    rows = run(provider_outcomes(repo, provider.id, TODAY))
    assert [r["name"] for r in rows] == ["Ann Lee"] and rows[0]["program"]


# -- snapshots and the communication log ------------------------------------------------------


def test_mark_sent_stores_an_immutable_snapshot_and_log_entry(seeded):
    repo, client, provider, _e = seeded
    vm = view_model(run(gather(repo, DocKind.PROGRESS_REPORT, TODAY, client_id=client.id)))
    html = "<article>as sent</article>"
    sent, logged = run(
        mark_sent(
            repo, MarkSent(document=vm, html=html, channel="fax", sent_on="2025-03-20", today=TODAY)
        )
    )
    doc = run(repo.get(SentDocument, sent.id))
    assert doc.html == html and doc.data == vm and doc.provider_id == provider.id
    with pytest.raises(ValidationError):
        doc.html = "changed"  # frozen
    tampered = {**doc.model_dump(mode="json"), "html": "<article>edited</article>"}
    with pytest.raises(ValidationError, match="changed since it was sent"):
        SentDocument.model_validate(tampered)
    comm = run(repo.get(Communication, logged.id))
    assert (comm.status, comm.channel, comm.sent_on) == ("sent", "fax", TODAY)
    early = MarkAcknowledged(communication_id=comm.id, on="2025-03-21", today=TODAY)
    with pytest.raises(Refused) as exc:
        run(mark_acknowledged(repo, early))
    assert exc.value.errors == {"acknowledged_on": "The date acknowledged cannot be in the future"}
    acked = run(
        mark_acknowledged(
            repo, MarkAcknowledged(communication_id=comm.id, on="2025-03-20", today=TODAY)
        )
    )
    assert acked.status == "acknowledged"
    with pytest.raises(ValueError, match="Only a sent document"):
        acknowledge(acked, TODAY)


def test_mark_sent_needs_channel_and_a_past_date(seeded):
    repo, client, _p, _e = seeded
    vm = view_model(run(gather(repo, DocKind.INTRO_LETTER, TODAY, client_id=client.id)))
    command = MarkSent(document=vm, html="<p>x</p>", sent_on="2025-03-21", today=TODAY)
    with pytest.raises(Refused) as exc:
        run(mark_sent(repo, command))
    assert exc.value.errors == {
        "channel": "Choose how it was sent",
        "sent_on": "The date sent cannot be in the future",
    }
    assert run(repo.list(SentDocument)) == []


def test_acknowledged_before_sent_is_refused():
    with pytest.raises(ValidationError, match="acknowledged before it was sent"):
        Communication(
            kind="intro_letter",
            title="x",
            status="acknowledged",
            channel="fax",
            drafted_on=TODAY,
            sent_on=TODAY,
            acknowledged_on=TODAY - timedelta(days=1),
        )


def test_dashboard_lists_owed_documents_and_drops_them_once_sent(seeded):
    repo, client, _p, _e = seeded
    owed = run(owed_documents(repo, TODAY))
    assert {o.kind for o in owed} >= {
        DocKind.INTRO_LETTER,
        DocKind.ASSESSMENT_SUMMARY,
        DocKind.PROGRESS_REPORT,
        DocKind.CHANGE_IN_STATUS,
    }
    items = run(documents_dashboard(repo, TODAY))
    intro = next(i for i in items if i.title.startswith("Introductory letter"))
    assert "Maria Chen, MD" in intro.title and "Dr. Maria" not in intro.title
    assert "overdue since Jan 7, 2025" in intro.title
    vm = view_model(run(gather(repo, DocKind.INTRO_LETTER, TODAY, client_id=client.id)))
    sent = MarkSent(
        document=vm, html="<p>x</p>", channel="email", sent_on=TODAY.isoformat(), today=TODAY
    )
    run(mark_sent(repo, sent))
    assert DocKind.INTRO_LETTER not in {o.kind for o in run(owed_documents(repo, TODAY))}


def test_document_settings_round_trip():
    repo = InMemoryRepository()
    form = SaveDocumentSettings(
        paper="a4",
        scope_statement="We are exercise professionals and do not diagnose.",
        scope_words="treat: no\ncure",
        cpt_code="97110",
        service_description="Exercise session",
    )
    saved = run(save_settings(repo, form))
    assert saved.paper == "a4" and [w.stem for w in saved.scope_words] == ["treat", "cure"]
    assert saved.show_npi_on_superbill is False
    with pytest.raises(Refused) as exc:
        run(save_settings(repo, form.model_copy(update={"cpt_code": "9711"})))
    assert exc.value.errors == {
        "cpt_code": "A CPT code is 5 characters, e.g. 97110 (leave blank for none)"
    }


def test_default_settings_use_letter_paper():
    assert DocumentSettings().paper == "letter"
    assert DocumentSettings().statement("Reyes").startswith("Reyes provides")


def test_hostile_text_survives_in_the_view_model(seeded):
    """The view-model keeps text as typed; escaping is the template's job (tested in e2e)."""
    repo, client, _p, _e = seeded
    inp = run(
        gather(
            repo,
            DocKind.PROGRESS_REPORT,
            TODAY,
            client_id=client.id,
            authored={"plan_changes": HOSTILE},
        )
    )
    assert view_model(inp)["authored"]["plan_changes"] == HOSTILE
