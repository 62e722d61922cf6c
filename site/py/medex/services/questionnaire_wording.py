"""Use cases of the practice's questionnaire wording (``medex.questionnaire_wording``):
save an instrument's pasted wording (refused with a message per field, nothing stored), or
remove it (the client's turn goes back to the app's short labels)."""

from __future__ import annotations

from pydantic import BaseModel

from ..forms import Refused
from ..questionnaire_wording import (
    INSTRUMENTS,
    WORDING_SETTINGS_ID,
    QuestionnaireWordings,
    WordingDraft,
    check_wording,
    wording_from,
)
from ..records import utc_now
from ..repository import Repository

__all__ = ["RemoveWording", "SaveWording", "load_wordings", "remove_wording", "save_wording"]


async def load_wordings(repo: Repository) -> QuestionnaireWordings:
    return await repo.get(QuestionnaireWordings, WORDING_SETTINGS_ID) or QuestionnaireWordings()


class SaveWording(BaseModel):
    instrument: str
    draft: WordingDraft


class RemoveWording(BaseModel):
    instrument: str


def _known(instrument: str) -> None:
    if instrument not in INSTRUMENTS:
        raise Refused({"instrument": "Choose a questionnaire from the list"})


async def _store(repo: Repository, current: QuestionnaireWordings, wordings: dict) -> None:
    """Save the wordings as an edit of the record read (its id and creation time kept)."""
    keep = {"id": current.id, "created_at": current.created_at, "updated_at": utc_now()}
    data = {k: w.model_dump() for k, w in wordings.items()}
    await repo.save(QuestionnaireWordings.model_validate({"wordings": data, **keep}))


async def save_wording(repo: Repository, command: SaveWording) -> QuestionnaireWordings:
    """Store one instrument's wording; ``Refused`` keyed ``version``, ``instructions``,
    ``answers``, ``items`` or ``items.<i>`` (0-based) when something is wrong."""
    _known(command.instrument)
    problems = check_wording(command.instrument, command.draft)
    if problems:
        raise Refused(problems)
    current = await load_wordings(repo)
    wording = wording_from(command.instrument, command.draft)
    await _store(repo, current, {**current.wordings, command.instrument: wording})
    return await load_wordings(repo)


async def remove_wording(repo: Repository, command: RemoveWording) -> QuestionnaireWordings:
    _known(command.instrument)
    current = await load_wordings(repo)
    if command.instrument not in current.wordings:
        return current
    rest = {k: v for k, v in current.wordings.items() if k != command.instrument}
    await _store(repo, current, rest)
    return await load_wordings(repo)
