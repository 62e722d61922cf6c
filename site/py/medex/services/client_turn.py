"""Use cases of the client's turn on the tablet (see ``medex.client_turn``).

Each answered page is kept in the turn (a meta value); the PAR-Q+ is saved through the
intake screening use case and the consent through consent signing when their page is
answered; the questionnaires are scored into one assessment through ``record_assessment``
when the turn ends. A refusal raises ``Refused`` keyed by the page's fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from ..assessments import Assessment
from ..client_turn import (
    ACSM_QUESTIONS,
    FORM_OF_MEASURE,
    PIN_META_KEY,
    TURN_FORMS,
    TURN_META_KEY,
    ClientTurn,
    check_page,
    go_back,
    hash_pin,
    measurements,
    named_goals,
    pin_matches,
    pin_problem,
    record_answers,
    start_turn,
)
from ..forms import Refused
from ..intake import Client, ConsentKind, Goals
from ..programs import Episode
from ..questionnaire_wording import INSTRUMENTS
from ..repository import Repository
from ..screening import PARQ_PAGE1_LABELS
from ..signing import Signer
from .intake import (
    AcsmAnswers,
    PsfsEntry,
    RecordScreening,
    SaveGoals,
    SignConsent,
    latest,
    save_goals,
    save_screening,
    sign_consent,
)
from .outcomes import RecordAssessment, record_assessment
from .questionnaire_wording import load_wordings

__all__ = [
    "AnswerPage",
    "RemovePracticePin",
    "SetPracticePin",
    "StartClientTurn",
    "answer_page",
    "end_turn",
    "leave_turn",
    "load_turn",
    "practice_pin_set",
    "remove_practice_pin",
    "set_practice_pin",
    "start_client_turn",
    "step_back",
]


async def load_turn(repo: Repository) -> ClientTurn | None:
    stored = await repo.get_meta(TURN_META_KEY)
    return ClientTurn.model_validate(stored) if stored else None


async def _keep(repo: Repository, turn: ClientTurn) -> ClientTurn:
    await repo.set_meta(TURN_META_KEY, turn.model_dump(mode="json"))
    return turn


async def practice_pin_set(repo: Repository) -> bool:
    return bool(await repo.get_meta(PIN_META_KEY))


class SetPracticePin(BaseModel):
    """A new practice PIN. Changing one needs the current PIN, or the passphrase when the
    passphrase lock is on (``passphrase_ok``: the screen's check of ``current`` as the
    passphrase; None when it is off)."""

    current: str = ""
    pin: str = ""
    confirm: str = ""
    passphrase_ok: bool | None = None


class RemovePracticePin(BaseModel):
    current: str = ""
    passphrase_ok: bool | None = None


async def _check_current(repo: Repository, current: str, passphrase_ok: bool | None) -> None:
    """Refuse unless ``current`` is the practice PIN on file (or the passphrase)."""
    stored = await repo.get_meta(PIN_META_KEY)
    if not stored:
        return
    if pin_matches(stored, current.strip()) or passphrase_ok:
        return
    if not current.strip():
        message = "Enter the current practice PIN" + (
            " or your passphrase" if passphrase_ok is not None else ""
        )
    elif passphrase_ok is not None:
        message = "This is neither the current practice PIN nor your passphrase"
    else:
        message = "This is not the current practice PIN"
    raise Refused({"current": message})


async def set_practice_pin(repo: Repository, command: SetPracticePin) -> None:
    await _check_current(repo, command.current, command.passphrase_ok)
    problem = pin_problem(command.pin.strip(), command.confirm.strip())
    if problem:
        raise Refused({"pin": problem})
    await repo.set_meta(PIN_META_KEY, hash_pin(command.pin.strip()))


async def remove_practice_pin(repo: Repository, command: RemovePracticePin) -> None:
    """Remove the PIN: the tablet can then be handed over only with the passphrase lock on."""
    if not await practice_pin_set(repo):
        raise Refused({"current": "No practice PIN is set"})
    await _check_current(repo, command.current, command.passphrase_ok)
    await repo.delete_meta(PIN_META_KEY)


class StartClientTurn(BaseModel):
    client_id: str
    forms: list[str] = []
    passphrase_on: bool = False  # encryption at rest is on: the passphrase ends the turn


async def start_client_turn(repo: Repository, command: StartClientTurn) -> ClientTurn:
    client = await repo.get(Client, command.client_id) if command.client_id else None
    if client is None:
        raise Refused({"client_id": "Choose the client"})
    if "quickdash" in command.forms and (await load_wordings(repo)).get("quickdash") is None:
        raise Refused(
            {
                "forms": "QuickDASH is shown to clients only in the wording of your licensed "
                "form: enter it first in Settings, Questionnaire wording."
            }
        )
    goals = await latest(repo, Goals, client.id) if "psfs" in command.forms else None
    activities = [a.activity for a in goals.activities] if goals else []
    turn = start_turn(client.id, command.forms, activities)
    if not command.passphrase_on and not await practice_pin_set(repo):
        raise Refused(
            {
                "forms": "Set a practice PIN first (Settings, Practice PIN), so that only you "
                "can unlock the tablet when the client has finished."
            }
        )
    return await _keep(repo, turn)


class AnswerPage(BaseModel):
    """What the client entered on the current page."""

    data: dict[str, Any] = {}
    today: date
    practice_name: str = ""


async def answer_page(
    repo: Repository, command: AnswerPage, signer: Signer | None = None
) -> ClientTurn:
    turn = await load_turn(repo)
    if turn is None or turn.current is None:
        raise Refused({"page": "This turn has ended: hand the tablet back to the practitioner"})
    page = turn.current
    if page.form == "consent":
        await sign_consent(
            repo,
            SignConsent(
                client_id=turn.client_id,
                kind=ConsentKind.INFORMED_CONSENT,
                today=command.today,
                practice_name=command.practice_name,
                agree=bool(command.data.get("agree")),
                signed_name=str(command.data.get("signed_name", "")),
                signature_svg=str(command.data.get("signature_svg", "")),
            ),
            signer=signer,
        )
        answers: dict[str, Any] = {"signed": True}
        turn = turn.model_copy(update={"done": [*turn.done, TURN_FORMS["consent"]]})
    else:
        answers = check_page(page, command.data)
    if page.form == "parq":
        wording = (await load_wordings(repo)).get("parq")
        notes = "Answered by the client on the tablet" + (
            f", in the practice's licensed wording ({INSTRUMENTS['parq'].name}, version "
            f"{wording.version})."
            if wording
            else ", in the app's short wording."
        )
        await save_screening(
            repo,
            RecordScreening(
                client_id=turn.client_id,
                today=command.today,
                parq={k: answers[k] for k in PARQ_PAGE1_LABELS},
                acsm=AcsmAnswers(
                    **{k: answers[k] for k in ACSM_QUESTIONS},
                    desired_intensity=answers["desired_intensity"],
                ),
                notes=notes,
            ),
        )
        turn = turn.model_copy(update={"done": [*turn.done, TURN_FORMS["parq"]]})
    turn = record_answers(turn, answers)
    if turn.phase == "locked":
        return await end_turn(repo, turn, command.today)
    return await _keep(repo, turn)


async def step_back(repo: Repository) -> ClientTurn | None:
    """The previous page, unless it was already saved (a signed consent, a screening)."""
    turn = await load_turn(repo)
    if turn is None or turn.current is None or turn.page == 0:
        return turn
    before = turn.pages[turn.page - 1]
    if before.form in ("consent", "parq"):
        return turn
    return await _keep(repo, go_back(turn))


async def end_turn(repo: Repository, turn: ClientTurn, today: date) -> ClientTurn:
    """Lock the turn (finished, or left untouched) and score what was answered in full."""
    found = measurements(turn)
    done = list(turn.done)
    goals = named_goals(turn)
    kept_goals = bool(goals) and await latest(repo, Goals, turn.client_id) is None
    if kept_goals:  # the activities the client named become their goals (the start)
        await save_goals(
            repo,
            SaveGoals(
                client_id=turn.client_id,
                today=today,
                activities=[PsfsEntry(activity=a, score=str(n)) for a, n in goals],
            ),
        )
    episode_id, kind = await _place(repo, turn.client_id, today) if found else (None, "")
    if goals and kind != "baseline":  # new goals start here: a later assessment re-rates them
        found = [m for m in found if m["measure_id"] != "psfs"]
    scored: list[str] = []
    if found:
        assessment = await record_assessment(
            repo,
            RecordAssessment(
                client_id=turn.client_id,
                today=today,
                episode_id=episode_id,
                kind=kind,
                assessed_on=today.isoformat(),
                measurements=found,
                notes="Answered by the client on the tablet.",
            ),
        )
        scored = [FORM_OF_MEASURE[m.measure_id] for m in assessment.measurements]
    if kept_goals and "psfs" not in scored:
        done.append(TURN_FORMS["psfs"] + " (kept as the client's goals)")
    done += [
        TURN_FORMS[f] + (" (also kept as the client's goals)" if f == "psfs" and kept_goals else "")
        for f in scored
    ]
    return await _keep(repo, turn.model_copy(update={"phase": "locked", "done": done}))


async def _place(repo: Repository, client_id: str, today: date) -> tuple[str | None, str]:
    """The client's program running today (if any) and the assessment's kind: the baseline
    when that program (or, without one, the client) has none yet, else a reassessment."""
    episodes = [
        e
        for e in await repo.find(Episode, "client_id", client_id)
        if e.is_active and e.start_date <= today
    ]
    episode = max(episodes, key=lambda e: e.start_date) if episodes else None
    episode_id = episode.id if episode else None
    earlier = await repo.find(Assessment, "client_id", client_id)
    has_baseline = any(a.episode_id == episode_id and a.kind == "baseline" for a in earlier)
    return episode_id, "reassessment" if has_baseline else "baseline"


async def leave_turn(repo: Repository, secret: str, passphrase_ok: bool | None) -> ClientTurn:
    """End the turn for the practitioner: ``passphrase_ok`` is the passphrase check when
    encryption is on (None: the practice PIN is checked here)."""
    turn = await load_turn(repo)
    if turn is None:
        raise Refused({"secret": "No client turn is running"})
    if passphrase_ok is None:
        ok = pin_matches(await repo.get_meta(PIN_META_KEY), secret.strip())
        wrong = "This is not the practice PIN. The tablet stays locked."
    else:
        ok = passphrase_ok
        wrong = "This is not the passphrase. The tablet stays locked."
    if not ok:
        raise Refused({"secret": wrong})
    await repo.delete_meta(TURN_META_KEY)
    return turn
