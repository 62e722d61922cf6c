"""Referring providers: the directory, a provider's page (with the clients they referred)."""

from __future__ import annotations

from typing import Any

from medex.forms import Refused
from medex.intake import Client, ReferringProvider
from medex.services.intake import PROVIDER_FIELDS, save_provider

from .. import clock
from ..core import App, View, action, route
from ..forms import refuse, texts
from ..intake_form import bind_provider

FORM = "provider"


@route("providers", label="Providers", order=20)
async def providers(app: App, params: dict[str, str]) -> View:
    from medex.partners import STAGE_LABELS
    from medex.services.partners import load_partner_settings, partners

    from .partners import SETTINGS_FORM

    items = await partners(app.repo, clock.today())
    stage = params.get("stage", "")
    settings = await load_partner_settings(app.repo)
    form = app.state.forms.get(SETTINGS_FORM)
    return "views/providers.html", {
        "partners": [p for p in items if not stage or p.status.stage.value == stage],
        "all_count": len(items),
        "stage": stage,
        "stages": [
            (s.value, label, sum(p.status.stage is s for p in items))
            for s, label in STAGE_LABELS.items()
        ],
        "settings_values": form.values
        if form
        else {"dormant_after_months": str(settings.dormant_after_months)},
        "settings_errors": form.errors if form else {},
        "today": clock.today(),
    }


@route("provider")
async def provider(app: App, params: dict[str, str]) -> View:
    provider_id = params.get("id", "")
    current = await app.repo.get(ReferringProvider, provider_id) if provider_id else None
    form = app.state.forms.get(FORM)
    if form and form.values and form.values.get("provider_id", "") == (provider_id or ""):
        values, errors = form.values, form.errors
    else:
        values = {k: (getattr(current, k) or "") if current else "" for k in PROVIDER_FIELDS}
        errors = {}
    values = {**values, "provider_id": current.id if current else ""}
    clients = []
    if current:
        clients = sorted(
            [c for c in await app.repo.list(Client) if c.provider_id == current.id],
            key=lambda c: c.sort_name,
        )
    # Opened from a client's referral ("Add a provider"): go back there after saving.
    for_client = params.get("client", "")
    values["return_to"] = f"#/client?id={for_client}&section=referral" if for_client else ""
    editing = current is None or params.get("edit") == "1" or bool(errors)
    if current is not None:
        from .documents import provider_documents

        documents = await provider_documents(app, current)
    else:
        documents = None
    pipeline = await _pipeline(app, current) if current is not None else None
    return "views/provider.html", {
        "pipeline": pipeline,
        "documents": documents,
        "provider": current,
        "values": values,
        "errors": errors,
        "clients": clients,
        "editing": editing,
    }


async def _pipeline(app: App, provider: ReferringProvider) -> dict[str, Any]:
    """The partner's stage, follow-up, outreach log (with its form) and reports owed."""
    from medex.services.documents import owed_documents
    from medex.services.partners import outreach_log, owed_to, partner

    from .partners import OUTREACH_FORM, outreach_methods

    today = clock.today()
    form = app.state.forms.get(OUTREACH_FORM)
    if form and form.values.get("provider_id") == provider.id:
        values, errors = form.values, form.errors
    else:
        values, errors = {"contacted_on": today.isoformat(), "method": "call"}, {}
    return {
        "partner": await partner(app.repo, provider.id, today),
        "log": await outreach_log(app.repo, provider.id),
        "owed": owed_to(await owed_documents(app.repo, today), provider.id, today),
        "methods": outreach_methods(),
        "typed": values,
        "errors": errors,
        "today": today,
    }


@action("save-provider")
async def save_provider_action(app: App, data: dict[str, Any]) -> None:
    bound = bind_provider(data)
    try:
        saved = await save_provider(app.repo, bound.command)
    except Refused as exc:
        typed = {**texts(data, PROVIDER_FIELDS), "provider_id": bound.command.provider_id}
        refuse(app, FORM, typed, exc, bound.field)
        return
    app.state.forms.pop(FORM, None)
    back = str(data.get("return_to", ""))
    if back.startswith("#/client?"):
        app.navigate(f"{back}&provider={saved.id}")
    else:
        app.navigate(f"#/provider?id={saved.id}")
    app.state.flash = f"{saved.name} saved."
