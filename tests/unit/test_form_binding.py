"""One way through: forms are bound in the app layer, the domain only sees typed commands.

The binders (``app/*_form.py``, helpers in ``app/forms.py``) turn HTML field names into a
use case's command and its ``Refused`` back into the form's fields; these tests check the
binders and that no field-name parsing is left in the domain (``site/py/medex``)."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

import app
import medex
from app.assessment_form import bind_assessment
from app.documents_form import bind_send
from app.forms import form_errors, row_field, rows, yes_no
from app.intake_form import bind_goals, bind_history, bind_screening
from medex.forms import Refused
from medex.repository import InMemoryRepository
from medex.services.intake import PARQ_KEYS, save_goals, save_health_history, save_screening
from tests.support.aio import run
from tests.unit.test_intake import client

TODAY = date(2026, 3, 10)
DOMAIN = Path(medex.__file__).resolve().parent
APP = Path(app.__file__).resolve().parent
DOMAIN_SOURCES = sorted(DOMAIN.rglob("*.py"))

# The prefixes of the forms' own field names (a repeating row ``med_dose_1``, a question
# ``parq_chest_pain``, a measure ``m_tug_value``, the send fields ``_channel`` …).
FORM_PREFIXES = (
    "acsm_",
    "cond_",
    "dx_code_",
    "dx_description_",
    "ex_",
    "m_",
    "med_",
    "parq_",
    "pick_",
    "psfs_activity_",
    "psfs_score_",
    "surg_",
    "symptom_",
    "v_",
    "_channel",
    "_sent_on",
    "_scope_ok",
)


def _app_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(APP.rglob("*.py")))


def _binder_names() -> set[str]:
    """Every string constant in the app's binders that is a form field name."""
    names: set[str] = set()
    for path in sorted(APP.glob("*_form.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith(FORM_PREFIXES)
                and node.value.isidentifier()
            ):
                names.add(node.value)
    return names


def test_the_form_prefixes_are_the_app_s_own():
    """The list above is real: each prefix is used by the app (so the check below bites)."""
    text = _app_text()
    assert [p for p in FORM_PREFIXES if f'"{p}' not in text and f"'{p}" not in text] == []
    assert "parq_follow_up" in _binder_names()


@pytest.mark.parametrize("path", DOMAIN_SOURCES, ids=lambda p: p.relative_to(DOMAIN).as_posix())
def test_no_domain_module_parses_html_field_names(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    where = path.relative_to(DOMAIN).as_posix()
    binder_names = _binder_names()
    for node in ast.walk(tree):
        # A field name built from a form prefix: f"med_{name}_{i}", f"parq_{key}" …
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and str(first.value).startswith(FORM_PREFIXES):
                raise AssertionError(
                    f"{where}:{node.lineno}: builds a form field name ({first.value!r}…): "
                    "bind the form in app/<form>_form.py and pass a typed command"
                )
        # A form's own field name used as it is ("parq_follow_up").
        if isinstance(node, ast.Constant) and node.value in binder_names:
            raise AssertionError(f"{where}:{node.lineno}: reads the form field {node.value!r}")
        # A use case taking the form itself.
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            params = [a.arg for a in node.args.args + node.args.kwonlyargs]
            assert "form" not in params, f"{where}: {node.name}(form) takes a form: use a command"
    # Refusals are keyed by the command's fields; mapping them to the form's is the binder's.
    assert not re.search(r"measurements\\\.\(", source), f"{where}: maps refusals to fields"


def test_the_check_finds_field_name_parsing():
    """The check above fails on the kind of code it is there to keep out."""
    bad = 'def save(repo, data):\n    return [data.get(f"med_name_{i}") for i in range(3)]\n'
    node = next(n for n in ast.walk(ast.parse(bad)) if isinstance(n, ast.JoinedStr))
    first = node.values[0]
    assert isinstance(first, ast.Constant) and str(first.value).startswith(FORM_PREFIXES)


# -- the shared helpers -----------------------------------------------------------------------


def test_rows_drop_blank_rows_and_remember_where_each_came_from():
    data = {
        "med_name_0": "",
        "med_dose_0": " ",
        "med_name_1": "Metformin",
        "med_affects_hr_bp_1": "on",
        "med_name_2": "Atenolol",
    }
    found, where = rows(data, "med", ("name", "dose", "affects_hr_bp"))
    assert [r["name"] for r in found] == ["Metformin", "Atenolol"] and where == [1, 2]
    groups = {"medications": ("med", where)}
    assert row_field("medications.1.dose", groups) == "med_dose_2"
    assert row_field("notes", groups) is None


@pytest.mark.parametrize(("typed", "answer"), [("yes", True), ("No", False), ("", None)])
def test_yes_no(typed, answer):
    assert yes_no({"q": typed}, "q") is answer


def test_form_errors_keep_the_first_message_per_field():
    exc = Refused({"a.0": "first", "a.1": "second", "b": "other"})
    assert form_errors(exc, lambda k: k.split(".")[0]) == {"a": "first", "b": "other"}


# -- the intake binders, through their use cases ----------------------------------------------


def _repo_with_client():
    repo = InMemoryRepository()
    c = client()
    run(repo.save(c))
    return repo, c


def test_history_refusal_goes_back_to_the_row_typed_after_a_blank_one():
    repo, c = _repo_with_client()
    data = {
        "surg_name_0": "",
        "surg_performed_on_0": "",
        "surg_name_1": "Knee",
        "surg_performed_on_1": "2027-01-01",
        "allergies": "Penicillin\n\nLatex",
    }
    bound = bind_history(data, c.id, TODAY)
    assert bound.command.allergies == ["Penicillin", "", "Latex"]
    with pytest.raises(Refused) as exc:
        run(save_health_history(repo, bound.command))
    assert form_errors(exc.value, bound.field) == {
        "surg_performed_on_1": "A surgery date cannot be in the future"
    }


def test_screening_binder_maps_unanswered_questions_to_their_radios():
    repo, c = _repo_with_client()
    data = {f"parq_{k}": "no" for k in PARQ_KEYS} | {"parq_chest_pain": ""}
    data |= {"acsm_exercises_regularly": "yes", "acsm_known_cmr_disease": "no"}
    data |= {"parq_follow_up": "yes", "symptom_ankle_oedema": "1", "acsm_desired_intensity": ""}
    bound = bind_screening(data, c.id, TODAY)
    assert bound.command.parq["follow_up_any_yes"] is True
    assert bound.command.acsm.symptoms == ["ankle_oedema"]
    with pytest.raises(Refused) as exc:
        run(save_screening(repo, bound.command))
    assert set(form_errors(exc.value, bound.field)) == {
        "parq_chest_pain",
        "acsm_symptomatic",
        "acsm_desired_intensity",
    }


def test_goals_binder_maps_a_line_back_to_its_fields():
    repo, c = _repo_with_client()
    data = {f"psfs_activity_{i}": f"Task {i}" for i in range(3)}
    data |= {f"psfs_score_{i}": "5" for i in range(3)} | {"psfs_score_2": "11"}
    bound = bind_goals(data, c.id, TODAY)
    with pytest.raises(Refused) as exc:
        run(save_goals(repo, bound.command))
    assert list(form_errors(exc.value, bound.field)) == ["psfs_score_2"]


def test_assessment_binder_maps_a_measurement_back_to_its_value_field():
    data = {"pick_tug": "1", "m_tug_value": "abc", "assessed_on": "2026-03-01"}
    bound = bind_assessment(data, {}, "client", None, "Dana Reyes", TODAY)
    assert bound.command.measurements == [{"measure_id": "tug", "value": "abc", "protocol": {}}]
    assert bound.field("measurements.0.value") == "m_tug_value"
    assert bound.field("vitals.systolic") == "v_systolic"


def test_send_binder_names_the_underscored_send_fields():
    bound = bind_send({"_channel": "fax", "_sent_on": ""}, {"kind": "x"}, "<p></p>", [], TODAY)
    assert (bound.command.channel, bound.command.sent_on) == ("fax", "")
    assert [bound.field(k) for k in ("sent_on", "__all__")] == ["_sent_on", "__all__"]
