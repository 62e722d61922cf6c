"""Clients: the list (search, filters, who is not ready), a new client, and the client's page
with its intake sections (details, referral, health history, screening, clearance, consent,
goals, onboarding checklist)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from medex.health import MEDICATION_CLASSES
from medex.intake import (
    CONSENT_LABELS,
    SEX_LABELS,
    STATUS_LABELS,
    Client,
    ClientStatus,
    ConsentKind,
)
from medex.screening import (
    DECISION_LABELS,
    INTENSITY_HELP,
    PARQ_PAGE1_LABELS,
    SIGN_OR_SYMPTOM_LABELS,
)
from medex.services.intake import (
    CLIENT_FIELDS,
    REFERRAL_FIELDS,
    ClientIndex,
    change_status,
    check_consent_signatures,
    is_ready,
    list_providers,
    load_all_files,
    load_consent_texts,
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
from ..forms import fail
from ..intake_form import history_values, row_count, screening_values


def _form_values(app: App, name: str, client_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What was typed in a failed save of this client's form, if any."""
    form = app.state.forms.get(name)
    if form and form.values.get("client_id", client_id) == client_id:
        return form.values, form.errors
    return {}, {}


# -- the list ---------------------------------------------------------------------------------


@route("clients", label="Clients", order=10)
async def clients(app: App, params: dict[str, str]) -> View:
    search = app.state.forms.get("client-search")
    filters = {
        "q": unquote(params.get("q", "")),
        "status": params.get("status", ""),
        "provider": params.get("provider", ""),
        "ready": params.get("ready", ""),
    }
    if any(params.get(k) for k in filters):
        # Opened from a link with filters (e.g. the dashboard's "not ready"): the link wins.
        app.state.forms.pop("client-search", None)
        search = None
    if search:
        filters.update({k: str(v) for k, v in search.values.items() if k in filters})
    files = await load_all_files(app.repo)
    index = ClientIndex.build(f.client for f in files.values() if f.client)
    found = index.search(filters["q"], filters["status"], filters["provider"])
    ready = {c.id: is_ready(files[c.id]) for c in found}
    if filters["ready"] == "no":
        found = [c for c in found if not ready[c.id]]
    providers = await list_providers(app.repo)
    return "views/clients.html", {
        "clients": found,
        "total": len(index.entries),
        "ready": ready,
        "filters": filters,
        "providers": providers,
        "provider_names": {p.id: p.display_name for p in providers},
        "statuses": STATUS_LABELS,
        "today": clock.today(),
    }


@action("search-clients")
async def search_clients(app: App, data: dict[str, Any]) -> None:
    app.state.forms["client-search"] = FormState(
        values={k: str(data.get(k, "")) for k in ("q", "status", "provider", "ready")}
    )
    app.navigate("#/clients")  # the search form now holds the filters, not the link


@action("clear-client-search")
async def clear_client_search(app: App, data: dict[str, Any]) -> None:
    app.state.forms.pop("client-search", None)
    app.navigate("#/clients")


# -- new client -------------------------------------------------------------------------------


@route("client-new")
async def client_new(app: App, params: dict[str, str]) -> View:
    values, errors = _form_values(app, "client", "")
    return "views/intake/client_new.html", {
        "values": values or {k: "" for k in CLIENT_FIELDS},
        "errors": errors,
        "sexes": SEX_LABELS,
    }


@action("save-client")
async def save_client_action(app: App, data: dict[str, Any]) -> None:
    client_id = str(data.get("client_id", "")) or None
    result, client = await save_client(app.repo, data, clock.today(), client_id)
    if not result.ok or client is None:
        fail(app, "client", {**result.values, "client_id": client_id or ""}, result.errors)
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
        "next_statuses": _next_statuses(client.status),
    }
    values, errors = _form_values(app, "client" if section == "details" else section, client.id)
    if section == "details":
        if not values:
            values = {k: getattr(client, k) or "" for k in CLIENT_FIELDS}
            values["sex"] = client.sex.value
            values["date_of_birth"] = client.date_of_birth.isoformat()
        context["sexes"] = SEX_LABELS
    elif section == "referral":
        if not values:
            values = {k: "" for k in REFERRAL_FIELDS}
            values["provider_id"] = params.get("provider", "") or (client.provider_id or "")
            values["referred_on"] = clock.today().isoformat()
        elif params.get("provider") and not values.get("provider_id"):
            values = {**values, "provider_id": params["provider"]}  # just added from here
        context.update(picker.picker_context(app, client.id))
    elif section == "history":
        typed = bool(values)
        if not values and file.history:
            values = history_values(file.history)
        rows = app.state.forms.get(f"rows:{client.id}")
        wanted = rows.values if rows else {}
        context["row_counts"] = {
            k: max(row_count(values, k) + (0 if typed else 1), int(wanted.get(k, 0)), 1)
            for k in ("cond", "surg", "med")
        }
        context["medication_classes"] = MEDICATION_CLASSES
    elif section == "screening":
        context.update(
            parq_labels=PARQ_PAGE1_LABELS,
            symptom_labels={s.value: label for s, label in SIGN_OR_SYMPTOM_LABELS.items()},
            intensities={i.value: help for i, help in INTENSITY_HELP.items()},
            decisions=DECISION_LABELS,
            suggests_diabetes=_suggests_diabetes(file),
        )
        if not values:
            values = screening_values(file.screening)
            values["screened_on"] = clock.today().isoformat()
    elif section == "clearance":
        if not values and file.clearance:
            c = file.clearance
            values = {
                "requested_on": c.requested_on.isoformat(),
                "received_on": c.received_on.isoformat() if c.received_on else "",
                "restrictions": c.restrictions,
            }
        elif not values:
            values = {"requested_on": clock.today().isoformat()}
    elif section == "consent":
        texts = await load_consent_texts(app.repo)
        practice = app.state.profile.business_name if app.state.profile else ""
        context["consent_kinds"] = [
            (kind, CONSENT_LABELS[kind], texts.text_for(kind, practice), file.consent(kind))
            for kind in ConsentKind
        ]
        signed = [c for kind in ConsentKind if (c := file.consent(kind)) is not None]
        checks = await check_consent_signatures(app.platform, app.signatures, signed)
        context["consent_checks"] = {c.kind.value: checks[c.id].value for c in signed}
        context["check_labels"] = {k.value: label for k, label in CHECK_LABELS.items()}
        context["consent_forms"] = {
            kind.value: _form_values(app, f"consent-{kind.value}", client.id)
            for kind in ConsentKind
        }
    elif section == "goals" and not values and file.goals:
        values = {"deficits": "\n".join(file.goals.deficits)}
        for i, a in enumerate(file.goals.activities):
            values[f"psfs_activity_{i}"] = a.activity
            values[f"psfs_score_{i}"] = str(a.score)
    context["values"] = values
    context["errors"] = errors
    return "views/intake/client.html", context


def _next_statuses(status: ClientStatus) -> list[tuple[str, str]]:
    from medex.intake import ALLOWED_TRANSITIONS

    order = list(ClientStatus)
    return [
        (s.value, STATUS_LABELS[s]) for s in sorted(ALLOWED_TRANSITIONS[status], key=order.index)
    ]


def _suggests_diabetes(file) -> bool:
    from medex.health import suggests_diabetes

    return bool(file.history and suggests_diabetes(file.history))


async def _client(app: App, data: dict[str, Any]) -> Client | None:
    client_id = str(data.get("client_id", "") or app.state.params.get("id", ""))
    client = await app.repo.get(Client, client_id) if client_id else None
    if client is None:
        app.state.flash = "This client could not be found."
    return client


def _done(app: App, client: Client, form: str, message: str, section: str | None = None) -> None:
    app.state.forms.pop(form, None)
    if section:
        app.navigate(f"#/client?id={client.id}&section={section}")
    app.state.flash = message


@action("client-status")
async def client_status(app: App, data: dict[str, Any]) -> None:
    client = await _client(app, data)
    if client is None:
        return
    _ok, message, _ = await change_status(
        app.repo, client, ClientStatus(str(data.get("status"))), clock.today()
    )
    app.state.flash = message


# -- referral and ICD-10 ----------------------------------------------------------------------
# One form: the code search, the Add/Remove buttons and Save are its submit buttons, so what
# was typed in the referral is sent (and kept) whichever button is pressed.


@action("referral-form")
async def referral_form(app: App, data: dict[str, Any]) -> None:
    """Search codes, add or remove a code, or save the referral (by the button pressed)."""
    client = await _client(app, data)
    if client is None:
        return
    typed = {k: data.get(k, "") for k in REFERRAL_FIELDS}
    if data.get("add_code") or data.get("remove_code") or data.get("intent") == "search":
        previous = app.state.forms.get("referral")
        errors = previous.errors if previous else {}
        app.state.forms["referral"] = FormState({**typed, "client_id": client.id}, errors)
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
    result, _ = await record_referral(app.repo, client, data, diagnoses, clock.today(), index)
    if not result.ok:
        fail(app, "referral", {**result.values, "client_id": client.id}, result.errors)
        if "diagnoses" in result.errors:
            app.state.focus = "field-icd_query"
        return
    picker.forget(app, client.id)
    _done(app, client, "referral", "Referral recorded.", "history")


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
    result, history = await save_health_history(app.repo, client, data, clock.today())
    if not result.ok or history is None:
        fail(app, "history", {**result.values, "client_id": client.id}, result.errors)
        return
    app.state.forms.pop(f"rows:{client.id}", None)
    flagged = [m.name for m in history.medications if m.affects_hr_bp]
    message = "Health history saved."
    if flagged:
        message += f" HR/BP response altered by {', '.join(flagged)}: use RPE, not target HR."
    _done(app, client, "history", message, "screening")


# -- screening and clearance ------------------------------------------------------------------


@action("save-screening")
async def save_screening_action(app: App, data: dict[str, Any]) -> None:
    client = await _client(app, data)
    if client is None:
        return
    result, record = await save_screening(app.repo, client, data, clock.today())
    if not result.ok or record is None:
        fail(app, "screening", {**result.values, "client_id": client.id}, result.errors)
        return
    assert record.outcome is not None
    _done(app, client, "screening", f"Screening saved: {record.outcome.label}.")


@action("save-clearance")
async def save_clearance_action(app: App, data: dict[str, Any]) -> None:
    client = await _client(app, data)
    if client is None:
        return
    result, clearance = await save_clearance(app.repo, client, data, clock.today())
    if not result.ok or clearance is None:
        fail(app, "clearance", {**result.values, "client_id": client.id}, result.errors)
        return
    _done(app, client, "clearance", "Clearance saved.")


# -- consent ----------------------------------------------------------------------------------


@action("sign-consent")
async def sign_consent_action(app: App, data: dict[str, Any]) -> None:
    client = await _client(app, data)
    if client is None:
        return
    kind = ConsentKind(str(data.get("kind")))
    practice = app.state.profile.business_name if app.state.profile else ""
    try:
        result, consent = await sign_consent(
            app.repo, client, kind, data, practice, clock.today(), signer=app.platform
        )
    except SigningKeyError as exc:
        app.state.flash = str(exc)
        return
    name = f"consent-{kind.value}"
    if not result.ok or consent is None:
        app.state.forms[name] = FormState(
            values={**result.values, "client_id": client.id}, errors=result.errors
        )
        first = next(iter(result.errors), "")
        app.state.focus = f"field-{kind.value}-{first}"
        return
    _done(app, client, name, f"{consent.label}: signed by {consent.signed_name}.")


# -- goals ------------------------------------------------------------------------------------


@action("save-goals")
async def save_goals_action(app: App, data: dict[str, Any]) -> None:
    client = await _client(app, data)
    if client is None:
        return
    result, goals = await save_goals(app.repo, client, data, clock.today())
    if not result.ok or goals is None:
        fail(app, "goals", {**result.values, "client_id": client.id}, result.errors)
        return
    _done(app, client, "goals", "Goals and functional deficits saved.", "checklist")
