"""Health history: medication classes that change the HR/BP response, and history validation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from medex.forms import field_errors
from medex.health import (
    HR_BLUNTED_ADVICE,
    MEDICATION_CLASSES,
    Condition,
    HealthHistory,
    Medication,
    MedicationClass,
    Surgery,
    classify_medication,
    hr_advice,
    hr_response_altered,
    suggests_diabetes,
)

BB, INS, SEC = (
    MedicationClass.BETA_BLOCKER,
    MedicationClass.INSULIN,
    MedicationClass.INSULIN_SECRETAGOGUE,
)
TODAY = date(2025, 3, 1)
CTX = {"today": TODAY}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Metoprolol 25 mg bid", BB),
        ("metoprolol succinate ER", BB),
        ("LOPRESSOR", BB),
        ("Toprol-XL 50mg daily", BB),
        ("Atenolol", BB),
        ("Tenormin 50", BB),
        ("carvedilol 6.25mg", BB),
        ("Coreg CR", BB),
        ("Propranolol", BB),
        ("Inderal LA 80 mg", BB),
        ("Bisoprolol 5 mg", BB),
        ("Nebivolol", BB),
        ("Bystolic", BB),
        ("labetalol", BB),
        ("Nadolol", BB),
        ("Sotalol 80 mg", BB),
        ("Acebutolol", BB),
        ("celiprolol", BB),  # not listed: caught by the USAN "-olol" stem
        ("oxprenolol", BB),  # same
        ("Insulin glargine 20 units", INS),
        ("Lantus SoloStar", INS),
        ("Humalog", INS),
        ("glipizide 5 mg", SEC),
        ("Glucotrol XL", SEC),
        ("Glimepiride", SEC),
        ("repaglinide", SEC),
    ],
)
def test_classify_medication_recognises_generic_and_brand_names(typed, expected):
    assert classify_medication(typed) is expected


@pytest.mark.parametrize(
    "typed",
    ["metformin 500 mg", "lisinopril", "atorvastatin", "Tylenol", "aspirin 81mg", "", "  "],
)
def test_classify_medication_leaves_other_medications_unclassified(typed):
    assert classify_medication(typed) is None


def test_calcium_channel_blockers_are_not_catalogued_because_the_reference_does_not_name_them():
    """clinical.md names only beta-blockers for HR response: diltiazem is ticked by hand."""
    assert classify_medication("diltiazem 120 mg") is None
    assert hr_response_altered([Medication(name="diltiazem", affects_hr_bp=True)])


def test_only_beta_blockers_change_the_hr_bp_response():
    assert [c for c, info in MEDICATION_CLASSES.items() if info.affects_hr_bp] == [BB]


@pytest.mark.parametrize(
    ("medications", "expected"),
    [
        (["Metformin 500 mg", "Metoprolol 25 mg bid"], True),
        (["Metformin 500 mg"], False),
        (["Insulin lispro"], False),  # insulin: glucose risk, not an HR effect
        ([], False),
    ],
)
def test_hr_response_altered_by_typed_names(medications, expected):
    assert hr_response_altered(medications) is expected
    assert hr_advice(medications) == (HR_BLUNTED_ADVICE if expected else None)


def test_hr_advice_says_use_rpe_not_target_hr():
    """§3D: "Flag beta-blocker users: use RPE instead of HR targets"."""
    assert hr_advice(["atenolol"]) == "Heart rate response is blunted: use RPE, not target HR."


def test_medication_class_and_hr_flag_are_filled_in_from_the_name():
    med = Medication(name="Toprol XL", dose="50 mg", frequency="daily")
    assert med.medication_class is BB and med.affects_hr_bp
    other = Medication(name="Metformin")
    assert other.medication_class is None and not other.affects_hr_bp
    insulin = Medication(name="Lantus")
    assert insulin.medication_class is INS and not insulin.affects_hr_bp


def test_medication_class_chosen_by_the_practitioner_is_kept_and_sets_the_hr_flag():
    med = Medication(name="Local brand 5", medication_class="beta_blocker")
    assert med.medication_class is BB and med.affects_hr_bp


def test_beta_blocker_hr_flag_cannot_be_switched_off():
    assert Medication(name="atenolol", affects_hr_bp=False).affects_hr_bp


def test_medication_blank_class_is_auto_filled_and_bad_class_gives_a_plain_message():
    assert Medication(name="atenolol", medication_class="").medication_class is BB
    with pytest.raises(ValidationError) as exc:
        Medication(name="atenolol", medication_class="vitamin")
    assert field_errors(exc.value) == {"medication_class": "Choose one of the options"}


def test_medication_needs_a_name():
    with pytest.raises(ValidationError) as exc:
        Medication(name="  ")
    assert field_errors(exc.value) == {"name": "This field is required"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("e11.9", "E11.9"),
        ("E119", "E11.9"),
        ("M17.11", "M17.11"),
        ("S72.001A", "S72.001A"),
        ("I10", "I10"),
        ("", None),
        (None, None),
    ],
)
def test_condition_icd10_code_is_normalised(typed, stored):
    assert Condition(name="x", icd10=typed).icd10 == stored


@pytest.mark.parametrize("typed", ["11.9", "E1", "E11.12345", "diabetes", "E11-9"])
def test_condition_icd10_code_shape_is_checked(typed):
    with pytest.raises(ValidationError) as exc:
        Condition(name="x", icd10=typed)
    assert field_errors(exc.value)["icd10"].startswith("An ICD-10 code looks like E11.9")


@pytest.mark.parametrize(
    ("day", "ok"),
    [(TODAY - timedelta(days=1), True), (TODAY, True), (TODAY + timedelta(days=1), False)],
)
def test_surgery_date_not_in_the_future(day, ok):
    """Checked against `today` from the validation context: yesterday, today, tomorrow."""
    data = {"name": "Total knee replacement", "performed_on": day}
    if ok:
        assert Surgery.model_validate(data, context=CTX).performed_on == day
    else:
        with pytest.raises(ValidationError) as exc:
            Surgery.model_validate(data, context=CTX)
        assert field_errors(exc.value) == {"performed_on": "A surgery date cannot be in the future"}


def test_surgery_date_defaults_to_the_device_clock_without_a_context():
    assert Surgery(name="x", performed_on=date.today()).performed_on == date.today()
    with pytest.raises(ValidationError):
        Surgery(name="x", performed_on=date.today() + timedelta(days=2))


@pytest.mark.parametrize(("delta", "ok"), [(0, True), (1, False)])
def test_condition_since_not_in_the_future(delta, ok):
    data = {"name": "Hypertension", "since": TODAY + timedelta(days=delta)}
    if ok:
        Condition.model_validate(data, context=CTX)
    else:
        with pytest.raises(ValidationError) as exc:
            Condition.model_validate(data, context=CTX)
        assert "cannot be in the future" in field_errors(exc.value)["since"]


def _history(**over) -> HealthHistory:
    data = {
        "client_id": "client-1",
        "conditions": [{"name": "Type 2 diabetes", "icd10": "E11.9", "since": "2015-01-01"}],
        "surgeries": [{"name": "Right TKA", "performed_on": "2024-11-05"}],
        "medications": [{"name": "Metoprolol 25 mg"}, {"name": "Metformin", "dose": "500 mg"}],
        "allergies": ["Penicillin", " ", ""],
    }
    return HealthHistory.model_validate({**data, **over}, context=CTX)


def test_health_history_validates_nested_items_and_flags_hr_response():
    history = _history()
    assert HealthHistory.store == "health_histories"
    assert history.allergies == ["Penicillin"]  # blank entries dropped
    assert history.medications[0].medication_class is BB
    assert history.hr_response_altered
    assert not _history(medications=[{"name": "Metformin"}]).hr_response_altered


def test_health_history_future_surgery_error_points_at_the_field():
    with pytest.raises(ValidationError) as exc:
        _history(surgeries=[{"name": "Hip", "performed_on": "2025-03-02"}])
    assert field_errors(exc.value) == {
        "surgeries.0.performed_on": "A surgery date cannot be in the future"
    }


def test_health_history_round_trips_through_its_stored_document():
    history = _history()
    assert HealthHistory.model_validate(history.to_doc(), context=CTX) == history


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"name": "Type 2 diabetes"}, True),
        ({"name": "Diabetic neuropathy"}, True),
        ({"name": "T2DM", "icd10": "E11.9"}, True),
        ({"name": "T1DM", "icd10": "E10.9"}, True),
        ({"name": "Prediabetes"}, False),
        ({"name": "Pre-diabetes", "icd10": "R73.03"}, False),
        ({"name": "Diabetes insipidus"}, False),
        ({"name": "Gestational diabetes"}, False),
        ({"name": "Hypertension", "icd10": "I10"}, False),
    ],
)
def test_suggests_diabetes_reads_type_1_or_2_diabetes_only(condition, expected):
    """A prompt to tick 'has diabetes' in the ACSM screening (type 1/2, §2A metabolic disease)."""
    assert suggests_diabetes(_history(conditions=[condition])) is expected
