"""Health history: conditions, surgeries, medications, and the medications that change how a
client's heart rate responds to exercise.

Sources: docs/clinical.md §5.4 ("Flag beta-blocker users: use RPE instead of HR targets";
beta-blocker HRmax equation from AEROBICS 2019 via FAME, §5.1) and §7.4 (glucose thresholds for
"insulin or secretagogue users", ADA via Illinois Extension, secondary). The reference names no other
medication class (no calcium-channel blockers, nitrates, digoxin…), so none is catalogued
here; the practitioner can tick "affects HR/BP" on any medication by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .records import LongText, Record, RequiredText, Text


class MedicationClass(StrEnum):
    BETA_BLOCKER = "beta_blocker"
    INSULIN = "insulin"
    INSULIN_SECRETAGOGUE = "insulin_secretagogue"


class MedicationClassInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    affects_hr_bp: bool
    advice: str
    source: str


HR_BLUNTED_ADVICE = "Heart rate response is blunted: use RPE, not target HR."

MEDICATION_CLASSES: dict[MedicationClass, MedicationClassInfo] = {
    MedicationClass.BETA_BLOCKER: MedicationClassInfo(
        label="Beta-blocker",
        affects_hr_bp=True,
        advice=HR_BLUNTED_ADVICE,
        source="FAME, after AEROBICS 2019: use RPE for beta-blocker users",  # docs/clinical.md §5.4
    ),
    MedicationClass.INSULIN: MedicationClassInfo(
        label="Insulin",
        affects_hr_bp=False,
        advice="Risk of low blood sugar with exercise: check blood glucose before the session.",
        # docs/clinical.md §7.4
        source="ADA-attributed guidance via Illinois Extension (insulin or secretagogue users)",
    ),
    MedicationClass.INSULIN_SECRETAGOGUE: MedicationClassInfo(
        label="Insulin secretagogue (sulfonylurea or meglitinide)",
        affects_hr_bp=False,
        advice="Risk of low blood sugar with exercise: check blood glucose before the session.",
        # docs/clinical.md §7.4
        source="ADA-attributed guidance via Illinois Extension (insulin or secretagogue users)",
    ),
}

# Generic and common brand names, lower case, one word each (matched word by word).
_CATALOGUE: dict[MedicationClass, tuple[str, ...]] = {
    MedicationClass.BETA_BLOCKER: (
        "metoprolol",
        "lopressor",
        "toprol",
        "betaloc",
        "atenolol",
        "tenormin",
        "tenoretic",
        "carvedilol",
        "coreg",
        "propranolol",
        "inderal",
        "innopran",
        "bisoprolol",
        "zebeta",
        "concor",
        "cardicor",
        "ziac",
        "nebivolol",
        "bystolic",
        "nebilet",
        "labetalol",
        "trandate",
        "nadolol",
        "corgard",
        "sotalol",
        "betapace",
        "sotalex",
        "acebutolol",
        "sectral",
        "pindolol",
        "visken",
        "betaxolol",
        "kerlone",
        "timolol",
    ),
    MedicationClass.INSULIN: (
        "insulin",
        "glargine",
        "detemir",
        "degludec",
        "lispro",
        "aspart",
        "glulisine",
        "lantus",
        "toujeo",
        "basaglar",
        "semglee",
        "levemir",
        "tresiba",
        "humalog",
        "admelog",
        "lyumjev",
        "novolog",
        "novorapid",
        "fiasp",
        "apidra",
        "humulin",
        "novolin",
    ),
    MedicationClass.INSULIN_SECRETAGOGUE: (
        "glipizide",
        "glucotrol",
        "glyburide",
        "glibenclamide",
        "diabeta",
        "glynase",
        "glimepiride",
        "amaryl",
        "gliclazide",
        "diamicron",
        "tolbutamide",
        "repaglinide",
        "prandin",
        "nateglinide",
        "starlix",
    ),
}
_BY_WORD: dict[str, MedicationClass] = {
    word: cls for cls, words in _CATALOGUE.items() for word in words
}
# USAN stems: "-olol" beta-blockers, "-alol" alpha- and beta-blockers, "-dilol" vasodilating
# beta-blockers. Catches generics missing from the list above (e.g. celiprolol, oxprenolol).
_BETA_BLOCKER_STEMS = ("olol", "alol", "dilol")


def classify_medication(name: str) -> MedicationClass | None:
    """The class of a medication from its name as typed ("Metoprolol 25 mg bid", "Toprol-XL")."""
    for word in re.findall(r"[a-z]+", name.lower()):
        if word in _BY_WORD:
            return _BY_WORD[word]
        if len(word) >= 7 and word.endswith(_BETA_BLOCKER_STEMS):
            return MedicationClass.BETA_BLOCKER
    return None


def _today(info: ValidationInfo) -> date:
    """`today` from the validation context (tests, the browser's local date), else the clock."""
    context = info.context if isinstance(info.context, dict) else {}
    return context.get("today") or date.today()


class Medication(BaseModel):
    """A medication as the client reports it. The class is filled in from the name when left
    blank; `affects_hr_bp` is set for classes that change the HR/BP response, and the
    practitioner can also tick it by hand."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: RequiredText
    dose: Text = ""
    frequency: Text = ""
    medication_class: MedicationClass | None = None
    affects_hr_bp: bool = False

    @model_validator(mode="before")
    @classmethod
    def _classify(cls, data):
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = dict(data)
            if data.get("medication_class") in (None, ""):
                data["medication_class"] = classify_medication(data["name"])
            try:
                known = MedicationClass(data["medication_class"])
            except ValueError:
                return data  # reported as "Choose one of the options" by field validation
            if MEDICATION_CLASSES[known].affects_hr_bp:
                data["affects_hr_bp"] = True
        return data


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: RequiredText
    icd10: str | None = None
    since: date | None = None

    @field_validator("icd10", mode="before")
    @classmethod
    def _icd10(cls, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        code = str(value).strip().upper()
        if not re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?", code):
            raise ValueError(
                "An ICD-10 code looks like E11.9: a letter, two characters, then "
                "an optional dot and up to 4 more"
            )
        if len(code) > 3 and "." not in code:
            code = f"{code[:3]}.{code[3:]}"
        return code

    @field_validator("since")
    @classmethod
    def _since_not_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and value > _today(info):
            raise ValueError("The date a condition started cannot be in the future")
        return value


class Surgery(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: RequiredText
    performed_on: date

    @field_validator("performed_on")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > _today(info):
            raise ValueError("A surgery date cannot be in the future")
        return value


def _drop_blank(value):
    if isinstance(value, list):
        return [v for v in value if not (isinstance(v, str) and not v.strip())]
    return value


class HealthHistory(Record):
    """A client's health history. Validate with `context={"today": ...}` to check dates against
    a given day (defaults to the device clock)."""

    store: ClassVar[str] = "health_histories"

    client_id: RequiredText
    conditions: list[Condition] = Field(default_factory=list)
    surgeries: list[Surgery] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    allergies: Annotated[list[RequiredText], BeforeValidator(_drop_blank)] = Field(
        default_factory=list
    )
    notes: LongText = ""

    @property
    def hr_response_altered(self) -> bool:
        return hr_response_altered(self.medications)


def hr_response_altered(medications: Iterable[Medication | str]) -> bool:
    """Whether any medication changes the heart-rate/blood-pressure response to exercise."""
    for med in medications:
        if isinstance(med, str):
            cls = classify_medication(med)
            if cls and MEDICATION_CLASSES[cls].affects_hr_bp:
                return True
        elif med.affects_hr_bp:
            return True
    return False


def hr_advice(medications: Iterable[Medication | str]) -> str | None:
    """The plain-words advice for the session log, or None when HR targets can be used."""
    return HR_BLUNTED_ADVICE if hr_response_altered(medications) else None


# ICD-10 E10 = type 1, E11 = type 2 diabetes mellitus (the "metabolic disease" of the ACSM
# algorithm, docs/clinical.md §6.1).
_DIABETES_CODES = ("E10", "E11")
_NOT_DIABETES = ("prediabet", "pre-diabet", "pre diabet", "insipidus", "gestational")


def suggests_diabetes(history: HealthHistory) -> bool:
    """Whether a condition reads as type 1 or 2 diabetes: a prompt to tick 'has diabetes' in
    the ACSM screening, which the practitioner confirms (never set silently)."""
    return any(
        (c.icd10 or "").startswith(_DIABETES_CODES)
        or ("diabet" in c.name.lower() and not any(w in c.name.lower() for w in _NOT_DIABETES))
        for c in history.conditions
    )


# ICD-10 I05–I52: rheumatic, hypertensive, ischaemic, pulmonary and other heart disease.
_HEART_WORDS = (
    "hypertension",
    "high blood pressure",
    "heart",
    "cardiac",
    "coronary",
    "angina",
    "myocardial",
    "atrial fibrillation",
    "arrhythmia",
    "cardiomyopathy",
    "valve",
)
_NOT_HEART = ("heartburn",)


def _heart_code(code: str | None) -> bool:
    if not code or code[0] != "I" or not code[1:3].isdigit():
        return False
    return 5 <= int(code[1:3]) <= 52


def bp_check_needed(history: HealthHistory | None) -> bool:
    """Whether the session log should prompt for a resting blood pressure before exercise:
    high blood pressure or heart disease in the history (by ICD-10 code or name), or a
    medication that changes the heart-rate/blood-pressure response (docs/clinical.md §7.1,
    §8.1)."""
    if history is None:
        return False
    if hr_response_altered(history.medications):
        return True
    for c in history.conditions:
        name = c.name.lower()
        if _heart_code(c.icd10):
            return True
        if any(w in name for w in _HEART_WORDS) and not any(w in name for w in _NOT_HEART):
            return True
    return False
