"""What a physician reads: the wording of the documents for the typical client (a 72-year-old
woman on the post–total knee replacement program, referred by Dr. Maria Chen, MD), rendered
through the document screens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app import clock
from medex.documents import DocKind
from medex.intake import Goals, Referral, ReferringProvider
from medex.programs import Episode
from medex.screening import PARQ_PAGE1_LABELS
from medex.session_logs import SessionLog, Signature
from tests.support.aio import run
from tests.support.pages import Elements
from tests.support.screens import documents_app, html, open_doc

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SHORT = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
DAY_MONTH = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


@pytest.fixture
def app(monkeypatch):
    return documents_app(monkeypatch)


def report(app, kind: DocKind) -> str:
    return Elements(open_doc(app, kind)).text["report"]


def screened(app, *, needs_clearance: bool) -> None:
    client, _provider, _ep = app.seeded
    form = {f"parq_{k}": "no" for k in PARQ_PAGE1_LABELS}
    form.update(
        client_id=client.id,
        acsm_exercises_regularly="no" if needs_clearance else "yes",
        acsm_known_cmr_disease="yes" if needs_clearance else "no",
        acsm_symptomatic="no",
        acsm_desired_intensity="moderate",
    )
    run(app.dispatch("save-screening", form))


# -- salutation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", [DocKind.INTRO_LETTER, DocKind.CLEARANCE_REQUEST, DocKind.OUTCOMES_LETTER]
)
def test_letters_greet_the_physician_by_surname(app, kind):
    text = report(app, kind)
    assert "Dear Dr. Chen," in text
    assert "Dear Dr. Maria" not in text and "Chen, MD," not in text.split("Dear", 1)[1][:30]


def test_salutation_follows_the_provider_record(app):
    _client, provider, _ep = app.seeded
    run(app.repo.save(provider.model_copy(update={"name": "Robert Okafor", "credentials": "MD"})))
    assert "Dear Dr. Okafor," in report(app, DocKind.INTRO_LETTER)


# -- the program and its duration ------------------------------------------------------------


def test_intro_letter_names_the_program_naturally_with_its_duration(app):
    text = report(app, DocKind.INTRO_LETTER)
    assert "Ann has started a post–total knee replacement program" in text
    assert "for 12 weeks (24 sessions)" in text
    assert "started Post total" not in text


def test_lmn_duration_comes_from_the_program_not_the_referral(app):
    client, _provider, _ep = app.seeded
    (referral,) = run(app.repo.find(Referral, "client_id", client.id))
    run(app.repo.save(referral.model_copy(update={"requested_duration": "8 weeks"})))
    text = report(app, DocKind.LMN_DRAFT)
    assert "Duration: 12 weeks (24 sessions)" in text
    assert "8 weeks" not in text
    assert "Recommended program: A post–total knee replacement program with" in text


def test_lmn_lists_each_deficit_once(app):
    client, _provider, _ep = app.seeded
    (episode,) = run(app.repo.find(Episode, "client_id", client.id))
    # The program's baseline repeats intake's deficits (and adds one).
    run(app.repo.save(episode.model_copy(update={"baseline_deficits": "Slow gait\nPoor balance"})))
    text = report(app, DocKind.LMN_DRAFT)
    line = next(ln for ln in text.splitlines() if "Functional deficits:" in ln)
    assert "Reduced knee strength; Slow gait; Poor balance" in line
    assert text.count("Slow gait") == 1


def test_intro_letter_default_wording_passes_the_scope_check(app):
    page = open_doc(app, DocKind.INTRO_LETTER)
    assert "medication" not in Elements(page).text["report"].split("Our request", 1)[1][:200]
    assert 'id="scope-findings"' not in page and "Review the wording" not in page


# -- one date format, one full stop -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(DocKind))
def test_one_date_format_per_document(app, kind):
    text = report(app, kind)
    assert not ISO.search(text), ISO.search(text)
    assert not SHORT.search(text), SHORT.search(text)
    assert not DAY_MONTH.search(text), DAY_MONTH.search(text)
    assert re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}", text)


@pytest.mark.parametrize("kind", list(DocKind))
def test_no_double_full_stops(app, kind):
    client, _provider, _ep = app.seeded
    logs = run(app.repo.find(SessionLog, "client_id", client.id))
    stopped = next(lg for lg in logs if lg.action_taken)
    run(app.repo.save(stopped.model_copy(update={"action_taken": "Session stopped at 09:20."})))
    text = report(app, kind)
    assert ".." not in text.replace("...", "…")


# -- what a report recommends --------------------------------------------------------------------


def test_a_report_recommending_discharge_lists_no_next_reassessment(app):
    client, _provider, _ep = app.seeded
    name = f"doc:{DocKind.PROGRESS_REPORT.value}:{client.id}"
    open_doc(app, DocKind.PROGRESS_REPORT)
    state = app.form(name)
    state.values = {**state.values, "recommendation": "continue"}
    assert "Next reassessment" in report(app, DocKind.PROGRESS_REPORT)
    state.values = {**state.values, "recommendation": "discharge"}
    text = report(app, DocKind.PROGRESS_REPORT)
    assert "Discharge: the program's goals are met" in text
    assert "Next reassessment" not in text


# -- clearance --------------------------------------------------------------------------------


def test_clearance_request_is_not_offered_when_screening_says_not_necessary(app):
    client, _provider, _ep = app.seeded
    screened(app, needs_clearance=False)
    page = html(app, f"#/documents?client={client.id}")
    assert 'id="make-clearance_request"' not in page
    assert 'id="make-progress_report"' in page
    # Opened anyway (an old link): it never claims the screening recommends clearance.
    text = report(app, DocKind.CLEARANCE_REQUEST)
    assert "recommends medical clearance" not in text
    assert "found medical clearance not necessary" in text


def test_clearance_request_is_offered_and_worded_when_screening_asks_for_it(app):
    client, _provider, _ep = app.seeded
    screened(app, needs_clearance=True)
    assert 'id="make-clearance_request"' in html(app, f"#/documents?client={client.id}")
    assert "recommends medical clearance before starting" in report(app, DocKind.CLEARANCE_REQUEST)


# -- signing times ------------------------------------------------------------------------------


def test_session_log_prints_signing_times_in_the_device_time_zone(app, monkeypatch):
    client, _provider, _ep = app.seeded
    monkeypatch.setattr(clock, "utc_offset", lambda moment: timedelta(hours=-5))
    logs = sorted(run(app.repo.find(SessionLog, "client_id", client.id)), key=lambda lg: lg.id)
    signed_at = datetime(2025, 1, 7, 14, 20, tzinfo=UTC)
    sig = Signature(
        signed_by="Dana Reyes", credentials="MS", signed_at=signed_at, content_hash="a" * 64
    )
    # Every log signed at that moment: whichever the report's period includes prints it.
    run(app.repo.save(*(log.model_copy(update={"signature": sig}) for log in logs)))
    text = report(app, DocKind.SESSION_LOG)
    assert "Signed by Dana Reyes, MS on Jan 7, 2025 at 09:20 (UTC−5)" in text
    assert "UTC\n" not in text and "14:20" not in text


def test_goals_and_providers_unchanged_by_rendering(app):
    """Rendering documents writes nothing (the wording helpers are pure)."""
    before = (run(app.repo.list(Goals)), run(app.repo.list(ReferringProvider)))
    for kind in (DocKind.LMN_DRAFT, DocKind.INTRO_LETTER):
        report(app, kind)
    assert (run(app.repo.list(Goals)), run(app.repo.list(ReferringProvider))) == before
