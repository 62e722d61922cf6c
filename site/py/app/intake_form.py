"""Intake forms (HTML field names) filled from saved records: the screening form starts
from the latest screening's answers, the health history from the saved history, with its
repeating rows ``cond_<field>_<i>``, ``surg_<field>_<i>`` and ``med_<field>_<i>``::

    values = history_values(file.history) if file.history else {}
    rows = row_count(values, "med")
"""

from __future__ import annotations

from typing import Any

from medex.health import HealthHistory
from medex.screening import PARQ_PAGE1_LABELS, ScreeningRecord


def screening_values(record: ScreeningRecord | None) -> dict[str, Any]:
    """A new screening starts from the latest one's answers (the practitioner reviews them)."""
    if record is None:
        return {}
    yes_no = {True: "yes", False: "no"}
    values: dict[str, Any] = {}
    if record.parq:
        for key in PARQ_PAGE1_LABELS:
            values[f"parq_{key}"] = yes_no[getattr(record.parq, key)]
        if record.parq.follow_up_any_yes is not None:
            values["parq_follow_up"] = yes_no[record.parq.follow_up_any_yes]
    acsm = record.acsm
    for key in ("exercises_regularly", "known_cmr_disease", "symptomatic"):
        values[f"acsm_{key}"] = yes_no[getattr(acsm, key)]
    values["acsm_has_diabetes"] = acsm.has_diabetes
    values["acsm_cleared_within_12_months"] = acsm.cleared_within_12_months
    values["acsm_desired_intensity"] = acsm.desired_intensity.value
    for symptom in acsm.symptoms:
        values[f"symptom_{symptom.value}"] = True
    return values


def row_count(values: dict[str, Any], prefix: str) -> int:
    """How many rows of a repeating group (``cond``, ``surg``, ``med``) the values hold."""
    n = 0
    while any(k.startswith(f"{prefix}_") and k.endswith(f"_{n}") for k in values):
        n += 1
    return n


def history_values(history: HealthHistory) -> dict[str, Any]:
    """The health-history form's values for the saved history (one row per item)."""
    values: dict[str, Any] = {
        "allergies": "\n".join(history.allergies),
        "notes": history.notes,
    }
    for i, c in enumerate(history.conditions):
        values.update(
            {
                f"cond_name_{i}": c.name,
                f"cond_icd10_{i}": c.icd10 or "",
                f"cond_since_{i}": c.since.isoformat() if c.since else "",
            }
        )
    for i, s in enumerate(history.surgeries):
        values.update(
            {f"surg_name_{i}": s.name, f"surg_performed_on_{i}": s.performed_on.isoformat()}
        )
    for i, m in enumerate(history.medications):
        values.update(
            {
                f"med_name_{i}": m.name,
                f"med_dose_{i}": m.dose,
                f"med_frequency_{i}": m.frequency,
                f"med_affects_hr_bp_{i}": m.affects_hr_bp,
            }
        )
    return values
