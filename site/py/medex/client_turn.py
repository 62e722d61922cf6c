"""The client's turn on the tablet: the practitioner hands the device to one client for a few
forms; the client sees only those forms, one page at a time; finishing (or a pause) locks the
device until the practitioner returns with the passphrase or the practice PIN.

Pure domain: the pages each form asks, checking one page's answers, the state kept across a
reload (a meta value), and the practice PIN's hash. Scoring and saving go through the
existing use cases (``medex.services.client_turn``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from .forms import Refused
from .measures import EVS_DAYS_MAX, EVS_MINUTES_MAX, ItemDef, NotComputable, get_measure, score
from .screening import INTENSITY_HELP, PARQ_PAGE1_LABELS, Intensity
from .turn_marker import IDLE_SECONDS as IDLE_SECONDS
from .turn_marker import TURN_META_KEY as TURN_META_KEY

PIN_META_KEY = "practice_pin"
PIN_ITERATIONS = 100_000
PIN_MIN_DIGITS = 4

# What the practitioner can hand over, in the order the client answers them.
TURN_FORMS: dict[str, str] = {
    "parq": "Health questions before exercise (PAR-Q+)",
    "nprs": "Pain today",
    "psfs": "Activities you find hard (PSFS)",
    "lefs": "Lower Extremity Functional Scale (LEFS)",
    "odi": "Oswestry Disability Index (ODI)",
    "ndi": "Neck Disability Index (NDI)",
    "quickdash": "Arm, shoulder and hand (QuickDASH)",
    "physical_activity": "Your usual physical activity",
    "consent": "Consent to take part in exercise",
}
# The outcome measure each scored form records (medex.measures).
TURN_MEASURES: dict[str, str] = {
    "nprs": "nprs",
    "psfs": "psfs",
    "lefs": "lefs",
    "odi": "oswestry",
    "ndi": "neck_disability_index",
    "quickdash": "quickdash",
    "physical_activity": "physical_activity",
}
FORM_OF_MEASURE: dict[str, str] = {m: f for f, m in TURN_MEASURES.items()}
# One question per page. QuickDASH is offered only with the practice's licensed wording
# (medex.questionnaire_wording): its items have no short labels a client could answer.
ITEM_FORMS = ("lefs", "odi", "ndi", "quickdash")
# Questionnaires whose own scoring accepts a skipped item (docs/clinical.md §3.5): the client
# may leave one unanswered, as on paper.
SKIPPABLE_FORMS = ("quickdash",)
PSFS_MIN, PSFS_MAX = 3, 5  # activities (docs/clinical.md §3.1)
PSFS_ACTIVITY_MAX_CHARS = 120

# The ends of each item's scale in plain words (the item wording itself is not stored:
# the labels in medex.measures are short labels).
SCALE_WORDS: dict[str, tuple[str, str]] = {
    "lefs": ("Extreme difficulty or unable", "No difficulty"),
    "odi": ("No problem", "As bad as it gets"),
    "ndi": ("No problem", "As bad as it gets"),
    "quickdash": ("", ""),  # shown only with the practice's own answer options
}
ITEM_STEMS: dict[str, str] = {
    "lefs": "Today, how much difficulty do you have with:",
    "odi": "How much does your back or leg pain affect:",
    "ndi": "How much does your neck pain affect:",
    "quickdash": "",
}

# The ACSM pre-participation questions, in words a client answers (docs/clinical.md §6.1).
ACSM_QUESTIONS: dict[str, str] = {
    "exercises_regularly": "Have you done planned exercise of at least moderate effort, "
    "30 minutes or more on 3 or more days a week, for the last 3 months?",
    "known_cmr_disease": "Do you have known heart disease, diabetes or kidney disease?",
    "symptomatic": "Do you have chest pain, shortness of breath, dizziness, ankle swelling, a "
    "racing heart or leg pain on walking?",
}
YES_NO_QUESTIONS: dict[str, str] = {**PARQ_PAGE1_LABELS, **ACSM_QUESTIONS}


@dataclass(frozen=True)
class Page:
    """One screen the client answers: a whole short form, or one item of a questionnaire."""

    form: str
    item: str = ""  # the item's key for a one-question page
    number: int = 0  # 1-based place of the item in its form
    of: int = 0

    @property
    def title(self) -> str:
        return TURN_FORMS[self.form]


def psfs_item(index: int) -> str:
    """The PSFS item key of activity ``index`` (0-based), as ``medex.goal_progress`` reads it."""
    return f"psfs_{index + 1:02d}"


def pages_for(
    forms: list[str], psfs_activities: list[str] | None = None, psfs_ask: bool = False
) -> list[Page]:
    """The pages of the chosen forms. The PSFS: a page where the client names their
    activities (``psfs_ask``: none on file yet), then one page per activity to rate."""
    pages: list[Page] = []
    for form in forms:
        if form in ITEM_FORMS:
            items = item_definitions(form)
            pages += [Page(form, it.key, i, len(items)) for i, it in enumerate(items, 1)]
        elif form == "psfs":
            named = list(psfs_activities or [])
            if psfs_ask:
                pages.append(Page(form))
            pages += [Page(form, psfs_item(i), i + 1, len(named)) for i in range(len(named))]
        else:
            pages.append(Page(form))
    return pages


def item_definitions(turn_form: str) -> tuple[ItemDef, ...]:
    return get_measure(TURN_MEASURES[turn_form]).items


def item_choices(turn_form: str, item: str) -> list[tuple[int, str]]:
    """The item's scale as (value, words): the ends named, the steps between numbered."""
    definition = next(i for i in item_definitions(turn_form) if i.key == item)
    low, high = SCALE_WORDS[turn_form]
    return [
        (v, low if v == definition.min else high if v == definition.max else "")
        for v in range(definition.min, definition.max + 1)
    ]


def intensity_choices() -> list[tuple[str, str]]:
    return [(i.value, INTENSITY_HELP[i].split(":")[0]) for i in Intensity]


class ClientTurn(BaseModel):
    """A turn in progress (kept as a meta value, so a reload cannot leave it)."""

    client_id: str
    forms: list[str]
    page: int = 0
    answers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    phase: Literal["answering", "locked"] = "answering"
    done: list[str] = Field(default_factory=list)  # what was saved, in the client's words
    # The PSFS activities re-rated (the client's goals), or named by the client on the tablet
    # (``psfs_ask``: no goals on file when the turn began).
    psfs_activities: list[str] = Field(default_factory=list)
    psfs_ask: bool = False

    @property
    def pages(self) -> list[Page]:
        return pages_for(self.forms, self.psfs_activities, self.psfs_ask)

    @property
    def current(self) -> Page | None:
        pages = self.pages
        return pages[self.page] if self.phase == "answering" and self.page < len(pages) else None


def start_turn(
    client_id: str, forms: list[str], psfs_activities: list[str] | None = None
) -> ClientTurn:
    """A turn for the chosen forms, in the practice order. ``psfs_activities``: the client's
    goals on file (re-rated); without them the client names their activities first."""
    chosen = [f for f in TURN_FORMS if f in forms]
    if not client_id:
        raise Refused({"client_id": "Choose the client"})
    if not chosen:
        raise Refused({"forms": "Tick at least one form for the client to fill in"})
    activities = list(psfs_activities or []) if "psfs" in chosen else []
    return ClientTurn(
        client_id=client_id,
        forms=chosen,
        psfs_activities=activities,
        psfs_ask="psfs" in chosen and not activities,
    )


def _yes_no(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(str(value or "").strip().lower())


def _whole(value: Any, low: int, high: int, what: str) -> int:
    text = str(value or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"Enter {what} from {low} to {high}")
    return int(text)


def check_page(page: Page, data: dict[str, Any]) -> dict[str, Any]:
    """One page's answers as stored, or ``Refused`` naming each unanswered question."""
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {}
    if page.form == "psfs" and not page.item:
        return _check_activities(data)
    if page.form == "psfs":
        try:
            answers[page.item] = _whole(data.get(page.item), 0, 10, "")
        except ValueError:
            errors[page.item] = "Choose a number from 0 (unable) to 10 (as able as before)"
    elif page.item:
        definition = next(i for i in item_definitions(page.form) if i.key == page.item)
        if page.form in SKIPPABLE_FORMS and data.get("skip"):
            answers[page.item] = None
        else:
            try:
                answers[page.item] = _whole(data.get(page.item), definition.min, definition.max, "")
            except ValueError:
                errors[page.item] = "Choose one answer"
    elif page.form == "parq":
        for key in YES_NO_QUESTIONS:
            answer = _yes_no(data.get(key))
            if answer is None:
                errors[key] = "Answer Yes or No"
            answers[key] = answer
        intensity = str(data.get("desired_intensity", ""))
        if intensity not in {i.value for i in Intensity}:
            errors["desired_intensity"] = "Choose how hard you would like to exercise"
        answers["desired_intensity"] = intensity
    elif page.form == "nprs":
        try:
            answers["value"] = _whole(data.get("value"), 0, 10, "")
        except ValueError:
            errors["value"] = "Choose a number from 0 (no pain) to 10 (worst pain imaginable)"
    elif page.form == "physical_activity":
        for key, high, what in (
            ("days_per_week", EVS_DAYS_MAX, "the days"),
            ("minutes_per_day", EVS_MINUTES_MAX, "the minutes"),
        ):
            try:
                answers[key] = _whole(data.get(key), 0, high, what)
            except ValueError as exc:
                errors[key] = str(exc)
    if errors:
        raise Refused(errors)
    return answers


def activity_field(index: int) -> str:
    """The field of the ``index``-th (0-based) activity line on the naming page."""
    return f"activity_{index + 1}"


def _check_activities(data: dict[str, Any]) -> dict[str, Any]:
    """The naming page of the PSFS: 3 to 5 activities, in the client's words."""
    typed = [str(data.get(activity_field(i)) or "").strip() for i in range(PSFS_MAX)]
    errors: dict[str, str] = {}
    for i, name in enumerate(typed):
        if len(name) > PSFS_ACTIVITY_MAX_CHARS:
            errors[activity_field(i)] = (
                f"Please keep it shorter (under {PSFS_ACTIVITY_MAX_CHARS} letters)"
            )
    named = [name for name in typed if name]
    if len(named) < PSFS_MIN:
        first_blank = next(i for i, name in enumerate(typed) if not name)
        errors.setdefault(
            activity_field(first_blank),
            f"Please write at least {PSFS_MIN} activities ({len(named)} written so far)",
        )
    if errors:
        raise Refused(errors)
    return {"activities": named}


def record_answers(turn: ClientTurn, answers: dict[str, Any]) -> ClientTurn:
    """The turn after the current page was answered (the next page, or locked at the end)."""
    page = turn.current
    assert page is not None
    update: dict[str, Any] = {}
    before = turn.answers.get(page.form, {})
    if page.form == "psfs" and not page.item:  # the activities named: rate them next
        named = list(answers["activities"])
        if named != turn.psfs_activities:  # renamed after going back: rate them afresh
            before = {}
        update["psfs_activities"] = named
    merged = {**turn.answers, page.form: {**before, **answers}}
    following = turn.page + 1
    moved = turn.model_copy(update={**update, "answers": merged, "page": following})
    locked = following >= len(moved.pages)
    return moved.model_copy(update={"phase": "locked" if locked else "answering"})


def go_back(turn: ClientTurn) -> ClientTurn:
    """The previous page (answers kept), within the questions not yet saved."""
    return turn.model_copy(update={"page": max(0, turn.page - 1)})


def measurements(turn: ClientTurn) -> list[dict[str, Any]]:
    """The answered measures as ``RecordAssessment`` measurement entries."""
    found: list[dict[str, Any]] = []
    for form in turn.forms:
        answers = turn.answers.get(form)
        if not answers:
            continue
        if form in ITEM_FORMS:
            keys = [i.key for i in item_definitions(form)]
            if _scorable(form, {k: answers[k] for k in keys if k in answers}, len(keys)):
                items = {k: answers.get(k) for k in keys}
                found.append({"measure_id": TURN_MEASURES[form], "items": items})
        elif form == "psfs" and psfs_ratings(turn):
            found.append({"measure_id": "psfs", "items": psfs_ratings(turn)})
        elif form == "nprs" and "value" in answers:
            found.append({"measure_id": "nprs", "value": answers["value"]})
        elif form == "physical_activity" and "minutes_per_day" in answers:
            protocol = {k: answers[k] for k in ("days_per_week", "minutes_per_day")}
            found.append({"measure_id": "physical_activity", "protocol": protocol})
    return found


def _scorable(turn_form: str, answered: dict[str, Any], of: int) -> bool:
    """Whether a questionnaire's answers are scored: every page answered (a skipped item
    counts as answered), or, for a form the client may skip in, what its scoring accepts
    (QuickDASH: 10 of 11, docs/clinical.md §3.5)."""
    if turn_form not in SKIPPABLE_FORMS and len(answered) < of:
        return False
    try:
        score(TURN_MEASURES[turn_form], answered)
    except NotComputable:
        return False
    return True


def psfs_ratings(turn: ClientTurn) -> dict[str, int]:
    """Every PSFS activity's rating (``psfs_01`` …), or {} until each one is rated."""
    answers = turn.answers.get("psfs", {})
    keys = [psfs_item(i) for i in range(len(turn.psfs_activities))]
    if not PSFS_MIN <= len(keys) <= PSFS_MAX or any(answers.get(k) is None for k in keys):
        return {}
    return {k: int(answers[k]) for k in keys}


def named_goals(turn: ClientTurn) -> list[tuple[str, int]]:
    """The activities the client named and rated on the tablet (their goals, to keep), or []
    when the activities came from the goals on file or are not all rated."""
    ratings = psfs_ratings(turn)
    if not turn.psfs_ask or not ratings:
        return []
    return [(name, ratings[psfs_item(i)]) for i, name in enumerate(turn.psfs_activities)]


# -- the practice PIN (when no passphrase is set) ------------------------------------------------


def _pbkdf2_sha256(pin: str, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SHA256 (RFC 8018), one 32-byte block; hashlib's when the runtime has it."""
    secret = pin.encode()
    fast = getattr(hashlib, "pbkdf2_hmac", None)
    if fast is not None:
        try:
            return fast("sha256", secret, salt, iterations)
        except (ValueError, TypeError):  # no OpenSSL backend in this runtime
            pass
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret  # HMAC's long keys
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))

    def prf(message: bytes) -> bytes:
        i, o = inner.copy(), outer.copy()
        i.update(message)
        o.update(i.digest())
        return o.digest()

    block = prf(salt + b"\0\0\0\1")
    result = int.from_bytes(block, "big")
    for _ in range(iterations - 1):
        block = prf(block)
        result ^= int.from_bytes(block, "big")
    return result.to_bytes(32, "big")


def pin_problem(pin: str, confirm: str) -> str:
    if not pin.isdigit() or len(pin) < PIN_MIN_DIGITS:
        return f"Use at least {PIN_MIN_DIGITS} digits"
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return "Choose digits that are not all the same or in a row"
    if pin != confirm:
        return "The two PINs are not the same"
    return ""


def hash_pin(pin: str, salt: bytes | None = None) -> dict[str, Any]:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _pbkdf2_sha256(pin, salt, PIN_ITERATIONS)
    return {"salt": salt.hex(), "iterations": PIN_ITERATIONS, "hash": digest.hex()}


def pin_matches(stored: dict[str, Any] | None, pin: str) -> bool:
    if not stored or not pin:
        return False
    digest = _pbkdf2_sha256(pin, bytes.fromhex(stored["salt"]), int(stored["iterations"]))
    return hmac.compare_digest(digest.hex(), str(stored["hash"]))
