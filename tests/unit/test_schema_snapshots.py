"""Schema guard: each persisted model's JSON schema against its committed snapshot.

A breaking change (a field removed, a type or constraint changed, a new required field, an
enum value dropped) fails unless the store's SCHEMA_VERSION went up and upgraders cover every
step from the snapshot's version. Additive optional fields, new enum values, new titles,
descriptions and defaults pass.

Regenerate the snapshots (after an intended change, with its upgrader) and commit them:

    python -m tests.unit.test_schema_snapshots --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

if __name__ == "__main__":  # pragma: no cover - run as a tool: find medex without pytest's paths
    _ROOT = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(_ROOT / "site" / "py"), str(_ROOT)]

SNAPSHOTS = Path(__file__).resolve().parent / "schemas"
IGNORED = {"title", "description", "default", "examples", "$defs", "deprecated"}
UPDATE_HINT = "python -m tests.unit.test_schema_snapshots --update"


def current_snapshots() -> dict[str, dict]:
    from medex import migrations

    out = {}
    for store, models in migrations.models().items():
        out[store] = {
            "schema_version": migrations.current_version(store),
            "models": {m.__name__: m.model_json_schema(mode="validation") for m in models},
        }
    return out


def _resolve(schema, root: dict, depth: int = 0):
    while isinstance(schema, dict) and "$ref" in schema and depth < 50:
        name = schema["$ref"].rsplit("/", 1)[-1]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**root.get("$defs", {}).get(name, {}), **rest}
        depth += 1
    return schema


def breaking_changes(old: dict, new: dict, path: str = "", roots=None, depth: int = 0) -> list:
    """Plain descriptions of the changes an old document might not survive."""
    old_root, new_root = roots or (old, new)
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    where = path or "the record"
    if depth > 40:
        return []
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [] if old == new else [f"{where}: changed"]
    out: list[str] = []
    if "properties" in old or "properties" in new:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for key in sorted(old_props):
            sub = f"{path}.{key}" if path else key
            if key not in new_props:
                out.append(f"{sub}: field removed")
            else:
                out += breaking_changes(
                    old_props[key], new_props[key], sub, (old_root, new_root), depth + 1
                )
        for key in sorted(new_req - old_req):
            out.append(f"{path + '.' if path else ''}{key}: new required field")
        skip = IGNORED | {"properties", "required"}
    else:
        skip = set(IGNORED)
    for key in sorted((set(old) | set(new)) - skip):
        a, b = old.get(key), new.get(key)
        sub = f"{where} ({key})"
        if key == "enum" and isinstance(a, list) and isinstance(b, list):
            dropped = [v for v in a if v not in b]
            if dropped:
                out.append(f"{where}: enum values removed {dropped}")
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
                for x, y in zip(a, b, strict=True):
                    out += breaking_changes(x, y, path, (old_root, new_root), depth + 1)
            elif a != b:
                out.append(f"{sub}: changed")
        elif (
            key in ("items", "additionalProperties") and isinstance(a, dict) and isinstance(b, dict)
        ):
            out += breaking_changes(a, b, f"{path}[]", (old_root, new_root), depth + 1)
        elif a != b:
            out.append(f"{sub}: changed from {json.dumps(a)} to {json.dumps(b)}")
    return out


def load_snapshot(store: str) -> dict | None:
    path = SNAPSHOTS / f"{store}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def check_store(store: str, current: dict, snapshot: dict | None) -> list[str]:
    """Why this store fails the guard (empty list: it passes)."""
    from medex import migrations

    if snapshot is None:
        return [
            f"No schema snapshot for the {store!r} store: run `{UPDATE_HINT}` and commit "
            f"tests/unit/schemas/{store}.json"
        ]
    old_v, new_v = snapshot["schema_version"], current["schema_version"]
    if new_v < old_v:
        return [f"{store}: schema version went down from {old_v} to {new_v}"]
    changes = []
    for name, old_schema in snapshot["models"].items():
        new_schema = current["models"].get(name)
        if new_schema is None:
            changes.append(f"{name}: record type removed from the store")
            continue
        changes += [f"{name}.{c}" for c in breaking_changes(old_schema, new_schema)]
    if not changes:
        return []
    missing = [v for v in range(old_v, new_v) if not migrations.MIGRATIONS.has_upgrader(store, v)]
    if new_v > old_v and not missing:
        return []  # a versioned change with its upgraders: refresh the snapshot when released
    why = (
        f"raise SCHEMA_VERSION above {old_v} and register @upgrader({store!r}, from_version=N)"
        if new_v == old_v
        else f"add upgraders from version(s) {missing}"
    )
    return [
        f"Breaking change to the {store!r} store without an upgrader ({why}); if every old "
        f"document still validates (a widened limit), refresh with `{UPDATE_HINT}`:",
        *("  - " + c for c in changes),
    ]


def _stores() -> list[str]:
    from medex import migrations

    return migrations.MIGRATIONS.stores()


@pytest.mark.parametrize("store", _stores())
def test_persisted_schema_has_no_breaking_change_without_an_upgrader(store):
    problems = check_store(store, current_snapshots()[store], load_snapshot(store))
    assert not problems, "\n".join(problems)


def test_every_snapshot_belongs_to_a_registered_store():
    known = set(_stores())
    orphans = sorted(p.stem for p in SNAPSHOTS.glob("*.json") if p.stem not in known)
    assert not orphans, f"Snapshots for stores the app no longer registers: {orphans}"


# --- the guard itself -----------------------------------------------------------------


BASE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "maxLength": 200},
        "kind": {"enum": ["a", "b"], "type": "string"},
        "vitals": {"anyOf": [{"$ref": "#/$defs/Vitals"}, {"type": "null"}]},
    },
    "required": ["id", "name"],
    "$defs": {"Vitals": {"type": "object", "properties": {"hr": {"type": "integer"}}}},
}


def _edit(fn) -> dict:
    schema = json.loads(json.dumps(BASE))
    fn(schema)
    return schema


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["properties"].pop("name"), "name: field removed"),
        (lambda s: s["properties"]["name"].update(type="integer"), "name (type): changed"),
        (lambda s: s["properties"]["name"].update(maxLength=100), "name (maxLength): changed"),
        (lambda s: s["required"].append("kind"), "kind: new required field"),
        (
            lambda s: (
                s["properties"].update(extra={"type": "string"}),
                s["required"].append("extra"),
            ),
            "extra: new required field",
        ),
        (lambda s: s["properties"]["kind"].update(enum=["a"]), "kind: enum values removed ['b']"),
        (lambda s: s["$defs"]["Vitals"]["properties"].pop("hr"), "vitals.hr: field removed"),
    ],
)
def test_the_guard_catches_breaking_changes(edit, expected):
    changes = breaking_changes(BASE, _edit(edit))
    assert any(c.startswith(expected) for c in changes), changes


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["properties"].update(nick={"type": "string", "default": ""}),
        lambda s: s["properties"]["kind"].update(enum=["a", "b", "c"]),
        lambda s: s["properties"]["name"].update(title="Name", description="Full name"),
        lambda s: s["$defs"]["Vitals"]["properties"].update(spo2={"type": "integer"}),
    ],
)
def test_the_guard_lets_additive_optional_changes_pass(edit):
    assert breaking_changes(BASE, _edit(edit)) == []


def test_a_breaking_change_passes_only_with_a_version_bump_and_upgraders():
    from medex import migrations

    store = "profile"
    current = current_snapshots()[store]
    snapshot = json.loads(json.dumps(current))
    name = next(iter(snapshot["models"]))
    snapshot["models"][name]["properties"]["legacy_field"] = {"type": "string"}
    problems = check_store(store, current, snapshot)
    assert problems and "legacy_field: field removed" in "\n".join(problems)
    assert "raise SCHEMA_VERSION above 1" in problems[0]
    bumped = {**current, "schema_version": 2}
    assert "add upgraders from version(s) [1]" in check_store(store, bumped, snapshot)[0]
    steps = migrations.MIGRATIONS._steps
    steps.setdefault(store, {})
    try:
        migrations.MIGRATIONS.upgrader(store, 1)(lambda d: d)
        assert check_store(store, bumped, snapshot) == []
    finally:
        steps[store].pop(1, None)


def test_a_missing_snapshot_fails_with_the_update_command():
    problems = check_store("profile", current_snapshots()["profile"], None)
    assert UPDATE_HINT in problems[0]


def update() -> list[Path]:
    SNAPSHOTS.mkdir(exist_ok=True)
    written = []
    for store, snap in current_snapshots().items():
        path = SNAPSHOTS / f"{store}.json"
        path.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a developer tool
    root = Path(__file__).resolve().parents[2]
    if "--update" not in sys.argv:
        raise SystemExit(f"usage: {UPDATE_HINT}")
    for p in update():
        print("wrote", p.relative_to(root))
