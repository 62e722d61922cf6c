"""Physician documents: what is owed, a document with its editable wording, the scope check,
print, mark as sent (immutable snapshot), the communication log, and document settings."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from markupsafe import Markup

from medex.documents import (
    CHANNELS,
    CHARTS_FIELD,
    SPECS,
    Communication,
    DocKind,
    SentDocument,
    authored_texts,
    highlight,
    scope_check,
    view_model,
)
from medex.forms import Refused
from medex.inert import inert_html
from medex.intake import Client, ReferringProvider
from medex.repository import StorageFullError
from medex.services.documents import (
    find_draft,
    gather,
    mark_acknowledged,
    mark_sent,
    offered_for_client,
    owed_documents,
    record_draft,
    save_settings,
    sent_for_client,
)
from medex.services.practice import load_document_settings

from .. import clock
from ..core import App, FormState, View, action, route
from ..documents_form import bind_acknowledged, bind_send, bind_settings
from ..forms import fail, form_errors, refuse
from ..render import render

SETTINGS_FORM = "document-settings"
LAST_RENDER_MS: list[float] = []  # the latest render times (benchmark / tests)


def _kind(value: str) -> DocKind | None:
    try:
        return DocKind(value)
    except ValueError:
        return None


def _form_name(kind: DocKind, subject: str) -> str:
    return f"doc:{kind.value}:{subject}"


async def build(app: App, kind: DocKind, subject: str, authored: dict[str, str]):
    """(view-model, html) of a document for a client (or provider, for per-provider letters)."""
    started = time.perf_counter()
    per_provider = SPECS[kind].per_provider
    inp = await gather(
        app.repo,
        kind,
        clock.today(),
        client_id="" if per_provider else subject,
        provider_id=subject if per_provider else "",
        authored=authored,
    )
    inp.utc_offset = clock.utc_offset  # signing times on the device's clock
    vm = view_model(inp)
    html = render(f"reports/{kind.value}.html", doc=vm, demo=app.state.demo)
    LAST_RENDER_MS[:] = [(time.perf_counter() - started) * 1000]
    return vm, html


@route("documents", label="Documents", order=45)
async def documents(app: App, params: dict[str, str]) -> View:
    client_id = params.get("client", "")
    client = await app.repo.get(Client, client_id) if client_id else None
    owed = await owed_documents(app.repo, clock.today())
    if client is not None:
        owed = [o for o in owed if o.client_id == client.id]
    clients = sorted(await app.repo.list(Client), key=lambda c: c.sort_name)
    sent = await sent_for_client(app.repo, client.id) if client else []
    comms = {}
    drafts = []
    if client is not None:
        for c in await app.repo.list(Communication):
            if c.client_id == client.id:
                if c.status == "drafted":
                    drafts.append(c)
                else:
                    comms[c.document_id] = c
    drafts.sort(key=lambda c: (c.drafted_on, c.created_at), reverse=True)
    return "views/documents/documents.html", {
        "client": client,
        "clients": clients,
        "owed": owed,
        "specs": await offered_for_client(app.repo, client.id) if client else [],
        "sent": sent,
        "comms": comms,
        "drafts": drafts,
        "today": clock.today(),
    }


def snapshot_page(sent: SentDocument) -> str:
    """The page a sent document's frame shows (``srcdoc``): the stored HTML made inert. The
    result is plain text, so the view escapes it into the frame's attribute: stored HTML
    never becomes part of the app's own page."""
    return render("views/documents/_snapshot.html", body=Markup(inert_html(sent.html)))


@route("document")
async def document(app: App, params: dict[str, str]) -> View:
    settings = await load_document_settings(app.repo)
    doc_id = params.get("id", "")
    if doc_id:
        sent = await app.repo.get(SentDocument, doc_id)
        comm = None
        if sent is not None:
            comm = next(
                (c for c in await app.repo.list(Communication) if c.document_id == sent.id), None
            )
        from medex.fhir import is_report  # the FHIR export of a report (screens/fhir.py)

        return "views/documents/sent.html", {
            "sent": sent,
            "fhir_exportable": sent is not None and is_report(sent),
            "snapshot": snapshot_page(sent) if sent is not None else "",
            "comm": comm,
            "today": clock.today(),
            "channels": CHANNELS,
        }
    kind = _kind(params.get("kind", ""))
    subject = params.get("provider" if kind and SPECS[kind].per_provider else "client", "")
    if kind is None or not subject:
        return "views/documents/missing.html", {}
    name = _form_name(kind, subject)
    form = app.state.forms.get(name) or FormState()
    authored = {k: str(v) for k, v in form.values.items() if not k.startswith("_")}
    try:
        vm, html = await build(app, kind, subject, authored)
    except KeyError:
        return "views/documents/missing.html", {}
    spec = SPECS[kind]
    # Viewing is not drafting: only "Save as draft", printing or sending records the document
    # in the provider's communication log. The preview shows an existing draft entry.
    draft = await find_draft(
        app.repo,
        kind,
        client_id=(vm.get("client") or {}).get("id", ""),
        provider_id=(vm.get("provider") or {}).get("id", ""),
    )
    findings = (
        scope_check(authored_texts(kind, vm["authored"]), settings.scope_words)
        if spec.scope_checked
        else []
    )
    marked = {
        f.name: highlight(vm["authored"].get(f.name, ""), settings.scope_words)
        for f in spec.fields
        if not f.options
    }
    back = f"#/provider?id={subject}" if spec.per_provider else f"#/documents?client={subject}"
    return "views/documents/document.html", {
        "spec": spec,
        "doc": vm,
        "report_html": html,
        "findings": findings,
        "marked": marked,
        "values": {**vm["authored"], **form.values},
        "errors": form.errors,
        "subject": subject,
        "form_id": f"doc-{kind.value}-{subject}",
        "channels": CHANNELS,
        "today": clock.today(),
        "back": back,
        "paper": settings.paper,
        "draft": draft,
    }


@action("document-printed")
async def document_printed(app: App, data: dict[str, Any]) -> None:
    """Printing (or saving as PDF) records the document in the provider's communication log
    as drafted, once, as "Save as draft" does; viewing it records nothing."""
    kind = _kind(str(data.get("kind", "")))
    subject = str(data.get("subject", ""))
    if kind is None or not subject:
        return
    form = app.state.forms.get(_form_name(kind, subject)) or FormState()
    authored = {k: str(v) for k, v in form.values.items() if not k.startswith("_")}
    try:
        vm, _html = await build(app, kind, subject, authored)
    except KeyError:
        return
    with contextlib.suppress(StorageFullError):  # read-only: the printout is what matters
        await record_draft(app.repo, vm, clock.today())


@action("document-form")
async def document_form(app: App, data: dict[str, Any]) -> None:
    """Update the preview (and scope check), or mark the document as sent."""
    kind = _kind(str(data.get("kind", "")))
    subject = str(data.get("subject", ""))
    if kind is None or not subject:
        return
    spec = SPECS[kind]
    name = _form_name(kind, subject)
    authored = {f.name: str(data.get(f.name, "")) for f in spec.fields}
    if data.get("charts_shown"):  # the chart checkboxes were on the form: what is ticked
        ticked = (k.removeprefix("chart_") for k, v in data.items() if k.startswith("chart_") and v)
        authored[CHARTS_FIELD] = ",".join(ticked)
    send_fields = {k: str(data.get(k, "")) for k in ("_channel", "_sent_on", "_scope_ok")}
    app.state.forms[name] = FormState(values={**authored, **send_fields}, errors={})
    op = str(data.get("op", ""))
    if op not in ("send", "draft"):
        app.state.flash = "Preview updated."
        return
    settings = await load_document_settings(app.repo)
    vm, html = await build(app, kind, subject, authored)
    if op == "draft":
        draft = await record_draft(app.repo, vm, clock.today())
        who = vm["provider"]["display_name"] if vm.get("provider") else "no provider"
        app.state.flash = (
            f"Saved as a draft (drafted {draft.drafted_on:%b %d, %Y}; log of {who}). "
            "The wording stays here until you send it."
        )
        return
    findings = (
        scope_check(authored_texts(kind, vm["authored"]), settings.scope_words)
        if spec.scope_checked
        else []
    )
    errors: dict[str, str] = {}
    if findings and not data.get("_scope_ok"):
        errors["_scope_ok"] = (
            f"Review the {len(findings)} highlighted word(s) outside an exercise "
            "professional's scope: reword them, or tick the box to send as written."
        )
    if not errors:
        reviewed = [f"{f.label}: {f.word}" for f in findings]
        bound = bind_send(data, vm, html, reviewed, clock.today())
        try:
            doc, _comm = await mark_sent(app.repo, bound.command)
        except Refused as exc:
            errors = form_errors(exc, bound.field)
        else:
            app.state.forms.pop(name, None)
            app.navigate(f"#/document?id={doc.id}")
            who = vm["provider"]["display_name"] if vm.get("provider") else "the client"
            app.state.flash = f"{vm['title']} marked as sent to {who}. Saved exactly as sent."
            return
    fail(app, name, app.state.forms[name].values, errors)


@action("document-acknowledge")
async def document_acknowledge(app: App, data: dict[str, Any]) -> None:
    try:
        updated = await mark_acknowledged(app.repo, bind_acknowledged(data, clock.today()).command)
    except Refused as exc:
        app.state.flash = " ".join(exc.errors.values())
        return
    app.state.flash = f"Marked as acknowledged on {updated.acknowledged_on:%b %d, %Y}."


@route("document-settings")
async def document_settings(app: App, params: dict[str, str]) -> View:
    settings = await load_document_settings(app.repo)
    form = app.state.forms.get(SETTINGS_FORM)
    if form and form.values:
        values, errors = form.values, form.errors
    else:
        values = {
            "paper": settings.paper,
            "scope_statement": settings.scope_statement,
            "scope_words": "\n".join(f"{w.stem}: {w.reason}" for w in settings.scope_words),
            "show_npi_on_superbill": settings.show_npi_on_superbill,
            "cpt_code": settings.cpt_code,
            "service_description": settings.service_description,
        }
        errors = {}
    return "views/documents/settings.html", {"values": values, "errors": errors}


@action("save-document-settings")
async def save_document_settings(app: App, data: dict[str, Any]) -> None:
    bound = bind_settings(data)
    try:
        await save_settings(app.repo, bound.command)
    except Refused as exc:
        refuse(app, SETTINGS_FORM, dict(data), exc, bound.field)
        return
    app.state.forms.pop(SETTINGS_FORM, None)
    app.state.flash = "Document settings saved."


async def provider_documents(app: App, provider: ReferringProvider) -> dict[str, Any]:
    """For the provider page: the communication log and outcomes across their clients (the
    same summary as the outcomes letter and the caseload screen)."""
    from medex.services.caseload import provider_caseload
    from medex.services.documents import provider_log

    _roster, summary = await provider_caseload(app.repo, provider.id, clock.today())
    log = await provider_log(app.repo, provider.id)
    return {
        "comm_log": log,
        "across": [m.as_dict() for m in summary.measures],
        "summary": summary.as_dict(),
        "drafted_count": sum(c.status == "drafted" for c in log),
        "sent_count": sum(c.status in ("sent", "acknowledged") for c in log),
        "ack_count": sum(c.status == "acknowledged" for c in log),
    }
