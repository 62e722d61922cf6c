"""The practice's own licensed wording of the questionnaires the client answers on the tablet.

The app does not ship the published item text of licensed instruments (docs/clinical.md §8.5):
it shows short labels of its own. A practitioner who holds a licence pastes the wording of
their licensed form here (Settings → Questionnaire wording): one text per item, the
instructions, and the answer options where the instrument has them. The client's turn then
shows the practice's wording; without it, the short labels (and QuickDASH, which has no
short labels a client could answer, is not offered).

Pure domain: the instruments that take wording, the record (one, in the settings store), and
the checks of pasted wording with a message per field.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .records import Record

__all__ = [
    "INSTRUMENTS",
    "WORDING_SETTINGS_ID",
    "Instrument",
    "QuestionnaireWordings",
    "Wording",
    "WordingDraft",
    "check_wording",
    "draft_of",
    "wording_from",
]

WORDING_SETTINGS_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "medex:settings:questionnaire-wording"))

MAX_ITEM = 400  # one question (the longest published items are about 200 characters)
MAX_ANSWER = 200  # one answer option
MAX_INSTRUCTIONS = 2000
MAX_VERSION = 100

_TAG = re.compile(r"<\s*/?\s*[A-Za-z!?]")  # an HTML tag or comment, not a lone "<" in text
_YEAR = re.compile(r"\b(19|20)\d\d\b")


@dataclass(frozen=True)
class Instrument:
    """A questionnaire the client can answer on the tablet, and what its wording needs."""

    key: str  # the tablet's form key
    name: str
    items: int  # how many items (questions)
    options: int  # answer options per item (0: Yes / No, fixed)
    lowest: int  # the score of the first answer option
    owner: str  # who holds the rights, in plain words
    needs_version: bool = False  # the version year must be stored (revised every year)
    needs_options: bool = False  # the app has no answer words of its own for it

    def option_values(self) -> list[int]:
        return list(range(self.lowest, self.lowest + self.options))


INSTRUMENTS: dict[str, Instrument] = {
    i.key: i
    for i in (
        Instrument(
            "parq",
            "PAR-Q+ (page 1)",
            7,
            0,
            0,
            "Copyright of the PAR-Q+ Collaboration; a new version comes out every year.",
            needs_version=True,
        ),
        Instrument(
            "lefs", "LEFS", 20, 5, 0, "No licensing statement found: use your own copy of the form."
        ),
        Instrument(
            "odi",
            "Oswestry Disability Index (ODI)",
            10,
            6,
            0,
            "Commercial use is governed by the Mapi Research Trust's terms.",
        ),
        Instrument(
            "ndi",
            "Neck Disability Index (NDI)",
            10,
            6,
            0,
            "No commercial-software terms found: use your own copy of the form.",
        ),
        Instrument(
            "quickdash",
            "QuickDASH",
            11,
            5,
            1,
            "Commercial software needs a QuickDASH licence (Category B) from the Institute for "
            "Work & Health.",
            needs_options=True,
        ),
    )
}


class Wording(BaseModel):
    """One instrument's wording as the practice entered it."""

    model_config = ConfigDict(extra="forbid")

    version: str = ""  # edition, version year or licence reference
    instructions: str = ""
    answers: list[str] = Field(default_factory=list)  # answer options for every item, lowest first
    items: list[str] = Field(default_factory=list)  # one question per item
    item_answers: list[list[str]] = Field(default_factory=list)  # an item's own options, or []

    def answers_for(self, index: int) -> list[str]:
        """The answer options of item ``index`` (0-based): its own, else the common ones."""
        own = self.item_answers[index] if index < len(self.item_answers) else []
        return own or self.answers


class QuestionnaireWordings(Record):
    """The practice's licensed questionnaire wording, by tablet form key (one record, in the
    settings store). Checked on load as on save: a stored wording is always whole."""

    store: ClassVar[str] = "settings"

    id: str = WORDING_SETTINGS_ID
    wordings: dict[str, Wording] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _whole(self) -> QuestionnaireWordings:
        for key, wording in self.wordings.items():
            if key not in INSTRUMENTS:
                raise ValueError(f"No questionnaire {key!r} takes wording")
            problems = check_wording(key, _as_draft(wording))
            if problems:
                raise ValueError(f"{INSTRUMENTS[key].name}: {next(iter(problems.values()))}")
        return self

    def get(self, key: str) -> Wording | None:
        return self.wordings.get(key)


class WordingDraft(BaseModel):
    """Wording as pasted: each item's text is its question on the first line, then (where
    the item has its own) its answer options, one a line, lowest score first."""

    version: str = ""
    instructions: str = ""
    answers: str = ""  # the common answer options, one a line
    items: list[str] = Field(default_factory=list)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]


def _as_draft(wording: Wording) -> WordingDraft:
    return WordingDraft(
        version=wording.version,
        instructions=wording.instructions,
        answers="\n".join(wording.answers),
        items=[
            "\n".join([text, *(wording.item_answers[i] if i < len(wording.item_answers) else [])])
            for i, text in enumerate(wording.items)
        ],
    )


def _tagged(text: str) -> bool:
    return bool(_TAG.search(text))


NO_HTML = "Paste plain text only: this contains HTML tags (copy the text, not the web page's code)"


def check_wording(key: str, draft: WordingDraft) -> dict[str, str]:
    """Each problem of pasted wording, by field: ``version``, ``instructions``, ``answers``,
    ``items.<i>`` (0-based). Empty when the wording can be saved."""
    spec = INSTRUMENTS[key]
    errors: dict[str, str] = {}
    version = draft.version.strip()
    if spec.needs_version and not _YEAR.search(version):
        errors["version"] = "Enter the version year printed on your form, e.g. 2025"
    elif len(version) > MAX_VERSION:
        errors["version"] = f"Keep the version under {MAX_VERSION} characters"
    elif _tagged(version):
        errors["version"] = NO_HTML
    instructions = draft.instructions.strip()
    if len(instructions) > MAX_INSTRUCTIONS:
        errors["instructions"] = (
            f"The instructions are {len(instructions)} characters: keep them under "
            f"{MAX_INSTRUCTIONS}"
        )
    elif _tagged(instructions):
        errors["instructions"] = NO_HTML
    common = _lines(draft.answers)
    if spec.options == 0 and common:
        errors["answers"] = "This form is answered Yes or No: leave the answer options empty"
    elif common and len(common) != spec.options:
        errors["answers"] = (
            f"Enter {spec.options} answer options, one a line (you entered {len(common)})"
        )
    elif any(len(a) > MAX_ANSWER for a in common):
        errors["answers"] = f"Keep each answer option under {MAX_ANSWER} characters"
    elif any(_tagged(a) for a in common):
        errors["answers"] = NO_HTML
    if len(draft.items) != spec.items:
        errors["items"] = f"{spec.name} has {spec.items} items (you entered {len(draft.items)})"
        return errors
    for i, text in enumerate(draft.items):
        where = f"items.{i}"
        lines = _lines(text)
        if not lines:
            errors[where] = f"Paste the wording of item {i + 1}"
            continue
        question, own = lines[0], lines[1:]
        if _tagged(text):
            errors[where] = NO_HTML
        elif len(question) > MAX_ITEM:
            errors[where] = (
                f"The question is {len(question)} characters: keep it under {MAX_ITEM} (put "
                "each answer option on its own line after it)"
            )
        elif own and spec.options == 0:
            errors[where] = "Only the question here: this form is answered Yes or No"
        elif own and len(own) != spec.options:
            errors[where] = (
                f"After the question, {spec.options} answer options, one a line (you entered "
                f"{len(own)})"
            )
        elif any(len(a) > MAX_ANSWER for a in own):
            errors[where] = f"Keep each answer option under {MAX_ANSWER} characters"
        elif spec.needs_options and not own and not common:
            errors[where] = (
                f"Add this item's {spec.options} answer options after the question, or enter "
                "answer options for every item above"
            )
    return errors


def wording_from(key: str, draft: WordingDraft) -> Wording:
    """The wording to store from a draft ``check_wording`` found no problem in."""
    items: list[str] = []
    own: list[list[str]] = []
    for text in draft.items:
        lines = _lines(text)
        items.append(lines[0])
        own.append(lines[1:])
    return Wording(
        version=draft.version.strip(),
        instructions=draft.instructions.strip(),
        answers=_lines(draft.answers),
        items=items,
        item_answers=own if any(own) else [],
    )


def draft_of(wording: Wording | None) -> WordingDraft:
    """A stored wording as the form shows it (blank without one)."""
    return _as_draft(wording) if wording is not None else WordingDraft()
