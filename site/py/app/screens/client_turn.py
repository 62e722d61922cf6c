"""The client's turn on the tablet: the practitioner picks the forms, hands the tablet over;
the client answers one page at a time in large type; finishing (or a pause) locks the tablet
until the practitioner returns with the passphrase or the practice PIN.

While a turn runs, ``App`` renders only the ``client-turn`` screen and runs only its actions
(see ``core.CLIENT_TURN_ACTIONS``), whatever address is typed or the back button opens.
"""

from __future__ import annotations

from typing import Any

from medex.client_turn import (
    ITEM_STEMS,
    PSFS_MAX,
    SKIPPABLE_FORMS,
    TURN_FORMS,
    YES_NO_QUESTIONS,
    activity_field,
    intensity_choices,
    item_choices,
    item_definitions,
)
from medex.forms import Refused
from medex.intake import Client, ConsentKind
from medex.questionnaire_wording import INSTRUMENTS
from medex.screening import PARQ_PAGE1_LABELS
from medex.services.client_turn import (
    AnswerPage,
    StartClientTurn,
    answer_page,
    end_turn,
    leave_turn,
    load_turn,
    practice_pin_set,
    start_client_turn,
    step_back,
)
from medex.services.intake import load_consent_texts
from medex.services.questionnaire_wording import load_wordings
from medex.signing import SigningKeyError

from .. import clock
from ..core import App, View, action, route
from ..forms import fail, texts, typed
from ..render import href


def _passphrase_on(app: App) -> bool:
    return bool(app.platform.crypto_status().get("enabled"))


# -- the practitioner: choose the forms and hand the tablet over ------------------------------


@route("client-turn-setup")
async def client_turn_setup(app: App, params: dict[str, str]) -> View:
    client = await app.repo.get(Client, params.get("id", ""))
    values, errors = typed(app, "client-turn-setup", client.id if client else "")
    wordings = await load_wordings(app.repo)
    return "views/client_turn_setup.html", {
        "client": client,
        "forms": TURN_FORMS,
        "values": values,
        "errors": errors,
        "passphrase_on": _passphrase_on(app),
        "pin_set": await practice_pin_set(app.repo),
        # Forms that need the practice's licensed wording before a client can answer them.
        "unavailable": [
            k for k, i in INSTRUMENTS.items() if i.needs_options and not wordings.get(k)
        ],
        # Forms a client answers in the app's short labels (their published wording is licensed).
        "short_labels": [
            INSTRUMENTS[k].name
            for k, i in INSTRUMENTS.items()
            if not i.needs_options and not wordings.get(k)
        ],
    }


@action("client-turn-start")
async def client_turn_start(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", ""))
    chosen = [form for form in TURN_FORMS if data.get(f"form_{form}")]
    try:
        turn = await start_client_turn(
            app.repo,
            StartClientTurn(client_id=client_id, forms=chosen, passphrase_on=_passphrase_on(app)),
        )
    except Refused as exc:
        values = {"client_id": client_id, **{f"form_{f}": "1" for f in chosen}}
        fail(app, "client-turn-setup", values, exc.errors)
        return
    app.state.forms.clear()
    app.state.flash = ""
    app.state.client_turn = turn
    app.navigate("")
    app.state.focus = "turn-heading"


# -- the client: one page at a time -------------------------------------------------------------


@route("client-turn")
async def client_turn_screen(app: App, params: dict[str, str]) -> View:
    turn = app.state.client_turn
    if turn is None:  # the turn ended in another tab: back to the practice
        return "views/client_turn.html", {"turn": None}
    client = await app.repo.get(Client, turn.client_id)
    page = turn.current
    values, errors = typed(app, "client-turn")
    context: dict[str, Any] = {
        "turn": turn,
        "page": page,
        "first_name": client.first_name if client else "",
        "values": values,
        "errors": errors,
        "passphrase_on": _passphrase_on(app),
        "can_skip": False,
        "step": turn.page + 1,
        "steps": len(turn.pages),
        "can_go_back": page is not None
        and turn.page > 0
        and turn.pages[turn.page - 1].form not in ("consent", "parq"),
    }
    wording = (await load_wordings(app.repo)).get(page.form) if page is not None else None
    context["wording"] = wording
    if page is not None and page.form == "psfs":
        context.update(_psfs_context(turn, page))
    elif page is not None and page.item:
        item = next(i for i in item_definitions(page.form) if i.key == page.item)
        choices = item_choices(page.form, page.item)
        if wording is not None:  # the practice's licensed wording: every answer in words
            words = wording.answers_for(page.number - 1)
            choices = [(v, words[n] if words else w) for n, (v, w) in enumerate(choices)]
            context["item_text"] = wording.items[page.number - 1]
        context["item_label"] = item.label
        context["stems"] = ITEM_STEMS
        context["choices"] = choices
        context["answered"] = turn.answers.get(page.form, {}).get(page.item)
        context["can_skip"] = page.form in SKIPPABLE_FORMS
    elif page is not None and page.form == "parq":
        questions = dict(YES_NO_QUESTIONS)
        if wording is not None:  # the practice's licensed PAR-Q+ wording for page 1
            questions.update(zip(PARQ_PAGE1_LABELS, wording.items, strict=True))
        context["questions"] = list(questions.items())
        context["parq_keys"] = set(PARQ_PAGE1_LABELS)
        context["intensities"] = intensity_choices()
    elif page is not None and page.form == "consent":
        practice = app.state.profile.business_name if app.state.profile else ""
        texts_ = await load_consent_texts(app.repo)
        context["consent_text"] = texts_.text_for(ConsentKind.INFORMED_CONSENT, practice)
        context["today"] = clock.today()
    elif page is not None:
        context["answered"] = turn.answers.get(page.form, {})
    return "views/client_turn.html", context


def _psfs_context(turn: Any, page: Any) -> dict[str, Any]:
    """The PSFS pages: name the activities (none on file), or rate one activity 0–10."""
    answers = turn.answers.get("psfs", {})
    if not page.item:
        named = list(answers.get("activities", []))
        return {
            "activity_fields": [
                (activity_field(i), named[i] if i < len(named) else "") for i in range(PSFS_MAX)
            ]
        }
    return {
        "activity": turn.psfs_activities[page.number - 1],
        "answered": answers.get(page.item),
    }


@action("client-turn-answer")
async def client_turn_answer(app: App, data: dict[str, Any]) -> None:
    practice = app.state.profile.business_name if app.state.profile else ""
    try:
        app.state.client_turn = await answer_page(
            app.repo,
            AnswerPage(data=data, today=clock.today(), practice_name=practice),
            signer=app.platform,
        )
    except SigningKeyError as exc:
        app.state.flash = str(exc)
        return
    except Refused as exc:
        kept = texts(data, [k for k in data if k != "signature_svg"])
        fail(app, "client-turn", kept, _on_page(exc.errors))
        return
    app.state.forms.pop("client-turn", None)
    app.state.focus = "turn-heading"


@action("client-turn-skip")
async def client_turn_skip(app: App, data: dict[str, Any]) -> None:
    """Leave the current question unanswered (only where the form's scoring allows it)."""
    await client_turn_answer(app, {"skip": "1"})


def _on_page(errors: dict[str, str]) -> dict[str, str]:
    """A refusal's messages by the page's fields (the screening's ``parq.chest_pain`` →
    ``chest_pain``); any other message (a scoring refusal) is shown above the buttons."""
    out: dict[str, str] = {}
    for key, message in errors.items():
        group, _, name = key.rpartition(".")
        if not group:
            out.setdefault(key, message)
        elif group in ("parq", "acsm") and name in {*YES_NO_QUESTIONS, "desired_intensity"}:
            out.setdefault(name, message)
        else:
            out.setdefault("__all__", message)
    return out


@action("client-turn-back")
async def client_turn_back(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("client-turn", None)
    app.state.client_turn = await step_back(app.repo)
    app.state.focus = "turn-heading"


@action("client-turn-timeout")
async def client_turn_timeout(app: App, data: dict[str, Any]) -> None:
    """Left untouched: lock now, keeping (and scoring) what was answered in full."""
    turn = await load_turn(app.repo)
    if turn is None or turn.phase == "locked":
        return
    app.state.forms.pop("client-turn", None)
    app.state.client_turn = await end_turn(app.repo, turn, clock.today())


@action("client-turn-leave")
async def client_turn_leave(app: App, data: dict[str, Any]) -> None:
    secret = str(data.get("secret", ""))
    checked = await app.platform.unlock(secret) if _passphrase_on(app) and secret else None
    try:
        turn = await leave_turn(
            app.repo, secret, (checked or False) if _passphrase_on(app) else None
        )
    except Refused as exc:
        fail(app, "client-turn", {}, exc.errors)
        return
    app.state.forms.pop("client-turn", None)
    app.state.client_turn = None
    app.navigate(href("client-outcomes", {"id": turn.client_id}))
    app.state.flash = "The client's turn has ended. " + (
        "Saved: " + ", ".join(turn.done) + "." if turn.done else "Nothing was saved."
    )
