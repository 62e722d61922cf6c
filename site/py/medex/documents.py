"""Physician documents: what each holds, when it is due, the scope check, and immutable
snapshots of what was sent.

Pure domain (no I/O). ``services/documents.py`` gathers the records into ``DocumentInputs``;
``view_model`` turns them into a plain, JSON-ready dict that the templates in
``templates/reports/`` render. The same dict is stored with the rendered HTML when a
document is marked as sent, so a sent document re-opens exactly as sent.

Sources: the document set and due rules are PRODUCT.md "Physician communication"; the
scope statement is docs/clinical.md §8.2; the LMN rules (physician signs, one year) are
§8.3; the CPT note is §8.4 (Medicare Benefit Policy Manual ch. 15: therapy codes are paid only
for PT/OT/SLP).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .dashboard import DashboardItem, Severity
from .home_programs import adherence
from .letters import long_date, program_duration, program_phrase, salutation, unique_lines
from .navigation import Screen
from .records import LongText, Record, RequiredText, Text, _no_control_chars
from .session_logs import billed_as_service

# ---------------------------------------------------------------------------------------------
# The document set
# ---------------------------------------------------------------------------------------------


class DocKind(StrEnum):
    INTRO_LETTER = "intro_letter"
    ASSESSMENT_SUMMARY = "assessment_summary"
    PROGRESS_REPORT = "progress_report"
    DISCHARGE_SUMMARY = "discharge_summary"
    CHANGE_IN_STATUS = "change_in_status"
    CLEARANCE_REQUEST = "clearance_request"
    LMN_DRAFT = "lmn_draft"
    SUPERBILL = "superbill"
    SESSION_LOG = "session_log"
    PROGRESS_CARD = "progress_card"
    OUTCOMES_LETTER = "outcomes_letter"


@dataclass(frozen=True)
class AuthoredField:
    name: str
    label: str
    rows: int = 2  # 1: a single line
    options: tuple[tuple[str, str], ...] = ()  # a choice instead of text


@dataclass(frozen=True)
class DocSpec:
    kind: DocKind
    title: str
    one_page: bool = False
    to_physician: bool = True  # goes to the referring provider (communication log)
    per_provider: bool = False  # about all of a provider's clients, not one client
    scope_checked: bool = True
    fields: tuple[AuthoredField, ...] = ()


RECOMMENDATIONS: dict[str, str] = {
    "continue": "Continue the exercise program as planned",
    "discharge": "Discharge: the program's goals are met",
    "refer_back": "Refer back to the physician for review before continuing",
}
_REC_OPTIONS = tuple(RECOMMENDATIONS.items())

SPECS: dict[DocKind, DocSpec] = {
    s.kind: s
    for s in (
        DocSpec(
            DocKind.INTRO_LETTER,
            "Introductory letter",
            one_page=True,
            fields=(
                AuthoredField("program_brief", "The program in brief", 3),
                AuthoredField("request", "What you ask of the physician", 2),
            ),
        ),
        DocSpec(
            DocKind.ASSESSMENT_SUMMARY,
            "Initial evaluation summary",
            one_page=True,
            fields=(
                AuthoredField("findings_function", "Findings: function", 1),
                AuthoredField("findings_strength", "Findings: strength", 1),
                AuthoredField("findings_flexibility", "Findings: flexibility / ROM", 1),
                AuthoredField("findings_stability", "Findings: stability", 1),
                AuthoredField("findings_endurance", "Findings: endurance", 1),
                AuthoredField("findings_balance", "Findings: balance", 1),
                AuthoredField("exercise_types", "Plan: exercise types", 1),
            ),
        ),
        DocSpec(
            DocKind.PROGRESS_REPORT,
            "Progress report",
            one_page=True,
            fields=(
                AuthoredField("recommendation", "Recommendation", 1, _REC_OPTIONS),
                AuthoredField("recommendation_note", "Recommendation: details", 2),
                AuthoredField("plan_changes", "Plan changes", 2),
            ),
        ),
        DocSpec(
            DocKind.DISCHARGE_SUMMARY,
            "Discharge summary",
            one_page=True,
            fields=(
                AuthoredField("home_program", "Home program", 3),
                AuthoredField("follow_up", "Follow-up recommendation", 2),
            ),
        ),
        DocSpec(
            DocKind.CHANGE_IN_STATUS,
            "Change in status report",
            one_page=True,
            fields=(
                AuthoredField("what_happened", "What happened", 3),
                AuthoredField("what_was_done", "What was done", 2),
                AuthoredField("request", "Request for physician review", 2),
            ),
        ),
        DocSpec(
            DocKind.CLEARANCE_REQUEST,
            "Medical clearance request",
            fields=(
                AuthoredField("planned_program", "The planned program", 3),
                AuthoredField("intensity", "Planned intensity", 1),
            ),
        ),
        DocSpec(
            DocKind.LMN_DRAFT,
            "Letter of medical necessity (draft for the physician to sign)",
            one_page=True,
            scope_checked=False,
            fields=(
                AuthoredField("why_needed", "Why the program is needed for the condition", 3),
                AuthoredField("expected_outcomes", "Expected outcomes", 2),
                AuthoredField("duration", "Duration", 1),
            ),
        ),
        DocSpec(
            DocKind.SUPERBILL,
            "Superbill / receipt",
            to_physician=False,
            scope_checked=False,
            fields=(
                AuthoredField("service_description", "Service description", 1),
                AuthoredField("fee_per_session", "Fee per session (leave blank for a package)", 1),
            ),
        ),
        DocSpec(DocKind.SESSION_LOG, "Session log", to_physician=True, scope_checked=False),
        DocSpec(
            DocKind.PROGRESS_CARD,
            "Your progress",
            to_physician=False,
            fields=(AuthoredField("message", "A note to the client", 2),),
        ),
        DocSpec(
            DocKind.OUTCOMES_LETTER,
            "Outcomes summary",
            per_provider=True,
            fields=(AuthoredField("note", "A note to the physician", 2),),
        ),
    )
}


CHARTS_FIELD = "charts"  # the authored value: the measure ids ticked for charts
# The documents that draw charts, and how many a document charts by default (one page: 2).
CHARTED_KINDS = frozenset(
    {DocKind.PROGRESS_REPORT, DocKind.DISCHARGE_SUMMARY, DocKind.PROGRESS_CARD}
)
DEFAULT_CHARTS = {True: 2, False: 4}  # one_page → at most


def chartable(rows: list[Any]) -> list[Any]:
    """The report rows a chart can show: at least two values over time."""
    return [r for r in rows if len(r.history) >= 2]


def charted_measures(kind: DocKind, rows: list[Any], chosen: str | None = None) -> list[str]:
    """The measures a document charts: those the practitioner ticked (``chosen``, measure
    ids separated by commas; "" = none), or by default those whose change since baseline
    reached the MCID, better or worse (a trivial change gets no chart), at most 2 on a
    one-page document and 4 otherwise. Documents without charts: none."""
    if kind not in CHARTED_KINDS:
        return []
    rows = chartable(rows)
    if chosen is not None:
        ticked = {c.strip() for c in chosen.split(",") if c.strip()}
        return [r.measure_id for r in rows if r.measure_id in ticked]
    mattered = [
        r.measure_id
        for r in rows
        if r.change is not None
        and (
            r.change.since_baseline.meaningful_improvement
            or r.change.since_baseline.meaningful_worsening
        )
    ]
    return mattered[: DEFAULT_CHARTS[SPECS[kind].one_page]]


def client_documents(screening_outcome: Any = None) -> list[DocSpec]:
    """The documents offered for one client. A medical clearance request only when the
    screening asks for clearance (or there is no screening yet): a client whose screening
    found clearance not necessary is not sent one by default."""
    return [
        s
        for s in SPECS.values()
        if not s.per_provider
        and not (
            s.kind == DocKind.CLEARANCE_REQUEST
            and screening_outcome is not None
            and not screening_outcome.needs_clearance
        )
    ]


CPT_NOTE = (  # docs/clinical.md §8.4
    "Exercise professionals generally do not bill therapy CPT codes (e.g. 97110): Medicare "
    "pays therapy codes only for services of physical or occupational therapists and "
    "speech-language pathologists (Medicare Benefit Policy Manual, ch. 15). Any code shown is "
    "for the client's own records; coverage is at the payer's discretion."
)
LMN_NOTE = (  # docs/clinical.md §8.3
    "Draft prepared by the exercise professional at the physician's request. It becomes a "
    "Letter of Medical Necessity only when reviewed, edited as needed and signed by the "
    "physician. HSA/FSA administrators usually accept it for one year from signing."
)
LMN_VALID_DAYS = 365

DEFAULT_SCOPE_STATEMENT = (  # docs/clinical.md §8.2
    "{practice} provides exercise services under the referring physician's direction. "
    "Exercise professionals do not diagnose, prescribe treatment, advise on medications, "
    "interpret medical tests or override medical restrictions; questions of diagnosis and "
    "treatment are referred to the physician."
)

# ---------------------------------------------------------------------------------------------
# Settings (paper size, scope statement, scope words, superbill options)
# ---------------------------------------------------------------------------------------------

DOCUMENT_SETTINGS_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "medex:settings:documents"))


class ScopeWord(BaseModel):
    """A word stem to flag (matched at the start of a word, any ending) and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stem: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    reason: RequiredText

    @field_validator("stem")
    @classmethod
    def _letters(cls, value: str) -> str:
        if not re.fullmatch(r"[^\W\d_][\w' -]*", value):
            raise ValueError("A scope word must start with a letter, e.g. 'diagnos'")
        return value.lower()


DEFAULT_SCOPE_WORDS: tuple[ScopeWord, ...] = tuple(
    ScopeWord(stem=s, reason=r)
    for s, r in (
        (
            "diagnos",
            "Exercise professionals do not diagnose: describe what you observed and measured, "
            "and quote the physician's diagnosis as given.",
        ),
        (
            "treat",
            "Treatment is the physician's or therapist's role: say 'exercise program' or "
            "'sessions'.",
        ),
        (
            "therap",
            "'Therapy' suggests a licensed service (physical or occupational therapy): say "
            "'exercise'.",
        ),
        (
            "prescri",
            "Exercise professionals do not prescribe treatment or medication: say 'plan', "
            "'program' or 'recommend'.",
        ),
        ("cure", "Do not claim or promise a cure: report the measured change."),
        ("heal", "Healing is a clinical outcome: report function and measured change."),
        (
            "rehabilitat",
            "'Rehabilitation' describes a clinical service: say 'reconditioning' or "
            "'exercise program'.",
        ),
        (
            "medication",
            "Do not advise on medications: report what the client told you and refer the "
            "question to the physician.",
        ),
    )
)


class DocumentSettings(Record):
    """The practitioner's document preferences (one per practice, a fixed id)."""

    store: ClassVar[str] = "settings"

    id: str = DOCUMENT_SETTINGS_ID
    paper: Literal["letter", "a4"] = "letter"
    scope_statement: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=20, max_length=1000)
    ] = DEFAULT_SCOPE_STATEMENT
    scope_words: list[ScopeWord] = Field(default_factory=lambda: list(DEFAULT_SCOPE_WORDS))
    show_npi_on_superbill: bool = True
    cpt_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=12)] = ""
    service_description: Text = "Medical exercise program (supervised exercise sessions)"

    @field_validator("cpt_code")
    @classmethod
    def _cpt(cls, value: str) -> str:
        if value and not re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{2})?", value.upper()):
            raise ValueError("A CPT code is 5 characters, e.g. 97110 (leave blank for none)")
        return value.upper()

    def statement(self, practice: str) -> str:
        return self.scope_statement.replace("{practice}", practice or "This practice")


def parse_scope_words(text: str) -> list[ScopeWord]:
    """Scope words typed one per line as ``stem: reason`` (a line without a reason gets a
    general one). Raises ValueError in plain words."""
    words: list[ScopeWord] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        stem, _, reason = line.partition(":")
        reason = reason.strip() or "Wording outside an exercise professional's scope: review it."
        try:
            words.append(ScopeWord(stem=stem, reason=reason))
        except ValueError:
            raise ValueError(
                f"Line {n}: write a word of at least 3 letters, a colon, then the reason"
            ) from None
    return words


# ---------------------------------------------------------------------------------------------
# Scope check
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeFinding:
    field: str  # the authored field (or "document")
    label: str
    word: str  # the word as written
    stem: str
    reason: str
    excerpt: str  # the sentence around it


def _pattern(words: list[ScopeWord]) -> re.Pattern[str] | None:
    if not words:
        return None
    stems = sorted({re.escape(w.stem) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(stems) + r")\w*", re.IGNORECASE)


def scope_check(texts: dict[str, tuple[str, str]], words: list[ScopeWord]) -> list[ScopeFinding]:
    """Every use of a configured word in ``texts`` (field → (label, text)), with the reason.
    Matching is case-insensitive at the start of a word: 'treat' finds 'Treatment' and
    'treated', never 'retreat'."""
    pattern = _pattern(words)
    if pattern is None:
        return []
    reasons = {w.stem: w.reason for w in words}
    found: list[ScopeFinding] = []
    for name, (label, text) in texts.items():
        for m in pattern.finditer(text or ""):
            stem = m.group(1).lower()
            start = max(0, m.start() - 40)
            end = min(len(text), m.end() + 40)
            excerpt = (
                ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
            )
            found.append(ScopeFinding(name, label, m.group(0), stem, reasons[stem], excerpt))
    return found


def highlight(text: str, words: list[ScopeWord]) -> list[tuple[str, bool]]:
    """The text cut into (piece, flagged) segments, for a template to wrap flagged pieces in
    ``<mark>`` (each piece is escaped by the template)."""
    pattern = _pattern(words)
    if pattern is None or not text:
        return [(text or "", False)]
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


# ---------------------------------------------------------------------------------------------
# Snapshots and the communication log
# ---------------------------------------------------------------------------------------------

Channel = Literal["fax", "email", "hand", "portal", "mail"]
CHANNELS: dict[str, str] = {
    "fax": "Fax",
    "email": "E-mail",
    "hand": "By hand (client)",
    "portal": "Patient portal",
    "mail": "Post",
}
CommStatus = Literal["drafted", "sent", "acknowledged"]
STATUS_LABELS: dict[str, str] = {
    "drafted": "Drafted",
    "sent": "Sent",
    "acknowledged": "Acknowledged",
}


def html_digest(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


class SentDocument(Record):
    """An immutable snapshot: the rendered HTML exactly as sent and the data it was made
    from. Never edited; a correction is a new document."""

    store: ClassVar[str] = "documents"
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)

    client_id: str = ""  # empty for a per-provider letter
    provider_id: str = ""
    kind: DocKind
    title: RequiredText
    document_date: date
    paper: Literal["letter", "a4"] = "letter"
    html: Annotated[str, StringConstraints(min_length=1, max_length=3_000_000)]
    html_sha256: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    scope_reviewed: list[str] = Field(default_factory=list)  # findings the sender accepted

    @model_validator(mode="before")
    @classmethod
    def _hash(cls, data):
        if isinstance(data, dict) and not data.get("html_sha256") and "html" in data:
            data = {**data, "html_sha256": html_digest(str(data["html"]))}
        return data

    @model_validator(mode="after")
    def _intact(self) -> SentDocument:
        if html_digest(self.html) != self.html_sha256:
            raise ValueError("This document has been changed since it was sent")
        return self


class Communication(Record):
    """One entry of a provider's communication log: drafted → sent → acknowledged."""

    store: ClassVar[str] = "communications"

    provider_id: str = ""
    client_id: str = ""
    document_id: str = ""
    kind: DocKind
    title: RequiredText
    status: CommStatus = "drafted"
    channel: Channel | None = None
    drafted_on: date
    sent_on: date | None = None
    acknowledged_on: date | None = None
    notes: LongText = ""

    @model_validator(mode="after")
    def _consistent(self) -> Communication:
        if self.status in ("sent", "acknowledged"):
            if self.sent_on is None:
                raise ValueError("Enter the date it was sent")
            if self.channel is None:
                raise ValueError("Choose how it was sent")
            if self.sent_on < self.drafted_on:
                raise ValueError("A document cannot be sent before it was drafted")
        if self.status == "acknowledged":
            if self.acknowledged_on is None:
                raise ValueError("Enter the date it was acknowledged")
            if self.sent_on is not None and self.acknowledged_on < self.sent_on:
                raise ValueError("A document cannot be acknowledged before it was sent")
        return self

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel or "", "")

    @property
    def lmn_expires_on(self) -> date | None:
        """A signed LMN (acknowledged = signed and returned) is tracked for one year."""
        if self.kind != DocKind.LMN_DRAFT or self.acknowledged_on is None:
            return None
        return self.acknowledged_on + timedelta(days=LMN_VALID_DAYS)


COMM_ERROR_FIELDS = {
    "Enter the date it was sent": "sent_on",
    "Choose how it was sent": "channel",
    "A document cannot be sent before it was drafted": "sent_on",
    "Enter the date it was acknowledged": "acknowledged_on",
    "A document cannot be acknowledged before it was sent": "acknowledged_on",
}


def acknowledge(comm: Communication, on: date) -> Communication:
    """The next step of the log (sent → acknowledged); ValueError otherwise."""
    if comm.status != "sent":
        raise ValueError("Only a sent document can be marked as acknowledged")
    return Communication.model_validate(
        {**comm.model_dump(), "status": "acknowledged", "acknowledged_on": on}
    )


# ---------------------------------------------------------------------------------------------
# Due rules (PRODUCT.md "Physician communication")
# ---------------------------------------------------------------------------------------------

INTRO_DUE_DAYS = 1  # within 24 h of the first visit
SUMMARY_DUE_DAYS = 7  # within 1 week of the first visit
PROGRESS_EVERY_DAYS = 30
FOLLOW_UP_LEAD_DAYS = 1  # in the physician's hands the day before the follow-up visit
UPCOMING_WINDOW_DAYS = 7  # shown on the dashboard as "coming up" this long before

OwedStatus = Literal["upcoming", "due", "overdue"]


@dataclass(frozen=True)
class LoopFacts:
    """What the due rules need about one client (all dates local)."""

    client_id: str
    client_name: str
    provider_id: str = ""
    provider_name: str = ""
    first_visit: date | None = None  # first attended session
    follow_up: date | None = None  # the physician's follow-up date
    active: bool = True  # program (or client) active
    discharged_on: date | None = None
    flagged: tuple[tuple[date, str], ...] = ()  # (session date, flag title) to report
    sent: tuple[tuple[str, date], ...] = ()  # (kind, sent on) already sent for this client


@dataclass(frozen=True)
class Owed:
    kind: DocKind
    client_id: str
    client_name: str
    provider_id: str
    provider_name: str
    due_on: date
    since: date  # what made it owed (first visit, last report, discharge, flag)
    status: OwedStatus
    reason: str

    @property
    def title(self) -> str:
        return SPECS[self.kind].title


def _status(due_on: date, today: date) -> OwedStatus:
    if today < due_on:
        return "upcoming"
    return "due" if today == due_on else "overdue"


def _fmt(d: date) -> str:
    return f"{d.strftime('%b')} {d.day}, {d.year}"


def _last_sent(facts: LoopFacts, *kinds: str) -> date | None:
    dates = [d for k, d in facts.sent if k in kinds]
    return max(dates) if dates else None


@dataclass(frozen=True)
class OwedCandidate:
    """A document the due rules owe from a given day on, whatever today is: what it is, the
    first day it is owed, when it is due, what made it owed and why. The reason of a change in
    status report names the flags up to today, so it holds one reason per day a flag adds to
    it (``documents_owed`` keeps the candidates owed by today and reads their reason then)."""

    kind: DocKind
    owed_from: date
    due_on: date
    since: date
    reasons: tuple[tuple[date, str], ...]  # (from this day on, the reason), first day first

    def reason_on(self, today: date) -> str:
        return next(reason for day, reason in reversed(self.reasons) if day <= today)


def owed_candidates(facts: LoopFacts) -> list[OwedCandidate]:
    """Every document the client's referring provider is owed on some day, with the first day
    it is owed, in the order ``documents_owed`` lists them (due date, then kind).

    - Introductory letter: within 24 h of the first visit (due the next day).
    - Initial evaluation summary: within a week of the first visit.
    - Progress report: every 30 days after the last progress report (or the first visit), or
      the day before the physician's follow-up date when that is sooner; while active; owed
      from a week before it is due (not before the first visit).
    - Discharge summary: at discharge, unless one was sent on or after the discharge date.
    - Change in status report: on the day of a flagged session, unless one was sent on or
      after that day.
    """
    out: list[OwedCandidate] = []

    def add(kind: DocKind, owed_from: date, due_on: date, since: date, reason: str) -> None:
        out.append(OwedCandidate(kind, owed_from, due_on, since, ((owed_from, reason),)))

    fv = facts.first_visit
    if fv is not None:
        if _last_sent(facts, DocKind.INTRO_LETTER) is None:
            add(
                DocKind.INTRO_LETTER,
                fv,
                fv + timedelta(days=INTRO_DUE_DAYS),
                fv,
                f"First visit {_fmt(fv)}: due within 24 hours",
            )
        if _last_sent(facts, DocKind.ASSESSMENT_SUMMARY) is None:
            add(
                DocKind.ASSESSMENT_SUMMARY,
                fv,
                fv + timedelta(days=SUMMARY_DUE_DAYS),
                fv,
                f"First visit {_fmt(fv)}: due within a week",
            )
        if facts.active and facts.discharged_on is None:
            last = _last_sent(facts, DocKind.PROGRESS_REPORT)
            anchor = max(last, fv) if last else fv
            due = anchor + timedelta(days=PROGRESS_EVERY_DAYS)
            why = (
                f"30 days after the last progress report ({_fmt(anchor)})"
                if last
                else f"30 days after the first visit ({_fmt(fv)})"
            )
            fu = facts.follow_up
            if fu is not None and fu > anchor:
                before = fu - timedelta(days=FOLLOW_UP_LEAD_DAYS)
                if before < due:
                    due = max(before, anchor)
                    why = f"Before the physician's follow-up on {_fmt(fu)}"
            shown = max(fv, due - timedelta(days=UPCOMING_WINDOW_DAYS))
            add(DocKind.PROGRESS_REPORT, shown, due, anchor, why)
    if facts.discharged_on is not None:
        last = _last_sent(facts, DocKind.DISCHARGE_SUMMARY)
        if last is None or last < facts.discharged_on:
            add(
                DocKind.DISCHARGE_SUMMARY,
                date.min,
                facts.discharged_on,
                facts.discharged_on,
                f"Discharged on {_fmt(facts.discharged_on)}",
            )
    last_cis = _last_sent(facts, DocKind.CHANGE_IN_STATUS)
    unreported = sorted((d, t) for d, t in facts.flagged if last_cis is None or last_cis < d)
    if unreported:
        first_day = unreported[0][0]
        reasons: list[tuple[date, str]] = []
        for i, (day, _title) in enumerate(unreported):
            if i + 1 < len(unreported) and unreported[i + 1][0] == day:
                continue  # the day's last flag: the reason from that day on names them all
            titles = list(dict.fromkeys(t for _d, t in unreported[: i + 1]))
            reason = f"Flagged on {_fmt(first_day)}: " + "; ".join(titles[:3])
            if not reasons or reasons[-1][1] != reason:
                reasons.append((day, reason))
        out.append(
            OwedCandidate(DocKind.CHANGE_IN_STATUS, first_day, first_day, first_day, tuple(reasons))
        )
    return sorted(out, key=lambda o: (o.due_on, o.kind.value))


def documents_owed(facts: LoopFacts, today: date) -> list[Owed]:
    """The documents owed to the client's referring provider on ``today``, oldest due first
    (the rules: ``owed_candidates``)."""
    return [
        Owed(
            c.kind,
            facts.client_id,
            facts.client_name,
            facts.provider_id,
            facts.provider_name,
            c.due_on,
            c.since,
            _status(c.due_on, today),
            c.reason_on(today),
        )
        for c in owed_candidates(facts)
        if c.owed_from <= today
    ]


_SEVERITY: dict[str, Severity] = {"overdue": "urgent", "due": "due", "upcoming": "info"}


def owed_severity(owed: Owed) -> Severity:
    """The severity of an owed document's dashboard item."""
    return _SEVERITY[owed.status]


def owed_severity_on(due_on: date, today: date) -> Severity:
    """The severity on ``today`` of the dashboard item of a document due on ``due_on``."""
    return _SEVERITY[_status(due_on, today)]


def owed_dashboard_items(owed: list[Owed], today: date) -> list[DashboardItem]:
    """One dashboard item per owed document: what, to whom, since when."""
    items = []
    for o in owed:
        to = f" to {o.provider_name}" if o.provider_name else " (no referring provider on file)"
        when = {
            "overdue": f"overdue since {_fmt(o.due_on)}",
            "due": "due today",
            "upcoming": f"due by {_fmt(o.due_on)}",
        }[o.status]
        link = Screen("document", {"client": o.client_id, "kind": o.kind.value})
        items.append(
            DashboardItem(
                kind="report",
                title=f"{o.title} for {o.client_name}{to}: {when}",
                detail=o.reason,
                link=link,
                link_label="Prepare",
                severity=_SEVERITY[o.status],
                since=None,
            )
        )
    return items


def lmn_expiry_items(
    comms: list[Communication], names: dict[str, str], today: date
) -> list[DashboardItem]:
    """Signed LMNs that expire within 30 days (or have expired) and have no newer one."""
    latest: dict[str, Communication] = {}
    for c in comms:
        if c.lmn_expires_on is None:
            continue
        prev = latest.get(c.client_id)
        if prev is None or (c.acknowledged_on or today) > (prev.acknowledged_on or today):
            latest[c.client_id] = c
    items = []
    for client_id, c in latest.items():
        expires = c.lmn_expires_on
        assert expires is not None
        if expires - today > timedelta(days=30):
            continue
        word = "expired on" if expires < today else "expires on"
        items.append(
            DashboardItem(
                kind="lmn",
                title=f"Letter of medical necessity for {names.get(client_id, 'a client')} "
                f"{word} {_fmt(expires)}",
                detail="Ask the physician for a renewed letter if the client uses HSA/FSA funds.",
                link=Screen("document", {"client": client_id, "kind": "lmn_draft"}),
                link_label="Draft a new one",
                severity="due" if expires >= today else "urgent",
            )
        )
    return items


# ---------------------------------------------------------------------------------------------
# View-models (plain dicts the report templates render; stored in the snapshot)
# ---------------------------------------------------------------------------------------------

NORM_WORDS = {
    "below": "Below normal",
    "within": "Within normal",
    "above": "Above normal",
    "no_norm": "No norm on file",
}
TREND_WORDS = {
    "improved": "Improved",
    "worse": "Worse",
    "no_change": "No change",
    "up": "Up",
    "down": "Down",
}


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def _decimals(row: Any) -> int:
    best = 0
    for o in row.history:
        text = f"{o.value:.3f}".rstrip("0").rstrip(".")
        best = max(best, len(text.partition(".")[2]))
    return min(best, 2)


def _norm_text(norm: Any) -> str:
    if norm is None:
        return ""
    word = getattr(norm, "words", "") or NORM_WORDS.get(norm.status, "")
    if norm.status != "no_norm" and norm.label:
        return f"{word} ({norm.label})"
    return word


def measure_row(row: Any) -> dict[str, Any]:
    """One outcome table row from an ``outcomes.ReportRow``: baseline → previous → now,
    change from baseline, whether it reaches the MCID, norm band then and now, flags."""
    dec = _decimals(row)

    def obs(o: Any) -> dict[str, str] | None:
        return {"value": _num(o.value, dec), "date": _iso(o.when)} if o is not None else None

    change_text = trend = mcid = mcid_text = sentence = ""
    if row.change is not None:
        c = row.change.since_baseline
        sign = "+" if c.difference > 0 else ("−" if c.difference < 0 else "±")
        change_text = f"{sign}{_num(abs(c.difference), dec)}"
        trend = c.trend
        sentence = c.sentence
        # Short, so that a row stays one line on a one-page document: the MCID in brackets;
        # "—" when none is on file (the table's note says so).
        if c.exceeds_mcid is None:
            mcid, mcid_text = "none", "—"
        elif c.meaningful_improvement:
            mcid, mcid_text = "improved", f"Yes (≥ {_num(c.mcid.value, dec)})"
        elif c.meaningful_worsening:
            mcid, mcid_text = "worse", f"Worse (≥ {_num(c.mcid.value, dec)})"
        else:
            mcid, mcid_text = "no", f"No ({_num(c.mcid.value, dec)})"
    norm_now = _norm_text(row.norm)
    norm_then = _norm_text(row.baseline_norm)
    return {
        "id": row.measure_id,
        "name": row.measure_name,
        "unit": row.unit,
        "direction": row.direction,
        "baseline": obs(row.baseline),
        "previous": obs(row.previous),
        "now": obs(row.current),
        "count": len(row.history),
        "change": change_text,
        "trend": trend,
        "trend_text": TREND_WORDS.get(trend, ""),
        "mcid": mcid,
        "mcid_text": mcid_text,
        "sentence": sentence,
        "norm_now": norm_now,
        "norm_now_status": row.norm.status if row.norm else "",
        "norm_then": norm_then,
        "norm_then_word": (
            (row.baseline_norm.words or NORM_WORDS.get(row.baseline_norm.status, ""))
            if row.baseline_norm
            else ""
        ),
        "norm_moved": bool(row.norm_moved),
        "flags": [f.meaning for f in row.flags],
    }


def common_dates(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The date most rows share in each column (baseline, previous, now): printed once in the
    column's heading, so that a row shows a date only where it differs."""
    out: dict[str, str] = {}
    for col in ("baseline", "previous", "now"):
        dates = [r[col]["date"] for r in rows if r.get(col)]
        if dates:
            best = max(set(dates), key=lambda d: (dates.count(d), d))
            out[col] = best if dates.count(best) * 2 >= len(dates) else ""
        else:
            out[col] = ""
    return out


def plain_row(row: dict[str, Any]) -> str:
    """The client progress card's sentence for one measure, in everyday words."""
    name, unit = row["name"], row["unit"]
    if row["now"] is None:
        return f"{name}: not measured yet."
    if row["baseline"] is None or row["count"] < 2:
        return f"{name}: {row['now']['value']} {unit} at your first assessment."
    start, now = row["baseline"]["value"], row["now"]["value"]
    text = f"{name}: {start} → {now} {unit}."
    if row["trend"] == "improved":
        text += " Better than when you started"
        text += (
            ", and by enough to make a real difference in daily life."
            if row["mcid"] == "improved"
            else "."
        )
    elif row["trend"] == "worse":
        text += " Lower than when you started: we will look at this together."
    elif row["trend"] == "no_change":
        text += " About the same as when you started."
    if row["norm_now_status"] == "within":
        text += " You are in the normal range for your age."
    return text


@dataclass
class DocumentInputs:
    """Everything a document may draw on (gathered by ``services.documents``)."""

    kind: DocKind
    today: date
    profile: Any  # records.PracticeProfile
    settings: DocumentSettings
    client: Any = None  # intake.Client
    provider: Any = None  # intake.ReferringProvider
    referral: Any = None  # intake.Referral (latest)
    history: Any = None  # health.HealthHistory
    screening: Any = None  # screening.ScreeningRecord
    clearance: Any = None  # screening.Clearance
    goals: Any = None  # intake.Goals
    outcomes: Any = None  # services.outcomes.ClientOutcomes
    logs: list[Any] = field(default_factory=list)  # session_logs.SessionLog, oldest first
    period_from: date | None = None
    period_to: date | None = None
    charts: dict[str, str] = field(default_factory=dict)  # measure id → SVG
    authored: dict[str, str] = field(default_factory=dict)
    provider_clients: list[dict[str, Any]] = field(default_factory=list)  # outcomes letter
    caseload: dict[str, Any] | None = None  # outcomes letter: caseload.CaseloadGroup.as_dict()
    number: str = ""  # receipt number
    # The device's offset from UTC at a moment (the platform's clock): signing times are
    # printed in the device's time zone. None: UTC.
    utc_offset: Callable[[datetime], timedelta] | None = None
    # The client's home exercise program (services.home_programs.program_summary) and its
    # printed versions (home_programs.HomeProgramPrint), for adherence.
    home_program: dict[str, Any] | None = None
    home_prints: list[Any] = field(default_factory=list)


def letterhead(profile: Any) -> dict[str, Any]:
    if profile is None:
        return {
            "business": "",
            "practitioner": "",
            "credentials": "",
            "display_name": "",
            "address": "",
            "phone": "",
            "email": "",
            "npi": "",
            "logo": "",
        }
    return {
        "business": profile.business_name,
        "practitioner": profile.practitioner_name,
        "credentials": profile.credentials,
        "display_name": profile.display_name,
        "address": profile.address,
        "phone": profile.phone,
        "email": profile.email or "",
        "npi": profile.npi or "",
        "logo": profile.logo_data_url or "",
    }


def _client(inp: DocumentInputs) -> dict[str, Any] | None:
    c = inp.client
    if c is None:
        return None
    ref = inp.referral
    return {
        "id": c.id,
        "name": c.full_name,
        "first_name": c.first_name,
        "dob": _iso(c.date_of_birth),
        "age": c.age(inp.today),
        "sex": c.sex.value.replace("_", " ") if c.sex.value != "not_stated" else "",
        "referral_date": _iso(ref.referred_on) if ref else "",
        "phone": c.phone,
        "address": c.address,
    }


def _provider(p: Any) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "id": p.id,
        "name": p.name,
        "display_name": p.display_name,
        "salutation": salutation(p.name, p.credentials),
        "practice": p.practice,
        "phone": p.phone,
        "fax": p.fax,
        "email": p.email or "",
        "address": p.address,
    }


def _referral(r: Any) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "date": _iso(r.referred_on),
        "diagnoses": [{"code": d.code, "description": d.description} for d in r.diagnoses],
        "reason": r.reason,
        "precautions": r.precautions,
        "frequency": r.requested_frequency,
        "duration": r.requested_duration,
        "follow_up": _iso(r.physician_follow_up),
    }


def _in_period(d: date, inp: DocumentInputs) -> bool:
    return (inp.period_from is None or d >= inp.period_from) and (
        inp.period_to is None or d <= inp.period_to
    )


def _attendance(logs: list[Any]) -> dict[str, Any]:
    counts = {"attended": 0, "cancelled": 0, "no_show": 0}
    for log in logs:
        counts[log.attendance.value] = counts.get(log.attendance.value, 0) + 1
    planned = sum(counts.values())
    rate = round(100 * counts["attended"] / planned) if planned else None
    text = (
        f"{counts['attended']} of {planned} scheduled sessions attended"
        + (f" ({rate}%)" if rate is not None else "")
        + f"; {counts['cancelled']} cancelled, {counts['no_show']} no-show"
        if planned
        else "No sessions in this period"
    )
    return {**counts, "scheduled": planned, "rate": rate, "text": text}


def _safety(logs: list[Any]) -> list[dict[str, Any]]:
    """One entry per session with a caution or stop flag or an adverse response: the flag
    titles, the readings (each once), the worst severity and the action taken."""
    out = []
    for log in logs:
        flags = [f for f in log.safety_flags if f.severity.value != "info"]
        titles = [f.title for f in flags]
        details = list(dict.fromkeys(f.detail for f in flags if f.detail))
        if log.adverse_events:
            titles.append("Adverse response")
            details.append(log.adverse_events)
        if not titles:
            continue
        hard = any(f.severity.value == "hard_stop" for f in flags)
        out.append(
            {
                "date": _iso(log.session_date),
                "titles": titles,
                "details": details,
                "severity": "hard_stop" if hard else "caution",
                "action": log.action_taken,
            }
        )
    return out


def _vitals_text(v: Any) -> str:
    if v is None:
        return ""
    parts = []
    if v.heart_rate_bpm is not None:
        parts.append(f"HR {v.heart_rate_bpm} bpm")
    if v.has_bp:
        parts.append(f"BP {v.bp_text}")
    if v.spo2_percent is not None:
        parts.append(f"SpO2 {v.spo2_percent}%")
    if v.glucose_mg_dl is not None:
        parts.append(f"glucose {v.glucose_mg_dl:g} mg/dL")
    return " · ".join(parts)


def _log_row(log: Any, utc_offset: Callable[[datetime], timedelta] | None = None) -> dict[str, Any]:
    exercises = []
    for e in log.exercises:
        dose = e.dosage.text if hasattr(e.dosage, "text") else ""
        bits = [b for b in (dose, e.rpe.text if e.rpe else "", e.modifications) if b]
        exercises.append({"name": e.exercise_name, "detail": "; ".join(bits)})
    return {
        "date": _iso(log.session_date),
        "number": log.session_number,
        "attendance": log.attendance.value,
        "attendance_reason": log.attendance_reason,
        "pre": _vitals_text(log.pre_vitals),
        "post": _vitals_text(log.post_vitals),
        "pain": log.pain,
        "exercises": exercises,
        "tolerance": log.tolerance.value.replace("_", " ") if log.tolerance else "",
        "response": log.response_notes,
        "adverse": log.adverse_events,
        "flags": [f.title for f in log.safety_flags if f.severity.value != "info"],
        "action": log.action_taken,
        "signature": (
            log.signature.local_text(utc_offset(log.signature.signed_at) if utc_offset else None)
            if log.signature
            else "Not signed"
        ),
    }


def _goals(goals: Any) -> list[dict[str, Any]]:
    if goals is None:
        return []
    return [{"activity": a.activity, "score": a.score} for a in goals.activities]


def _default_authored(inp: DocumentInputs, vm: dict[str, Any]) -> dict[str, str]:
    """Sensible starting text for each authored field, from the records."""
    ep = inp.outcomes.episode if inp.outcomes is not None else None
    program = program_phrase(ep.program.name) if ep else "an individual exercise program"
    ref = inp.referral
    freq = (ref.requested_frequency if ref else "") or "2–3 sessions a week"
    # The program the client is on sets the duration; the referral's request only without one.
    dur = (
        program_duration(ep.program.expected_weeks, ep.program.expected_sessions) if ep else ""
    ) or (ref.requested_duration if ref else "")
    name = inp.client.first_name if inp.client else "The client"
    d: dict[str, str] = {}
    k = inp.kind
    if k == DocKind.INTRO_LETTER:
        d["program_brief"] = (
            f"{name} has started {program}: supervised exercise, {freq}"
            + (f", for {dur}" if dur else "")
            + ", with objective reassessment every 4–6 weeks and a progress report to you."
        )
        d["request"] = (
            "Please let us know of any precautions, restrictions or concerns we should "
            "observe, and of any change in the client's health or in the medicines they take."
        )
    elif k == DocKind.ASSESSMENT_SUMMARY:
        d["exercise_types"] = "Strength, balance, mobility and aerobic conditioning"
    elif k == DocKind.PROGRESS_REPORT:
        crit = inp.outcomes.criteria if inp.outcomes is not None else None
        if vm.get("safety") and any(s["severity"] == "hard_stop" for s in vm["safety"]):
            d["recommendation"] = "refer_back"
        elif crit is not None and crit.overall == "met":
            d["recommendation"] = "discharge"
        else:
            d["recommendation"] = "continue"
        d["recommendation_note"] = ""
        d["plan_changes"] = ""
    elif k == DocKind.DISCHARGE_SUMMARY:
        d["home_program"] = (
            "Continue the program below at home."
            if inp.home_program
            else "Continue the home exercises reviewed at the last session, 3 times a week."
        )
        d["follow_up"] = "Reassessment offered in 3 months; routine follow-up with you."
    elif k == DocKind.CHANGE_IN_STATUS:
        flagged = vm.get("safety") or []
        d["what_happened"] = "; ".join(
            f"{long_date(date.fromisoformat(s['date']))}: "
            + ", ".join(s["titles"])
            + (f" ({'; '.join(s['details'])})" if s["details"] else "")
            for s in flagged[-3:]
        )
        d["what_was_done"] = next(
            (s["action"] for s in reversed(flagged) if s.get("action")),
            "Exercise was stopped and the client was advised to contact your office.",
        )
        d["request"] = (
            "Please review and let us know whether the client may resume exercise, and with "
            "which restrictions."
        )
    elif k == DocKind.CLEARANCE_REQUEST:
        d["planned_program"] = (
            f"{program[:1].upper()}{program[1:]}: supervised exercise, {freq}"
            + (f", for {dur}" if dur else "")
            + "."
        )
        d["intensity"] = "Light to moderate (RPE 11–13 on the 6–20 scale), progressing as tolerated"
    elif k == DocKind.LMN_DRAFT:
        dx = ", ".join(f"{x['code']} {x['description']}".strip() for x in vm["diagnoses"])
        d["why_needed"] = (
            f"A supervised exercise program is medically necessary to treat {dx or 'the condition'}"
            f" and the functional deficits listed above."
        )
        d["expected_outcomes"] = (
            "Improved strength, balance and walking endurance measured against baseline; "
            "reduced fall risk; independence in daily activities."
        )
        d["duration"] = dur or "12 months"
    elif k == DocKind.SUPERBILL:
        d["service_description"] = inp.settings.service_description
        d["fee_per_session"] = ""
    elif k == DocKind.PROGRESS_CARD:
        d["message"] = "Thank you for your hard work. Keep it up!"
    elif k == DocKind.OUTCOMES_LETTER:
        d["note"] = "Thank you for your referrals. I am glad to discuss any of these clients."
    return d


def _money(cents: int | None) -> str:
    if cents is None:
        return ""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}${whole:,}.{part:02d}"


def _cents(text: str) -> int | None:
    text = (text or "").strip().replace(",", "").removeprefix("$")
    if not text:
        return None
    try:
        value = round(float(text) * 100)
    except ValueError:
        return None
    return value if 0 <= value <= 100_000_000 else None


def _superbill(inp: DocumentInputs, vm: dict[str, Any], authored: dict[str, str]) -> dict[str, Any]:
    ep = inp.outcomes.episode if inp.outcomes is not None else None
    # Dates of service: attended sessions, except one stopped for safety unless the
    # practitioner chose to bill it (session_logs.billed_as_service).
    attended = [lg for lg in inp.logs if billed_as_service(lg) and _in_period(lg.session_date, inp)]
    fee = _cents(authored.get("fee_per_session", ""))
    lines = []
    for lg in attended:
        lines.append(
            {
                "date": _iso(lg.session_date),
                "description": authored.get("service_description") or "Exercise session",
                "fee": _money(fee) if fee is not None else "",
            }
        )
    total = None
    package = ""
    if fee is not None:
        total = fee * len(attended)
    elif ep is not None and ep.program.price_cents is not None:
        total = ep.program.price_cents
        package = f"{ep.program.name} (program fee)"
    payments = []
    paid = 0
    if ep is not None:
        for p in ep.payments:
            if _in_period(p.paid_on, inp) or fee is None:
                payments.append(
                    {
                        "date": _iso(p.paid_on),
                        "method": p.method.replace("_", "/").upper()
                        if p.method == "hsa_fsa"
                        else p.method.replace("_", " ").capitalize(),
                        "reference": p.reference,
                        "amount": _money(p.amount_cents),
                    }
                )
                paid += p.amount_cents
    return {
        "lines": lines,
        "package": package,
        "total": _money(total),
        "paid": _money(paid),
        "balance": _money(total - paid) if total is not None else "",
        "payments": payments,
        "cpt": inp.settings.cpt_code,
        "cpt_note": CPT_NOTE,
        "npi": (inp.profile.npi or "")
        if inp.profile and inp.settings.show_npi_on_superbill
        else "",
        "number": inp.number,
    }


def view_model(inp: DocumentInputs) -> dict[str, Any]:
    """The document as plain data (JSON-ready): what the template shows and the snapshot
    keeps."""
    spec = SPECS[inp.kind]
    out = inp.outcomes
    practice = inp.profile.business_name if inp.profile else ""
    logs_in_period = [lg for lg in inp.logs if _in_period(lg.session_date, inp)]
    rows = [measure_row(r) for r in out.rows] if out is not None else []
    ep = out.episode if out is not None else None
    vm: dict[str, Any] = {
        "kind": inp.kind.value,
        "title": spec.title,
        "one_page": spec.one_page,
        "date": _iso(inp.today),
        "paper": inp.settings.paper,
        "letterhead": letterhead(inp.profile),
        "client": _client(inp),
        "provider": _provider(inp.provider),
        "referral": _referral(inp.referral),
        "diagnoses": (
            [{"code": d.code, "description": d.description} for d in inp.referral.diagnoses]
            if inp.referral
            else []
        ),
        "period": {"from": _iso(inp.period_from), "to": _iso(inp.period_to)},
        "measures": rows,
        "measure_dates": common_dates(rows),
        "charts": [
            {"id": r["id"], "name": r["name"], "svg": inp.charts[r["id"]]}
            for r in rows
            if r["id"] in inp.charts
        ],
        # The measures a chart can show, and whether it is charted (the form's checkboxes).
        "chart_options": (
            [
                {"id": r.measure_id, "name": r.measure_name, "checked": r.measure_id in inp.charts}
                for r in chartable(out.rows)
            ]
            if out is not None and inp.kind in CHARTED_KINDS
            else []
        ),
        "attendance": _attendance(logs_in_period),
        # Home-program days done of those planned, beside attendance (docs/clinical.md §9.2).
        "adherence": (
            adherence(inp.logs, inp.home_prints, inp.period_from, inp.period_to).as_dict()
            if inp.home_prints
            else None
        ),
        "home_program": inp.home_program,
        "safety": _safety(logs_in_period),
        "goals": _goals(inp.goals),
        "goal_progress": [
            {
                "activity": g.activity,
                "start": g.baseline,
                "now": g.now,
                "change": g.change,
                "status": g.status,
                "status_label": g.status_label,
            }
            for g in (out.goals if out is not None else [])
        ],
        "deficits": list(inp.goals.deficits) if inp.goals else [],
        "program": (
            {
                "name": ep.program.name,
                "phrase": program_phrase(ep.program.name),  # "a post–total knee … program"
                "duration": program_duration(
                    ep.program.expected_weeks, ep.program.expected_sessions
                ),
                "start": _iso(ep.start_date),
                "expected_weeks": ep.program.expected_weeks,
                "expected_sessions": ep.program.expected_sessions,
                "reassess_days": ep.program.reassess_every_days,
                "deficits": ep.baseline_deficits,
                "discharge_date": _iso(ep.discharge_date),
                "discharge_reason": ep.discharge_reason_text,
                "status": ep.status,
            }
            if ep
            else None
        ),
        "sessions_text": out.sessions.text if out is not None and out.sessions else "",
        "criteria": (
            {
                "sentence": out.criteria.sentence,
                "results": [
                    {"text": r.text, "status": r.status, "detail": r.detail}
                    for r in out.criteria.results
                ],
            }
            if out is not None and out.criteria is not None
            else None
        ),
        "next_reassessment": next(
            (_iso(d.due_on) for d in (out.due if out is not None else []) if d.due_on), ""
        ),
        "scope_statement": inp.settings.statement(practice),
        "signature": {
            "name": inp.profile.practitioner_name if inp.profile else "",
            "credentials": inp.profile.credentials if inp.profile else "",
        },
    }
    if inp.history is not None:
        h = inp.history
        vm["history"] = {
            "conditions": [c.name for c in h.conditions],
            "surgeries": [
                f"{s.name} ({long_date(s.performed_on)})" if s.performed_on else s.name
                for s in h.surgeries
            ],
            "medications": [
                {
                    "name": " ".join(x for x in (m.name, m.dose, m.frequency) if x),
                    "affects_hr_bp": m.affects_hr_bp,
                }
                for m in h.medications
            ],
            "allergies": list(h.allergies),
        }
    else:
        vm["history"] = None
    if inp.screening is not None and inp.screening.outcome is not None:
        o = inp.screening.outcome
        parq = inp.screening.parq_result
        vm["screening"] = {
            "date": _iso(inp.screening.screened_on),
            "decision": o.label if hasattr(o, "label") else str(o.decision),
            "guidance": o.guidance,
            "explanation": o.explanation,
            "needs_clearance": bool(getattr(o, "needs_clearance", False)),
            "parq": parq.guidance if parq else "",
            "parq_yes": list(parq.yes_answers) if parq else [],
        }
    else:
        vm["screening"] = None
    c = inp.clearance
    vm["clearance"] = (
        {
            "requested": _iso(c.requested_on),
            "received": _iso(c.received_on),
            "restrictions": c.restrictions,
        }
        if c
        else None
    )
    if inp.kind == DocKind.SESSION_LOG:
        vm["logs"] = [_log_row(lg, inp.utc_offset) for lg in logs_in_period]
    if inp.kind == DocKind.PROGRESS_CARD:
        vm["plain"] = [plain_row(r) for r in rows if r["now"] is not None]
    if inp.kind == DocKind.OUTCOMES_LETTER:
        vm["provider_clients"] = inp.provider_clients
        vm["caseload"] = inp.caseload
        vm["across"] = inp.caseload["measures"] if inp.caseload else []
    # Typed wording is printed: drop stray control characters as the records do.
    typed = {k: _no_control_chars(v) if isinstance(v, str) else v for k, v in inp.authored.items()}
    authored = {**_default_authored(inp, vm), **typed}
    # Every field of the document's spec, blank unless defaulted or typed (a new document
    # needs no default wording to render).
    vm["authored"] = {f.name: authored.get(f.name, "") for f in spec.fields}
    if inp.kind == DocKind.SUPERBILL:
        vm["bill"] = _superbill(inp, vm, vm["authored"])
    if inp.kind == DocKind.PROGRESS_REPORT:
        rec = vm["authored"].get("recommendation", "continue")
        vm["recommendation"] = RECOMMENDATIONS.get(rec, RECOMMENDATIONS["continue"])
    if inp.kind == DocKind.LMN_DRAFT:
        vm["lmn_note"] = LMN_NOTE
        # The deficits of intake and of the program's baseline, each once.
        program_deficits = (vm["program"] or {}).get("deficits") or ""
        vm["deficits_all"] = unique_lines(vm["deficits"], program_deficits)
    return vm


def authored_texts(kind: DocKind, authored: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The practitioner's own wording in a document, for the scope check."""
    spec = SPECS[kind]
    return {
        f.name: (f.label, authored.get(f.name, ""))
        for f in spec.fields
        if not f.options and f.name != "fee_per_session"
    }
