"""Settings → consent texts: the wording clients sign (informed consent, authorisation)."""

from __future__ import annotations

from typing import Any

from medex.forms import Refused
from medex.intake import CONSENT_LABELS, DEFAULT_CONSENT_TEXTS, ConsentKind
from medex.services.intake import load_consent_texts, save_consent_texts

from ..core import App, View, action, route
from ..forms import refuse
from ..intake_form import bind_consent_texts

FORM = "consent-texts"


@route("consent-texts")
async def consent_texts(app: App, params: dict[str, str]) -> View:
    form = app.state.forms.get(FORM)
    if form and form.values:
        values, errors = form.values, form.errors
    else:
        texts = await load_consent_texts(app.repo)
        values = {k.value: getattr(texts, k.value) for k in ConsentKind}
        errors = {}
    return "views/consent_texts.html", {
        "values": values,
        "errors": errors,
        "labels": {k.value: v for k, v in CONSENT_LABELS.items()},
    }


@action("save-consent-texts")
async def save_consent_texts_action(app: App, data: dict[str, Any]) -> None:
    if data.get("restore_defaults"):
        data = {k.value: v for k, v in DEFAULT_CONSENT_TEXTS.items()}
    bound = bind_consent_texts(data)
    try:
        await save_consent_texts(app.repo, bound.command)
    except Refused as exc:
        refuse(app, FORM, bound.command.model_dump(), exc, bound.field)
        return
    app.state.forms.pop(FORM, None)
    app.state.flash = "Consent texts saved. Consents already signed keep the text signed."
