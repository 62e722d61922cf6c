"""Retention, earned through data: the clients at risk of dropping out, each with the next
step that keeps them (docs/clinical.md §8.6).

Clients leave "because progress feels invisible"; the early signs are in the records the
practice keeps anyway. For each client on an active program:

- **missed two sessions**: the two most recent session logs both record a cancellation or a
  no-show → call the client;
- **no session in 14 days**: nothing attended for ``QUIET_DAYS`` days (counted from the
  program's start when nothing was attended yet) → call the client;
- **package nearly used without a reassessment**: at most ``NEARLY_USED`` sessions of the
  package left and no assessment in the last ``RECENT_ASSESSMENT_DAYS`` days → reassess, then
  print the progress card so the client sees the change before the package ends.

Pure: the caller reads the records (``medex.services.home``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from .navigation import Screen
from .programs import Episode, in_episode, sessions_summary
from .session_logs import Attendance

QUIET_DAYS = 14
NEARLY_USED = 3
RECENT_ASSESSMENT_DAYS = 14

RiskKind = Literal["missed_sessions", "no_recent_session", "package_ending"]


@dataclass(frozen=True, slots=True)
class LogFact:
    """What retention needs of one session log."""

    session_date: date
    attendance: Attendance
    episode_id: str | None = None


@dataclass(frozen=True, slots=True)
class NextStep:
    label: str  # "Call", "Reassess", "Print the progress card"
    link: Screen


@dataclass(frozen=True, slots=True)
class RetentionRisk:
    client_id: str
    client_name: str
    kind: RiskKind
    title: str
    detail: str
    since: date | None
    steps: tuple[NextStep, ...]


def _call(client_id: str) -> NextStep:
    return NextStep("Call", Screen("client", {"id": client_id, "section": "details"}))


def _reassess(client_id: str) -> NextStep:
    return NextStep(
        "Reassess", Screen("assessment-new", {"client": client_id, "kind": "reassessment"})
    )


def _progress_card(client_id: str) -> NextStep:
    return NextStep(
        "Print the progress card",
        Screen("document", {"client": client_id, "kind": "progress_card"}),
    )


@dataclass(frozen=True, slots=True)
class EpisodeAttendance:
    """What retention reads of an episode's session logs (up to a day)."""

    last_two: tuple[LogFact, ...]  # the two latest sessions, oldest first
    attended: int  # sessions attended
    last_attended: date | None


def episode_attendance(
    start_date: date,
    discharge_date: date | None,
    episode_id: str,
    logs: Sequence[LogFact],
    today: date | None,
) -> EpisodeAttendance:
    """The episode's sessions (those ``in_episode``) dated up to ``today`` (None: all)."""
    span = _Span(episode_id, start_date, discharge_date)
    mine = sorted(
        (lg for lg in logs if in_episode(span, lg.episode_id, lg.session_date)),
        key=lambda lg: lg.session_date,
    )
    if today is not None:
        mine = [lg for lg in mine if lg.session_date <= today]
    attended = [lg.session_date for lg in mine if lg.attendance == Attendance.ATTENDED]
    return EpisodeAttendance(tuple(mine[-2:]), len(attended), attended[-1] if attended else None)


@dataclass(frozen=True, slots=True)
class _Span:
    id: str
    start_date: date
    discharge_date: date | None


def client_risks(
    client_id: str,
    client_name: str,
    episode: Episode,
    logs: Sequence[LogFact],
    assessment_dates: Iterable[date],
    today: date,
) -> list[RetentionRisk]:
    """The risks of one client on ``episode`` (active), from that episode's session logs."""
    seen = episode_attendance(episode.start_date, episode.discharge_date, episode.id, logs, today)
    return risks_from(client_id, client_name, episode, seen, assessment_dates, today)


def risks_from(
    client_id: str,
    client_name: str,
    episode: Episode,
    seen: EpisodeAttendance,
    assessment_dates: Iterable[date],
    today: date,
) -> list[RetentionRisk]:
    """The risks of one client on ``episode`` (active), from its attendance up to ``today``."""
    if not episode.is_active:
        return []
    package = sessions_summary(episode, seen.attended)
    return risks_of(
        client_id,
        client_name,
        episode.start_date,
        (package.remaining, package.included),
        seen,
        assessment_dates,
        today,
    )


def risks_of(
    client_id: str,
    client_name: str,
    start_date: date,
    package: tuple[int | None, int | None],
    seen: EpisodeAttendance,
    assessment_dates: Iterable[date],
    today: date,
) -> list[RetentionRisk]:
    """``risks_from`` with what it reads of the active episode: its start and its package's
    sessions ``(remaining, included)`` (None: no package)."""
    if start_date > today:
        return []
    remaining, included = package
    risks: list[RetentionRisk] = []
    last_two = seen.last_two
    if len(last_two) == 2 and all(lg.attendance != Attendance.ATTENDED for lg in last_two):
        risks.append(
            RetentionRisk(
                client_id,
                client_name,
                "missed_sessions",
                f"{client_name} missed the last two sessions",
                f"{last_two[0].session_date:%b %-d} and {last_two[1].session_date:%b %-d} were "
                "cancelled or missed. A call now shows you noticed.",
                last_two[0].session_date,
                (_call(client_id),),
            )
        )
    last_seen = seen.last_attended or start_date
    quiet = (today - last_seen).days
    if quiet >= QUIET_DAYS:
        detail = (
            f"Last attended session {last_seen:%b %-d}."
            if seen.last_attended is not None
            else f"The program started {last_seen:%b %-d} and no session was attended yet."
        )
        risks.append(
            RetentionRisk(
                client_id,
                client_name,
                "no_recent_session",
                f"No session for {client_name} in {quiet} days",
                detail + " Call to book the next one.",
                last_seen,
                (_call(client_id),),
            )
        )
    if remaining is not None and remaining <= NEARLY_USED:
        recent = [d for d in assessment_dates if 0 <= (today - d).days < RECENT_ASSESSMENT_DAYS]
        if not recent:
            left = (
                "The package is used up"
                if remaining == 0
                else f"{remaining} of {included} sessions left"
            )
            risks.append(
                RetentionRisk(
                    client_id,
                    client_name,
                    "package_ending",
                    f"{client_name}'s package is nearly used, without a recent reassessment",
                    f"{left}. Reassess and show the progress card before it ends.",
                    None,
                    (_reassess(client_id), _progress_card(client_id)),
                )
            )
    return risks
