"""The intake forms' binders: HTML field names → the intake use cases' commands (and their
refusals back to the names), and the forms filled from saved records. The screening form
starts from the latest screening's answers, the health history from the saved history, with
its repeating rows ``cond_<field>_<i>``, ``surg_<field>_<i>`` and ``med_<field>_<i>``::

    bound = bind_history(data, client.id, clock.today())
    await save_health_history(app.repo, bound.command)   # Refused → refuse(..., bound.field)
    values = history_values(file.history) if file.history else {}
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import unquote

from medex.health import HealthHistory
from medex.intake import ConsentKind
from medex.screening import (
    DECISION_LABELS,
    INTENSITY_HELP,
    PARQ_PAGE1_LABELS,
    SIGN_OR_SYMPTOM_LABELS,
    ScreeningRecord,
)
from medex.services.intake import (
    CLIENT_FIELDS,
    PARQ_KEYS,
    PROVIDER_FIELDS,
    REFERRAL_FIELDS,
    AcsmAnswers,
    ChosenDiagnosis,
    ClientFile,
    ConditionRow,
    MedicationRow,
    PsfsEntry,
    RecordReferral,
    RecordScreening,
    SaveClearance,
    SaveClient,
    SaveConsentTexts,
    SaveGoals,
    SaveHealthHistory,
    SaveProvider,
    SignConsent,
    SurgeryRow,
)

from .forms import Bound, checked, row_field, rows, text, texts, yes_no

PSFS_LINES = 5  # the goals form's activity lines
# The screening form's questions and choices, in the domain's words.
SCREENING_LABELS: dict[str, Any] = {
    "parq_labels": PARQ_PAGE1_LABELS,
    "symptom_labels": {s.value: label for s, label in SIGN_OR_SYMPTOM_LABELS.items()},
    "intensities": {i.value: help for i, help in INTENSITY_HELP.items()},
    "decisions": DECISION_LABELS,
}

SEARCH_FIELDS = ("q", "status", "provider", "ready")  # the client list's search form


def list_filters(params: dict[str, str], kept: dict[str, Any]) -> dict[str, str]:
    """The client list's filters: those of the search form when it was used, else the
    link's (a dashboard link to the clients "not ready", say)."""
    filters = {k: params.get(k, "") for k in SEARCH_FIELDS}
    filters["q"] = unquote(filters["q"])
    filters.update({k: str(v) for k, v in kept.items() if k in filters})
    return filters


# -- binders: form → command ------------------------------------------------------------------


def bind_provider(data: dict[str, Any]) -> Bound[SaveProvider]:
    return Bound(
        SaveProvider(provider_id=text(data, "provider_id"), **texts(data, PROVIDER_FIELDS))
    )


def bind_client(data: dict[str, Any], today: date) -> Bound[SaveClient]:
    return Bound(
        SaveClient(client_id=text(data, "client_id"), today=today, **texts(data, CLIENT_FIELDS))
    )


def bind_referral(
    data: dict[str, Any], client_id: str, diagnoses: list[dict[str, Any]], today: date
) -> Bound[RecordReferral]:
    chosen = [
        ChosenDiagnosis(code=d["code"], description=d.get("description", "")) for d in diagnoses
    ]
    return Bound(
        RecordReferral(
            client_id=client_id, today=today, diagnoses=chosen, **texts(data, REFERRAL_FIELDS)
        )
    )


def bind_history(data: dict[str, Any], client_id: str, today: date) -> Bound[SaveHealthHistory]:
    conditions, cond_at = rows(data, "cond", ConditionRow.model_fields)
    surgeries, surg_at = rows(data, "surg", SurgeryRow.model_fields)
    medications, med_at = rows(data, "med", MedicationRow.model_fields)
    for med in medications:
        med["affects_hr_bp"] = bool(med["affects_hr_bp"])
    command = SaveHealthHistory(
        client_id=client_id,
        today=today,
        conditions=[ConditionRow(**{k: str(v) for k, v in r.items()}) for r in conditions],
        surgeries=[SurgeryRow(**{k: str(v) for k, v in r.items()}) for r in surgeries],
        medications=[MedicationRow(**r) for r in medications],
        allergies=text(data, "allergies").splitlines(),
        notes=text(data, "notes"),
    )
    groups = {
        "conditions": ("cond", cond_at),
        "surgeries": ("surg", surg_at),
        "medications": ("med", med_at),
    }
    return Bound(command, lambda path: row_field(path, groups) or path)


def _screening_field(path: str) -> str:
    if path == "parq.follow_up_any_yes":
        return "parq_follow_up"
    group, _, name = path.partition(".")
    return f"{group}_{name}" if group in ("parq", "acsm") and name else path


def bind_screening(data: dict[str, Any], client_id: str, today: date) -> Bound[RecordScreening]:
    parq: dict[str, bool | None] = {key: yes_no(data, f"parq_{key}") for key in PARQ_KEYS}
    parq["follow_up_any_yes"] = yes_no(data, "parq_follow_up")
    acsm = AcsmAnswers(
        exercises_regularly=yes_no(data, "acsm_exercises_regularly"),
        known_cmr_disease=yes_no(data, "acsm_known_cmr_disease"),
        symptomatic=yes_no(data, "acsm_symptomatic"),
        has_diabetes=checked(data, "acsm_has_diabetes"),
        cleared_within_12_months=checked(data, "acsm_cleared_within_12_months"),
        symptoms=[s.value for s in SIGN_OR_SYMPTOM_LABELS if checked(data, f"symptom_{s.value}")],
        desired_intensity=text(data, "acsm_desired_intensity").strip(),
    )
    command = RecordScreening(
        client_id=client_id,
        today=today,
        screened_on=text(data, "screened_on"),
        parq=parq,
        acsm=acsm,
        notes=text(data, "notes"),
    )
    return Bound(command, _screening_field)


def bind_clearance(data: dict[str, Any], client_id: str, today: date) -> Bound[SaveClearance]:
    fields = texts(data, ("requested_on", "received_on", "restrictions"))
    return Bound(SaveClearance(client_id=client_id, today=today, **fields))


def _goals_field(path: str) -> str:
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "activities" and parts[1].isdigit():
        return f"psfs_{parts[2]}_{parts[1]}"
    return path


def bind_goals(data: dict[str, Any], client_id: str, today: date) -> Bound[SaveGoals]:
    activities = [
        PsfsEntry(activity=text(data, f"psfs_activity_{i}"), score=text(data, f"psfs_score_{i}"))
        for i in range(PSFS_LINES)
    ]
    command = SaveGoals(
        client_id=client_id, today=today, activities=activities, deficits=text(data, "deficits")
    )
    return Bound(command, _goals_field)


def bind_consent_texts(data: dict[str, Any]) -> Bound[SaveConsentTexts]:
    return Bound(SaveConsentTexts(**texts(data, SaveConsentTexts.model_fields)))


def bind_consent(
    data: dict[str, Any], client_id: str, practice_name: str, today: date
) -> Bound[SignConsent]:
    command = SignConsent(
        client_id=client_id,
        kind=ConsentKind(text(data, "kind")),
        today=today,
        practice_name=practice_name,
        agree=checked(data, "agree"),
        signed_name=text(data, "signed_name"),
        signature_svg=text(data, "signature_svg"),
    )
    return Bound(command)


# -- forms filled from saved records ----------------------------------------------------------


def saved_values(
    section: str, file: ClientFile, today: date, provider_id: str = ""
) -> dict[str, Any]:
    """A client page section's form as the saved records fill it (a new record: dated
    today; a new referral: for ``provider_id``, just added, or the client's provider)."""
    client = file.client
    assert client is not None
    if section == "details":
        values: dict[str, Any] = {k: getattr(client, k) or "" for k in CLIENT_FIELDS}
        values.update(sex=client.sex.value, date_of_birth=client.date_of_birth.isoformat())
        return values
    if section == "referral":
        values = {k: "" for k in REFERRAL_FIELDS}
        values.update(
            provider_id=provider_id or client.provider_id or "", referred_on=today.isoformat()
        )
        return values
    if section == "history":
        return history_values(file.history) if file.history else {}
    if section == "screening":
        return {**screening_values(file.screening), "screened_on": today.isoformat()}
    if section == "clearance":
        c = file.clearance
        if c is None:
            return {"requested_on": today.isoformat()}
        return {
            "requested_on": c.requested_on.isoformat(),
            "received_on": c.received_on.isoformat() if c.received_on else "",
            "restrictions": c.restrictions,
        }
    if section == "goals" and file.goals:
        values = {"deficits": "\n".join(file.goals.deficits)}
        for i, a in enumerate(file.goals.activities):
            values.update({f"psfs_activity_{i}": a.activity, f"psfs_score_{i}": str(a.score)})
        return values
    return {}


def history_row_counts(
    values: dict[str, Any], typed: bool, wanted: dict[str, Any]
) -> dict[str, int]:
    """How many rows each repeating group of the history form shows: what the values hold,
    one blank row more on a form not typed in yet, or as many as "Add a …" asked for."""
    return {
        k: max(row_count(values, k) + (0 if typed else 1), int(wanted.get(k, 0)), 1)
        for k in ("cond", "surg", "med")
    }


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
