"""The extension points touch as few files as ``docs/architecture.md`` says (section "Extension
points"), and everything else is derived from the registries.

Each test makes the real edit a developer would make, in a copy of ``site/py`` and
``site/templates``: a plain outcome measure (``medex/measures.py`` only), a measure computed
from other inputs (``medex/measures.py`` only), a physician document (``medex/documents.py`` and
its template) and a stored record type (its model and one line of ``medex/stores.py``). A fresh
interpreter then drives the copy's ``App`` under CPython (the in-memory repository and the fake
platform of ``tests/support``) and reports what it saw: the new thing shows on its screen,
validates, is stored, printed, backed up and restored, without any other file changing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"

pytestmark = pytest.mark.skipif(
    sys.platform == "emscripten" or not (SITE / "py" / "medex").is_dir(),
    reason="needs a separate interpreter and the source tree (not inside Pyodide)",
)

Edits = dict[str, list[tuple[str, str]] | str]


def edited_copy(tmp_path: Path, edits: Edits) -> Path:
    """A copy of site/py and site/templates with ``edits`` made: a path under site/ mapped to
    ``[(text, replacement), ...]`` (each text found exactly once) or to a new file's text."""
    site = tmp_path / "site"
    for folder in ("py", "templates"):
        shutil.copytree(SITE / folder, site / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for rel, edit in edits.items():
        path = site / rel
        if isinstance(edit, str):
            assert not path.exists(), f"{rel} exists: a new file was meant"
            path.write_text(edit, encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        for old, new in edit:
            assert text.count(old) == 1, f"{rel}: the edit's anchor {old!r} is not unique"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return site


def observe(site: Path, script: str) -> dict:
    """Run ``script`` (which sets ``seen``, a JSON-ready dict) against the edited copy."""
    prelude = f"""
        import json, sys
        sys.path[:0] = [{str(site / "py")!r}, {str(ROOT)!r}]
        sys.dont_write_bytecode = True
        from datetime import date
        from app import clock, core
        from medex.repository import InMemoryRepository
        from tests.support.aio import run
        from tests.support.fakes import FakePlatform, FilePlatform
        from tests.support.pages import FormData
        from tests.support.seeders import GOOD
        seen = {{}}
        clock.today = lambda: date(2026, 3, 10)
        core.load_screens()

        def practice(platform=None):
            app = core.App(InMemoryRepository(), platform or FakePlatform())
            run(app.load())
            run(app.dispatch("save-profile", dict(GOOD)))
            data = dict(client_id="", first_name="Rose", last_name="Hill", sex="female")
            run(app.dispatch("save-client", dict(data, date_of_birth="1953-09-01")))
            from medex.intake import Client
            return app, run(app.repo.list(Client))[-1]

        def page(app, location=None):
            if location:
                app.navigate(location)
            return run(app.html())
    """
    code = textwrap.dedent(prelude) + textwrap.dedent(script) + "\nprint(json.dumps(seen))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def changed_files(site: Path) -> set[str]:
    """The files of the copy that differ from the tree's (or are new)."""
    out = set()
    for path in site.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(site).as_posix()
            original = SITE / rel
            if not original.is_file() or original.read_bytes() != path.read_bytes():
                out.add(rel)
    return out


# -- an outcome measure ------------------------------------------------------------------------

PLAIN_MEASURE = """
_PROBE_REACH = MeasureDefinition(
    id="probe_reach",
    name="Probe functional reach",
    short_name="Probe reach",
    category="balance",
    unit="cm",
    direction="higher_is_better",
    valid_min=0,
    valid_max=60,
    description="How far forward the client reaches standing, feet still.",
)

"""

ASSESS = textwrap.dedent("""
    app, client = practice()
    form_id = f"assessment-form-{client.id}"
    start = page(app, f"#/assessment-new?client={client.id}&kind=baseline")
    seen["pickable"] = 'name="pick_probe_reach"' in start or 'name="pick_probe_pace"' in start
    data = {**FormData(start, form_id).data, PICK: "1", "intent": "measures"}
    run(app.dispatch("assessment-form", data))
    chosen = page(app)
    seen["field"] = f'name="{VALUE}"' in chosen
    seen["chosen_html"] = chosen
    base = FormData(chosen, form_id).data
    run(app.dispatch("assessment-form", {**base, **TOO_MUCH, "intent": "save"}))
    refused = page(app)
    seen["refused_html"] = refused
    from medex.assessments import Assessment
    seen["stored_after_refusal"] = len(run(app.repo.list(Assessment)))
    run(app.dispatch("assessment-form", {**base, **GOOD_ENTRY, "intent": "save"}))
    saved = run(app.repo.list(Assessment))
    seen["values"] = [(e.measure_id, e.value) for a in saved for e in a.measurements]
    seen["interpreted"] = page(app)
""")


def test_a_plain_outcome_measure_is_one_file(tmp_path):
    site = edited_copy(
        tmp_path,
        {
            "py/medex/measures.py": [
                ("CATALOGUE: Mapping[", PLAIN_MEASURE + "CATALOGUE: Mapping["),
                ("            _WAIST,\n", "            _WAIST,\n            _PROBE_REACH,\n"),
            ]
        },
    )
    assert changed_files(site) == {"py/medex/measures.py"}
    seen = observe(
        site,
        'PICK, VALUE = "pick_probe_reach", "m_probe_reach_value"\n'
        'TOO_MUCH, GOOD_ENTRY = {VALUE: "75"}, {VALUE: "31"}\n' + ASSESS,
    )
    assert seen["pickable"] and seen["field"]
    # Validated with the definition's range, the message next to the field, nothing stored.
    assert seen["stored_after_refusal"] == 0
    assert 'aria-invalid="true"' in seen["refused_html"]
    assert "60" in seen["refused_html"].split('id="error-m_probe_reach_value"')[1][:300]
    assert seen["values"] == [["probe_reach", 31.0]]
    assert "Probe functional reach" in seen["interpreted"] or "Probe reach" in seen["interpreted"]


COMPUTED_MEASURE = """
_PROBE_PACE = MeasureDefinition(
    id="probe_pace",
    name="Probe stepping pace",
    short_name="Probe pace",
    category="mobility",
    unit="steps/s",
    direction="higher_is_better",
    valid_min=0,
    valid_max=5,
    decimals=2,
)

"""

PACE_FORMULA = """    if measure_id == "probe_pace":
        steps, seconds = float(helpers.get("steps") or 0), float(helpers.get("time_s") or 0)
        if seconds <= 0:
            raise NotComputable("Enter the time the steps took")
        return round(steps / seconds, 2)
"""


def test_a_measure_computed_from_other_inputs_is_one_file(tmp_path):
    site = edited_copy(
        tmp_path,
        {
            "py/medex/measures.py": [
                ("CATALOGUE: Mapping[", COMPUTED_MEASURE + "CATALOGUE: Mapping["),
                ("            _WAIST,\n", "            _WAIST,\n            _PROBE_PACE,\n"),
                (
                    '        "bmi": (\n',
                    '        "probe_pace": (\n'
                    '            HelperInput("steps", "Steps", "Pace = steps ÷ time", "steps"),\n'
                    '            HelperInput("time_s", "Time (s)", short="time"),\n'
                    "        ),\n"
                    '        "bmi": (\n',
                ),
                (
                    '    """\n    if measure_id == "gait_speed":\n',
                    '    """\n' + PACE_FORMULA + '    if measure_id == "gait_speed":\n',
                ),
            ]
        },
    )
    assert changed_files(site) == {"py/medex/measures.py"}
    seen = observe(
        site,
        'PICK, VALUE = "pick_probe_pace", "m_probe_pace_value"\n'
        'TOO_MUCH = {"m_probe_pace_h_steps": "60", "m_probe_pace_h_time_s": "6"}\n'
        'GOOD_ENTRY = {"m_probe_pace_h_steps": "12", "m_probe_pace_h_time_s": "8"}\n' + ASSESS,
    )
    assert seen["pickable"] and seen["field"]
    chosen = seen["chosen_html"]
    # The inputs it is computed from are on the form, and the empty value field says so.
    assert 'name="m_probe_pace_h_steps"' in chosen and 'name="m_probe_pace_h_time_s"' in chosen
    value_input = chosen.split('id="field-m_probe_pace_value"')[1].split(">")[0]
    assert 'placeholder="from steps/time"' in value_input
    # 60 steps in 6 s = 10 steps/s: above the definition's range, refused, nothing stored.
    assert seen["stored_after_refusal"] == 0
    assert 'aria-invalid="true"' in seen["refused_html"]
    assert seen["values"] == [["probe_pace", 1.5]]


# -- a physician document ----------------------------------------------------------------------

PROBE_TEMPLATE = """{% extends "reports/base.html" %}
{% block title %}Exercise tolerance note: {{ doc.client.name }}{% endblock %}
{% block body %}
<p>Dear {{ doc.provider.display_name if doc.provider else "Doctor" }},</p>
<p>{{ doc.client.first_name }} tolerates the exercise program as follows.</p>
{{ r.para("Tolerance", doc.authored.tolerance) }}
{% endblock %}
"""


def test_a_new_document_is_two_files(tmp_path):
    site = edited_copy(
        tmp_path,
        {
            "py/medex/documents.py": [
                (
                    '    OUTCOMES_LETTER = "outcomes_letter"\n',
                    '    OUTCOMES_LETTER = "outcomes_letter"\n    TOLERANCE_NOTE = "tolerance_note"\n',
                ),
                (
                    "        DocSpec(DocKind.SESSION_LOG,",
                    "        DocSpec(\n"
                    "            DocKind.TOLERANCE_NOTE,\n"
                    '            "Exercise tolerance note",\n'
                    '            fields=(AuthoredField("tolerance", "How it is tolerated", 2),),\n'
                    "        ),\n"
                    "        DocSpec(DocKind.SESSION_LOG,",
                ),
            ],
            "templates/reports/tolerance_note.html": PROBE_TEMPLATE,
        },
    )
    assert changed_files(site) == {"py/medex/documents.py", "templates/reports/tolerance_note.html"}
    seen = observe(
        site,
        """
        import types
        from medex.documents import Communication, DocKind, SentDocument
        from tests.support import screens
        app = screens.documents_app(types.SimpleNamespace(setattr=setattr))
        client = app.seeded[0]
        seen["listed"] = page(app, f"#/documents?client={client.id}")
        kind = DocKind("tolerance_note")
        seen["preview"] = screens.open_doc(app, kind)
        screens.send(app, kind, tolerance="Walks 20 minutes without symptoms.")
        sent = run(app.repo.list(SentDocument))
        seen["sent"] = [(d.kind.value, d.html) for d in sent]
        seen["log"] = [c.kind.value for c in run(app.repo.list(Communication))]
        """,
    )
    assert 'id="make-tolerance_note"' in seen["listed"]
    assert "Exercise tolerance note" in seen["listed"]
    assert "tolerates the exercise program" in seen["preview"]
    assert "How it is tolerated" in seen["preview"]  # the authored field's label on the form
    [(kind, html)] = seen["sent"]
    assert kind == "tolerance_note" and "Walks 20 minutes without symptoms." in html
    assert "tolerance_note" in seen["log"]  # the provider's communication log has it


# -- a stored record type ----------------------------------------------------------------------

PROBE_MODEL = '''"""Exercise tolerance notes (a throwaway record type of the extension-point test)."""

from __future__ import annotations

from typing import ClassVar

from .records import LongText, Record, RequiredText


class ToleranceNote(Record):
    store: ClassVar[str] = "tolerance_notes"

    client_id: RequiredText
    text: LongText = ""
'''

PROBE_STORE = (
    '    StoredType("tolerance_notes", "Tolerance notes", ("tolerance_notes.ToleranceNote",),'
    ' ("client_id",), since=2),\n'
)


def test_a_new_stored_record_type_is_two_files(tmp_path):
    site = edited_copy(
        tmp_path,
        {
            "py/medex/tolerance_notes.py": PROBE_MODEL,
            "py/medex/stores.py": [
                ("\n)\n\n# The storage layer", "\n" + PROBE_STORE + ")\n\n# The storage layer")
            ],
        },
    )
    assert changed_files(site) == {"py/medex/tolerance_notes.py", "py/medex/stores.py"}
    seen = observe(
        site,
        """
        from medex import migrations, stores
        from medex.services.data import store_label
        from medex.tolerance_notes import ToleranceNote
        schema = stores.indexeddb_schema()
        seen["schema"] = schema[max(schema)].get("tolerance_notes")
        seen["label"] = store_label("tolerance_notes")
        seen["known"] = [m.__name__ for m in migrations.MIGRATIONS.models()["tolerance_notes"]]
        app, client = practice(FilePlatform())
        note = ToleranceNote(client_id=client.id, text="Walks 20 minutes.")
        run(app.repo.save(note))
        found = run(app.repo.find(ToleranceNote, "client_id", client.id))
        seen["found"] = [n.text for n in found]
        app.navigate("#/data")
        run(app.dispatch("export-backup", {}))
        [text] = [t for n, t in app.platform.files.items() if n.endswith(".json")]
        from medex.backup_stream import sections
        seen["in_backup"] = [d["text"] for d in sections(text)["data"]["tolerance_notes"]]
        other = core.App(InMemoryRepository(), FilePlatform())
        run(other.load())
        other.navigate("#/data")
        run(other.dispatch("restore-check", {"backup_file_text": text, "backup_file_filename": "b"}))
        seen["preview"] = page(other)
        run(other.dispatch("restore-apply", {"mode": "replace", "confirm_replace": "yes"}))
        seen["flash"] = other.state.flash
        back = run(other.repo.get(ToleranceNote, note.id))
        seen["restored"] = back.text if back else None
        """,
    )
    assert seen["schema"] == "id, client_id"
    assert seen["label"] == "Tolerance notes"
    assert seen["known"] == ["ToleranceNote"]
    assert seen["found"] == ["Walks 20 minutes."]
    assert seen["in_backup"] == ["Walks 20 minutes."]
    assert "Tolerance notes" in seen["preview"]  # the restore preview names it
    assert "Backup restored" in seen["flash"]
    assert seen["restored"] == "Walks 20 minutes."
