"""A client's status follows what happens in their care, not a button.

- **Referred**: a new client, or a returning one (a new referral after a discharge).
- **Pending clearance**: the latest screening recommends medical clearance and none received
  after it is on file (docs/clinical.md §6.5).
- **Active**: from enrolment in a program (the start of an episode of care) or the first
  signed session, whichever comes first.
- **Discharged**: when the last program in progress is discharged. A returning client starts
  a new episode (new referral → referred, enrolment → active).

The status is written in the same save as the event that moves it (one transaction), by the
use case of that event, with ``status_on`` deciding. It is stored rather than derived on every
read because the client list and the dashboard filter on it over the whole practice (derived,
it would need every client's episodes and session logs on each read).

Pure domain: no I/O.
"""

from __future__ import annotations

from enum import StrEnum

from .intake import ClientStatus

__all__ = ["StatusEvent", "manual_statuses", "status_on"]


class StatusEvent(StrEnum):
    ENROLLED = "enrolled"  # an episode of care started
    SESSION_SIGNED = "session_signed"  # an attended session was signed
    PROGRAM_DISCHARGED = "program_discharged"  # an episode was discharged
    REFERRED = "referred"  # a referral was recorded
    CLEARANCE_ASKED = "clearance_asked"  # a screening recommends clearance, none counts
    CLEARANCE_RECEIVED = "clearance_received"  # the clearance for the screening arrived


def status_on(
    event: StatusEvent,
    current: ClientStatus,
    *,
    clearance_outstanding: bool = False,
    in_program: bool = False,
) -> ClientStatus:
    """The client's status after ``event``.

    ``clearance_outstanding``: the latest screening recommends clearance and none received
    after it is on file (after the event). ``in_program``: an episode of care is still in
    progress (after the event).
    """
    if event is StatusEvent.ENROLLED:
        return ClientStatus.PENDING_CLEARANCE if clearance_outstanding else ClientStatus.ACTIVE
    if event is StatusEvent.SESSION_SIGNED:
        if clearance_outstanding:
            # Signed with a recorded reason to go ahead without the clearance: still pending.
            return ClientStatus.PENDING_CLEARANCE
        return ClientStatus.ACTIVE
    if event is StatusEvent.PROGRAM_DISCHARGED:
        return current if in_program else ClientStatus.DISCHARGED
    if event is StatusEvent.REFERRED:
        return ClientStatus.REFERRED if current is ClientStatus.DISCHARGED else current
    if event is StatusEvent.CLEARANCE_ASKED:
        if current is ClientStatus.DISCHARGED:
            return current
        return ClientStatus.PENDING_CLEARANCE
    # CLEARANCE_RECEIVED
    if current is not ClientStatus.PENDING_CLEARANCE or clearance_outstanding:
        return current
    return ClientStatus.ACTIVE if in_program else ClientStatus.REFERRED


def manual_statuses(current: ClientStatus, in_program: bool) -> list[ClientStatus]:
    """The status a practitioner may still set by hand: discharging a client who is not in a
    program (e.g. stopped coming before enrolling). Everything else follows the events."""
    if current is ClientStatus.DISCHARGED or in_program:
        return []
    return [ClientStatus.DISCHARGED]
