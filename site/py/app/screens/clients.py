"""Clients: the list (search, filters, who is not ready), a new client, and the client's page
with its intake sections (details, referral, health history, screening, clearance, consent,
goals, onboarding checklist)."""

from __future__ import annotations

from typing import Any

from medex.forms import Refused
from medex.health import MEDICATION_CLASSES, suggests_diabetes
from medex.intake import (
    SEX_LABELS,
    STATUS_LABELS,
    Client,
    ClientStatus,
    ConsentKind,
)
from medex.services.client_list import client_list
from medex.services.intake import (
    CLIENT_FIELDS,
    REFERRAL_FIELDS,
    ChangeStatus,
    change_status,
    consent_rows,
    list_providers,
    record_referral,
    save_clearance,
    save_client,
    save_goals,
    save_health_history,
    save_screening,
    sign_consent,
)
from medex.signing import CHECK_LABELS, SigningKeyError

from .. import clock
from .. import icd10_picker as picker
from ..client_header import SECTIONS, client_header
from ..core import App, FormState, View, action, route
from ..forms import refuse, texts, typed
from ..intake_form import (
    SCREENING_LABELS,
    SEARCH_FIELDS,
    bind_clearance,
    bind_client,
    bind_consent,
    bind_goals,
    bind_history,
    bind_referral,
    bind_screening,
    history_row_counts,
    list_filters,
    row_count,
    saved_values,
)

# -- the list ---------------------------------------------------------------------------------

LIST_ROWS = 100  # rows shown until "Show all" (a search narrows the list instead)


@route("clients", label="Clients", order=10)
async def clients(app: App, params: dict[str, str]) -> View:
    if any(params.get(k) for k in SEARCH_FIELDS):
        # Opened from a link with filters (e.g. the dashboard's "not ready"): the link wins.
        app.state.forms.pop("client-search", None)
    search = app.state.forms.get("client-search")
    filters = list_filters(params, search.values if search else {})
    show_all = params.get("all") == "1"
    found = await client_list(
        app.repo,
        filters["q"],
        filters["status"],
        filters["provider"],
        filters["ready"] == "no",
        limit=None if show_all else LIST_ROWS,
    )
    providers = await list_providers(app.repo)
    return "views/clients.html", {
        "clients": found.clients,
        "total": found.total,
        "matches": found.matches,
        # "Show all": the same search, every match (a link: it can be opened in a new tab).
        "show_all": {**{k: v for k, v in filters.items() if v}, "all": "1"}
        if found.matches > len(found.clients)
        else None,
        "ready": found.ready,
        "filters": filters,
        "providers": providers,
        "provider_names": {p.id: p.display_name for p in providers},
        "statuses": STATUS_LABELS,
        "today": clock.today(),
    }


@action("search-clients")
async def search_clients(app: App, data: dict[str, Any]) -> None:
    app.state.forms["client-search"] = FormState(values=texts(data, SEARCH_FIELDS))
    app.navigate("#/clients")  # the search form now holds the filters, not the link


@action("clear-client-search")
async def clear_client_search(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("client-search", None)
    app.navigate("#/clients")


# -- new client -------------------------------------------------------------------------------


@route("client-new")
async def client_new(app: App, params: dict[str, str]) -> View:
    values, errors = typed(app, "client", "")
    return "views/intake/client_new.html", {
        "values": values or {k: "" for k in CLIENT_FIELDS},
        "errors": errors,
        "sexes": SEX_LABELS,
    }


@action("save-client")
async def save_client_action(app: App, data: dict[str, Any]) -> None:
    bound = bind_client(data, clock.today())
    client_id = bound.command.client_id
    try:
        client = await save_client(app.repo, bound.command)
    except Refused as exc:
        refuse(app, "client", {**data, "client_id": client_id}, exc, bound.field)
        return
    app.state.forms.pop("client", None)
    if client_id:
        app.state.flash = f"{client.full_name}'s details saved."
    else:
        app.navigate(f"#/client?id={client.id}&section=referral")
        app.state.flash = f"{client.full_name} added. Next: record the referral."


# -- the client's page ------------------------------------------------------------------------


@route("client")
async def client_page(app: App, params: dict[str, str]) -> View:
    client_id = params.get("id", "")
    section = params.get("section", "details")
    if section not in dict(SECTIONS):
        section = "details"
    providers = await list_providers(app.repo)
    header = await client_header(app, client_id, section, providers=providers)
    if header is None:
        return "views/intake/client_missing.html", {}
    client, file = header["client"], header["file"]
    context: dict[str, Any] = {
        **header,
        "providers": providers,
        "next_statuses": await _next_statuses(app, client),
    }
    values, errors = typed(app, "client" if section == "details" else section, client.id)
    was_typed = bool(values)
    if not was_typed:  # the section's form filled from the saved records
        values = saved_values(section, file, clock.today(), params.get("provider", ""))
    elif section == "referral" and params.get("provider") and not values.get("provider_id"):
        values = {**values, "provider_id": params["provider"]}  # just added from here
    if section == "details":
        context["sexes"] = SEX_LABELS
    elif section == "referral":
        context.update(picker.picker_context(app, client.id))
        from .focus import focus_context  # the referral focus flag (outside your programs)

        context.update(await focus_context(app, context["chosen"], file.referrals))
    elif section == "history":
        rows = app.state.forms.get(f"rows:{client.id}")
        context["row_counts"] = history_row_counts(values, was_typed, rows.values if rows else {})
        context["medication_classes"] = MEDICATION_CLASSES
    elif section == "screening":
        diabetes = bool(file.history and suggests_diabetes(file.history))
        context.update(SCREENING_LABELS, suggests_diabetes=diabetes)
    elif section == "consent":
        practice = app.state.profile.business_name if app.state.profile else ""
        context["consent_rows"] = await consent_rows(
            app.repo, file, practice, app.platform, app.signatures
        )
        context["check_labels"] = {k.value: label for k, label in CHECK_LABELS.items()}
        context["consent_forms"] = {
            kind.value: typed(app, f"consent-{kind.value}", client.id) for kind in ConsentKind
        }
    context["values"] = values
    context["errors"] = errors
    return "views/intake/client.html", context


async def _next_statuses(app: App, client: Client) -> list[tuple[str, str]]:
    """What may still be set by hand: the status otherwise follows the client's care
    (medex.client_status)."""
    from medex.client_status import manual_statuses
    from medex.programs import Episode

    episodes = await app.repo.find(Episode, "client_id", client.id)
    in_program = any(e.is_active for e in episodes)
    return [(s.value, STATUS_LABELS[s]) for s in manual_statuses(client.status, in_program)]


async def _client(app: App, data: dict[str, Any]) -> Client | None:
    client_id = str(data.get("client_id", "") or app.state.params.get("id", ""))
    client = await app.repo.get(Client, client_id) if client_id else None
    if client is None:
        app.state.flash = "This client could not be found."
    return client


async def _save(app: App, form: str, data: dict[str, Any], bind: Any, use_case: Any) -> Any:
    """Bind the client's section form → call its use case: the record saved, or None when
    refused (what was typed kept, the messages next to their fields)."""
    client_id = str(data.get("client_id", "") or app.state.params.get("id", ""))
    bound = bind(data, client_id, clock.today())
    try:
        return await use_case(app.repo, bound.command)
    except Refused as exc:
        refuse(app, form, {**data, "client_id": client_id}, exc, bound.field)
        if "__all__" in exc.errors:
            app.state.flash = exc.errors["__all__"]
        return None


def _done(app: App, client_id: str, form: str, message: str, section: str = "") -> None:
    app.state.forms.pop(form, None)
    if section:
        app.navigate(f"#/client?id={client_id}&section={section}")
    app.state.flash = message


@action("client-status")
async def client_status(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", "") or app.state.params.get("id", ""))
    status = ClientStatus(str(data.get("status")))
    client = await app.repo.get(Client, client_id)
    if client is not None and status.value not in dict(await _next_statuses(app, client)):
        app.state.flash = (
            f"{client.full_name}'s status follows their care: active from the start of a "
            "program or the first signed session, discharged with the last program."
        )
        return
    command = ChangeStatus(client_id=client_id, status=status, today=clock.today())
    try:
        updated = await change_status(app.repo, command)
    except Refused as exc:
        app.state.flash = " ".join(exc.errors.values())
        return
    app.state.flash = f"{updated.full_name} is now {updated.status_label.lower()}."


# -- referral and ICD-10 ----------------------------------------------------------------------
# One form: the code search, the Add/Remove buttons and Save are its submit buttons, so what
# was typed in the referral is sent (and kept) whichever button is pressed.


@action("referral-form")
async def referral_form_action(app: App, data: dict[str, Any]) -> None:
    """Search codes, add or remove a code, or save the referral (by the button pressed)."""
    client = await _client(app, data)
    if client is None:
        return
    referral = {k: data.get(k, "") for k in REFERRAL_FIELDS}
    if data.get("add_code") or data.get("remove_code") or data.get("intent") == "search":
        previous = app.state.forms.get("referral")
        errors = previous.errors if previous else {}
        app.state.forms["referral"] = FormState({**referral, "client_id": client.id}, errors)
        if data.get("add_code"):
            await picker.add(app, client.id, str(data["add_code"]))
        elif data.get("remove_code"):
            picker.remove(app, client.id, str(data["remove_code"]))
        else:
            await picker.search(app, client.id, str(data.get("icd_query", "")).strip())
        return
    await _save_referral(app, client, data)


async def _save_referral(app: App, client: Client, data: dict[str, Any]) -> None:
    chosen = picker.chosen(app, client.id)
    diagnoses = [{"code": d["code"], "description": d["description"]} for d in chosen]
    index = await picker.index_for_saving() if diagnoses else None
    bound = bind_referral(data, client.id, diagnoses, clock.today())
    try:
        await record_referral(app.repo, bound.command, index)
    except Refused as exc:
        refuse(app, "referral", {**data, "client_id": client.id}, exc, bound.field)
        if "diagnoses" in exc.errors:
            app.state.focus = "field-icd_query"
        return
    picker.forget(app, client.id)
    _done(app, client.id, "referral", "Referral recorded.", "history")


# -- health history ---------------------------------------------------------------------------


@action("save-history")
async def save_history_action(app: App, data: dict[str, Any]) -> None:
    """Save the history, or (the "Add a …" buttons) add a blank row keeping what was typed."""
    client = await _client(app, data)
    if client is None:
        return
    kind = str(data.pop("add_row", ""))
    if kind in ("cond", "surg", "med"):
        rows = app.form(f"rows:{client.id}")
        rows.values = {**rows.values, kind: row_count(data, kind) + 1}
        app.state.forms["history"] = FormState({**data, "client_id": client.id}, {})
        app.state.focus = f"field-{kind}_name_{row_count(data, kind)}"
        return
    history = await _save(app, "history", data, bind_history, save_health_history)
    if history is None:
        return
    app.state.forms.pop(f"rows:{client.id}", None)
    flagged = [m.name for m in history.medications if m.affects_hr_bp]
    message = "Health history saved."
    if flagged:
        message += f" HR/BP response altered by {', '.join(flagged)}: use RPE, not target HR."
    _done(app, client.id, "history", message, "screening")


# -- screening and clearance ------------------------------------------------------------------


@action("save-screening")
async def save_screening_action(app: App, data: dict[str, Any]) -> None:
    record = await _save(app, "screening", data, bind_screening, save_screening)
    if record is not None:
        _done(app, record.client_id, "screening", f"Screening saved: {record.outcome.label}.")


@action("save-clearance")
async def save_clearance_action(app: App, data: dict[str, Any]) -> None:
    if await _save(app, "clearance", data, bind_clearance, save_clearance) is not None:
        _done(app, "", "clearance", "Clearance saved.")


# -- consent ----------------------------------------------------------------------------------


@action("sign-consent")
async def sign_consent_action(app: App, data: dict[str, Any]) -> None:
    client = await _client(app, data)
    if client is None:
        return
    practice = app.state.profile.business_name if app.state.profile else ""
    bound = bind_consent(data, client.id, practice, clock.today())
    kind = bound.command.kind
    name = f"consent-{kind.value}"
    try:
        consent = await sign_consent(app.repo, bound.command, signer=app.platform)
    except SigningKeyError as exc:
        app.state.flash = str(exc)
        return
    except Refused as exc:
        typed = texts(data, ("signed_name", "agree", "signature_svg"))
        refuse(app, name, {**typed, "client_id": client.id}, exc, bound.field)
        app.state.focus = f"field-{kind.value}-{next(iter(exc.errors), '')}"
        return
    _done(app, client.id, name, f"{consent.label}: signed by {consent.signed_name}.")


# -- goals ------------------------------------------------------------------------------------


@action("save-goals")
async def save_goals_action(app: App, data: dict[str, Any]) -> None:
    goals = await _save(app, "goals", data, bind_goals, save_goals)
    if goals is not None:
        _done(app, goals.client_id, "goals", "Goals and functional deficits saved.", "checklist")
