"""Documents screens (issue 6) through the DOM-free App and the in-memory repository:
every document previews, the provider's log goes drafted → sent → acknowledged, a sent
document re-opens exactly as sent after the records change, and the scope check holds a
send until the wording is reviewed."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest

from medex.documents import SPECS, Communication, DocKind, SentDocument
from medex.inert import inert_html
from medex.intake import Client
from medex.services.outcomes import RecordAssessment, record_assessment
from tests.support.aio import run
from tests.support.pages import Elements, FormData
from tests.support.screens import documents_app, form, html, open_doc, send
from tests.support.seeders import TODAY


@pytest.fixture
def app(monkeypatch):
    return documents_app(monkeypatch)


def comms(app):
    return run(app.repo.list(Communication))


def snapshot_frame(page: str) -> str:
    """The page inside a sent document's frame (its ``srcdoc``, unescaped)."""
    (frame,) = re.findall(r'<iframe class="snapshot-frame"[^>]*>', page)
    assert re.search(r'sandbox="allow-same-origin allow-modals"', frame), frame
    return html_lib.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))


@pytest.mark.parametrize("kind", list(DocKind))
def test_every_document_previews_with_its_title_and_the_client(app, kind):
    client, provider, _ep = app.seeded
    page = open_doc(app, kind)
    els = Elements(page)
    assert f'data-kind="{kind.value}"' in page and "report" in els.text
    assert SPECS[kind].title in els.text["doc-heading"]
    who = provider.display_name if SPECS[kind].per_provider else client.full_name
    assert who in els.text["doc-heading"]
    assert "Reyes Medical Exercise" in els.text["report"]  # letterhead


def print_doc(app, kind: DocKind):
    client, provider, _ep = app.seeded
    subject = provider.id if SPECS[kind].per_provider else client.id
    run(app.dispatch("document-printed", {"kind": kind.value, "subject": subject}))


def test_viewing_records_nothing_and_printing_records_a_drafted_entry_once(app):
    _client, provider, _ep = app.seeded
    open_doc(app, DocKind.PROGRESS_REPORT)
    open_doc(app, DocKind.SUPERBILL)
    assert comms(app) == []  # viewing is not drafting
    print_doc(app, DocKind.PROGRESS_REPORT)
    print_doc(app, DocKind.PROGRESS_REPORT)  # a second print adds nothing
    (draft,) = comms(app)
    assert (draft.status, draft.drafted_on, draft.provider_id) == ("drafted", TODAY, provider.id)
    assert draft.kind == DocKind.PROGRESS_REPORT and draft.document_id == ""
    page = Elements(open_doc(app, DocKind.PROGRESS_REPORT))
    assert "Drafted" in page.text["draft-status"]
    provider_page = Elements(html(app, f"#/provider?id={provider.id}"))
    assert "1 drafted, 0 sent" in provider_page.text["provider-documents"]
    assert "Drafted" in provider_page.text["comm-log"]


def test_save_as_draft_keeps_the_wording_and_says_so(app):
    kind = DocKind.INTRO_LETTER
    data = {**form(app, kind, open_doc(app, kind)), "op": "draft", "request": "Any limits?"}
    run(app.dispatch("document-form", data))
    assert app.state.flash.startswith("Saved as a draft")
    assert len(comms(app)) == 1 and run(app.repo.list(SentDocument)) == []
    assert "Any limits?" in Elements(open_doc(app, kind)).text["report"]


def test_mark_as_sent_stores_the_snapshot_and_moves_the_draft_to_sent(app):
    client, provider, _ep = app.seeded
    shown = open_doc(app, DocKind.PROGRESS_REPORT)
    print_doc(app, DocKind.PROGRESS_REPORT)
    (draft,) = comms(app)
    send(app, DocKind.PROGRESS_REPORT)
    (doc,) = run(app.repo.list(SentDocument))
    assert app.state.route == "document" and app.state.params == {"id": doc.id}
    assert doc.html in shown  # exactly the preview the practitioner looked at
    assert doc.data["kind"] == "progress_report" and doc.provider_id == provider.id
    assert doc.client_id == client.id
    (comm,) = comms(app)
    assert comm.id == draft.id and comm.document_id == doc.id
    assert (comm.status, comm.channel, comm.drafted_on, comm.sent_on) == (
        "sent",
        "fax",
        TODAY,
        TODAY,
    )
    assert "marked as sent" in app.state.flash
    # Acknowledged: the log shows all three dates.
    page = html(app)
    ack = FormData(page, f"ack-{comm.id}").data
    run(app.dispatch("document-acknowledge", ack))
    assert run(app.repo.get(Communication, comm.id)).acknowledged_on == TODAY
    log = Elements(html(app, f"#/provider?id={provider.id}")).text["comm-log"]
    assert "Acknowledged" in log and log.count(f"{TODAY:%b} {TODAY.day}, {TODAY.year}") == 3


def test_a_sent_document_reopens_identically_after_the_records_change(app):
    client, _p, ep = app.seeded
    send(app, DocKind.PROGRESS_REPORT)
    (doc,) = run(app.repo.list(SentDocument))
    before = html(app, f"#/document?id={doc.id}")
    renamed = Client.model_validate({**client.model_dump(), "first_name": "Annabel"})
    data = {
        "client_id": client.id,
        "episode_id": ep.id,
        "kind": "reassessment",
        "assessed_on": (TODAY - timedelta(days=1)).isoformat(),
        "measurements": [{"measure_id": "tug", "value": 8.1}],
    }
    run(record_assessment(app.repo, RecordAssessment(**data, today=TODAY)))
    run(app.repo.save(renamed))
    after = html(app, f"#/document?id={doc.id}")
    assert after == before
    # The stored HTML is shown only inside the sandboxed frame, as it was sent.
    assert doc.html not in after and inert_html(doc.html) in snapshot_frame(after)
    fresh = open_doc(app, DocKind.PROGRESS_REPORT)
    assert "Annabel" in fresh and "8.1" in fresh  # a new preview shows the new records
    assert "Annabel" not in doc.html


def test_scope_check_blocks_sending_until_reviewed(app):
    kind = DocKind.PROGRESS_REPORT
    wording = {"plan_changes": "We will treat the knee pain with therapy."}
    run(app.dispatch("document-form", {**form(app, kind, open_doc(app, kind)), **wording}))
    page = Elements(html(app))
    assert "2 words outside" in page.text["scope-banner"]
    send(app, kind, **wording)
    assert run(app.repo.list(SentDocument)) == []
    errors = app.state.forms[f"doc:{kind.value}:{app.seeded[0].id}"].errors
    assert "Review the 2 highlighted word(s)" in errors["_scope_ok"]
    assert app.state.focus == "field-_scope_ok"
    assert comms(app) == []  # a refused send records nothing
    send(app, kind, _scope_ok="yes", **wording)
    (doc,) = run(app.repo.list(SentDocument))
    assert doc.scope_reviewed == ["Plan changes: treat", "Plan changes: therapy"]


def test_unchecked_documents_send_without_review(app):
    """The superbill is not scope-checked: it has no review box and sends as is."""
    page = open_doc(app, DocKind.SUPERBILL)
    assert "field-_scope_ok" not in page and "scope-check" not in Elements(page).text
    send(app, DocKind.SUPERBILL, _channel="hand")
    assert [d.kind for d in run(app.repo.list(SentDocument))] == [DocKind.SUPERBILL]


def test_outcomes_letter_is_logged_for_the_provider(app):
    _c, provider, _ep = app.seeded
    send(app, DocKind.OUTCOMES_LETTER, _channel="email")
    (comm,) = comms(app)
    assert comm.client_id == "" and comm.provider_id == provider.id and comm.status == "sent"


def test_sending_needs_a_channel_and_keeps_the_wording(app):
    kind = DocKind.INTRO_LETTER
    send(app, kind, _channel="", request="Please call me.")
    assert run(app.repo.list(SentDocument)) == []
    assert app.state.focus == "field-_channel"
    assert FormData(open_doc(app, kind), f"doc-{kind.value}-{app.seeded[0].id}").data[
        "request"
    ] == ("Please call me.")


def test_documents_screen_lists_drafts_and_links_to_the_caseload(app):
    client = app.seeded[0]
    open_doc(app, DocKind.DISCHARGE_SUMMARY)
    print_doc(app, DocKind.DISCHARGE_SUMMARY)
    page = Elements(html(app, f"#/documents?client={client.id}"))
    assert "Discharge summary" in page.text["draft-list"]
    assert "open-caseload" in page.text


def test_settings_links_to_document_settings(app):
    page = html(app, "#/settings")
    assert 'href="#/document-settings"' in page and "open-document-settings" in Elements(page).text


def test_caseload_screen_groups_and_prints(app):
    _c, provider, _ep = app.seeded
    for by, label in (
        ("program", "program"),
        ("condition", "condition"),
        ("provider", "referral source"),
    ):
        page = Elements(html(app, f"#/caseload?by={by}"))
        assert f"by {label}" in page.text["caseload-table"]
        assert "Timed Up and Go" in page.text["caseload-table"]
    page = Elements(html(app, f"#/provider?id={provider.id}"))
    assert "provider-caseload" in page.text
    mine = Elements(html(app, f"#/caseload?provider={provider.id}&by=provider"))
    assert provider.display_name in mine.text["caseload-heading"]
    assert "by-provider" not in mine.text and "by program" in mine.text["caseload-table"]


def test_sending_retitles_the_log_entry_from_the_document_sent(app):
    """The log entry is titled when drafted; sending retitles it from the document sent."""
    client = app.seeded[0]
    open_doc(app, DocKind.INTRO_LETTER)
    run(app.repo.save(Client.model_validate({**client.model_dump(), "last_name": "Li"})))
    send(app, DocKind.INTRO_LETTER, _scope_ok="yes")  # the default asks about "medications"
    (comm,) = comms(app)
    assert comm.title == "Introductory letter: Ann Li"
