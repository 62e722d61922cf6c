"""Practice set-up, until referral-ready: the practice's own onboarding (not a client's).

A physician refers to a practice that is easy to refer to: letterhead and contact details on
every report, consent wording, an honest scope statement, outcome-based programs with prices
and a reassessment cadence, referral partners who have been introduced to the practice,
records that are backed up, and signed session logs (docs/clinical.md §8.6).
Each step's done-ness is computed from the records (``SetupFacts``), never ticked by hand, and
each names the screen where it is done. The home screen shows the progress until every step
is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from .navigation import Screen

BACKUP_ROUTINE_DAYS = 7  # a backup in the last week counts as a routine


@dataclass(frozen=True, slots=True)
class SetupFacts:
    """What the checklist reads from the records (``medex.services.home.setup_facts``)."""

    profile_letterhead: bool = False  # business name, address and a phone or email
    consent_texts_saved: bool = False
    scope_statement_saved: bool = False
    programs_priced: int = 0  # programs offered (not archived) with a price
    programs_saved: int = 0  # programs the practitioner reviewed and saved (cadence included)
    referral_partners: int = 0
    introductions_sent: int = 0  # letters sent to referral partners
    days_since_backup: int | None = None  # None: never backed up
    signed_sessions: int = 0


@dataclass(frozen=True, slots=True)
class SetupStep:
    key: str
    title: str
    why: str
    done: bool
    link: Screen
    link_label: str


@dataclass(frozen=True, slots=True)
class SetupChecklist:
    steps: tuple[SetupStep, ...]

    @property
    def done(self) -> int:
        return sum(s.done for s in self.steps)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def next_step(self) -> SetupStep | None:
        return next((s for s in self.steps if not s.done), None)


def setup_checklist(f: SetupFacts) -> SetupChecklist:
    backup_ok = f.days_since_backup is not None and f.days_since_backup <= BACKUP_ROUTINE_DAYS
    steps = (
        SetupStep(
            "profile",
            "Practice profile and letterhead",
            "Your business name, address and a phone or email head every report.",
            f.profile_letterhead,
            Screen("settings"),
            "Edit the profile",
        ),
        SetupStep(
            "consent",
            "Consent texts",
            "Review the informed consent and the authorisation to talk to the physician "
            "that clients sign.",
            f.consent_texts_saved,
            Screen("consent-texts"),
            "Review consent texts",
        ),
        SetupStep(
            "scope",
            "Scope statement",
            "The short statement of what you do and do not do, printed on every document.",
            f.scope_statement_saved,
            Screen("document-settings"),
            "Review the scope statement",
        ),
        SetupStep(
            "prices",
            "Programs with prices",
            "Sell outcome-based programs, not sessions: give at least one program its price.",
            f.programs_priced > 0,
            Screen("programs"),
            "Set program prices",
        ),
        SetupStep(
            "cadence",
            "Reassessment cadence",
            "Review and save a program's reassessment interval, so reassessments and "
            "progress reports fall due on their own.",
            f.programs_saved > 0,
            Screen("programs"),
            "Review programs",
        ),
        SetupStep(
            "partners",
            "Referral partners",
            "Enter the physicians and clinics you work with or want to work with.",
            f.referral_partners > 0,
            Screen("provider"),
            "Add a referral partner",
        ),
        SetupStep(
            "introductions",
            "Introduction letters sent",
            "A physician refers to a practice they know: send each partner a letter.",
            f.introductions_sent > 0,
            Screen("providers"),
            "Open referral partners",
        ),
        SetupStep(
            "backup",
            "A backup routine",
            f"Your records live only on this device: back up at least every "
            f"{BACKUP_ROUTINE_DAYS} days.",
            backup_ok,
            Screen("data"),
            "Back up now",
        ),
        SetupStep(
            "signed_session",
            "First signed session log",
            "Objective, signed session logs are what you show a physician.",
            f.signed_sessions > 0,
            Screen("session-start"),
            "Log a session",
        ),
    )
    return SetupChecklist(steps)


# The letters that introduce the practice to a referral partner: the introductory letter sent
# when a client starts and the outcomes summary letter (counted once sent or acknowledged).
INTRODUCTION_KINDS = frozenset({"intro_letter", "outcomes_letter"})
