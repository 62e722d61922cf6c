"""Referring providers: the directory, a provider's page (with the clients they referred)."""

from __future__ import annotations

from typing import Any

from medex.intake import Client, ReferringProvider
from medex.services.intake import PROVIDER_FIELDS, list_providers, save_provider

from ..core import App, View, action, route

FORM = "provider"


@route("providers", label="Providers", order=20)
async def providers(app: App, params: dict[str, str]) -> View:
    items = await list_providers(app.repo)
    counts: dict[str, int] = {}
    for client in await app.repo.list(Client):
        if client.provider_id:
            counts[client.provider_id] = counts.get(client.provider_id, 0) + 1
    return "views/providers.html", {"providers": items, "counts": counts}


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
    return "views/provider.html", {
        "documents": documents,
        "provider": current,
        "values": values,
        "errors": errors,
        "clients": clients,
        "editing": editing,
    }


@action("save-provider")
async def save_provider_action(app: App, data: dict[str, Any]) -> None:
    provider_id = str(data.get("provider_id", "")) or None
    result, saved = await save_provider(app.repo, data, provider_id)
    form = app.form(FORM)
    if not result.ok or saved is None:
        form.values = {**result.values, "provider_id": provider_id or ""}
        form.errors = result.errors
        first = next(iter(result.errors), "")
        app.state.focus = f"field-{first}" if first != "__all__" else ""
        return
    app.state.forms.pop(FORM, None)
    back = str(data.get("return_to", ""))
    if back.startswith("#/client?"):
        app.navigate(f"{back}&provider={saved.id}")
    else:
        app.navigate(f"#/provider?id={saved.id}")
    app.state.flash = f"{saved.name} saved."
