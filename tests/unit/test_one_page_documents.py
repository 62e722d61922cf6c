"""One-page documents: which measures are charted (those that changed beyond the MCID, or
those the practitioner ticks), dates shared by a column printed once, the compact MCID
wording, and which documents are one page (the fit itself is measured in Chromium:
tests/e2e/test_one_page_documents.py)."""

from __future__ import annotations

import pytest

from medex.documents import (
    CHARTED_KINDS,
    SPECS,
    DocKind,
    charted_measures,
    common_dates,
)
from medex.repository import InMemoryRepository
from medex.services.outcomes import client_outcomes
from tests.support.aio import run
from tests.support.pages import Elements, FormData
from tests.support.screens import documents_app, html, open_doc
from tests.support.seeders import TODAY, seed_typical_client


@pytest.fixture
def rows():
    repo = InMemoryRepository()
    client, _p, _e = seed_typical_client(repo, TODAY, full=True)
    return run(client_outcomes(repo, client.id, TODAY)).rows


def test_the_physician_documents_are_one_page():
    for kind in (
        DocKind.PROGRESS_REPORT,
        DocKind.ASSESSMENT_SUMMARY,
        DocKind.CHANGE_IN_STATUS,
        DocKind.LMN_DRAFT,
        DocKind.DISCHARGE_SUMMARY,
    ):
        assert SPECS[kind].one_page, kind


def test_default_charts_are_the_measures_that_changed_beyond_the_mcid(rows):
    # Gait +0.27 ≥ 0.05, 6MWT +90 ≥ 20, LEFS +14 ≥ 9, NPRS −3 ≥ 2 reached their MCID; TUG and
    # the chair stand have none on file for this client, grip +1.0 < 6.5, resting HR none.
    assert charted_measures(DocKind.PROGRESS_CARD, rows) == [
        "gait_speed",
        "six_minute_walk",
        "lefs",
        "nprs",
    ]
    # A one-page document: the first two of them.
    assert charted_measures(DocKind.PROGRESS_REPORT, rows) == ["gait_speed", "six_minute_walk"]
    assert charted_measures(DocKind.DISCHARGE_SUMMARY, rows) == ["gait_speed", "six_minute_walk"]


def test_a_trivial_change_gets_no_chart(rows):
    ids = charted_measures(DocKind.PROGRESS_CARD, rows)
    assert "resting_hr" not in ids and "grip_strength" not in ids


def test_the_practitioner_chooses_the_charts(rows):
    assert charted_measures(DocKind.PROGRESS_REPORT, rows, "tug, resting_hr") == [
        "tug",
        "resting_hr",
    ]
    assert charted_measures(DocKind.PROGRESS_REPORT, rows, "") == []  # none ticked: none
    assert charted_measures(DocKind.PROGRESS_REPORT, rows, "no_such_measure") == []


@pytest.mark.parametrize("kind", [k for k in DocKind if k not in CHARTED_KINDS])
def test_documents_without_charts_chart_nothing(rows, kind):
    assert charted_measures(kind, rows) == []
    assert charted_measures(kind, rows, "tug") == []


def test_common_dates_are_what_most_rows_share():
    def row(b, p, n):
        return {
            "baseline": {"date": b} if b else None,
            "previous": {"date": p} if p else None,
            "now": {"date": n} if n else None,
        }

    rows = [row("2025-01-06", "2025-02-05", "2025-03-07")] * 3
    rows.append(row("2025-01-08", None, "2025-03-07"))
    assert common_dates(rows) == {
        "baseline": "2025-01-06",
        "previous": "2025-02-05",
        "now": "2025-03-07",
    }
    split = [row("2025-01-06", None, "2025-03-07"), row("2025-01-08", None, "2025-03-09")]
    assert common_dates(split)["baseline"] in ("2025-01-06", "2025-01-08")
    assert common_dates([]) == {"baseline": "", "previous": "", "now": ""}
    # Three different dates: none is shared by half the rows.
    spread = [row(d, None, None) for d in ("2025-01-01", "2025-01-02", "2025-01-03")]
    assert common_dates(spread)["baseline"] == ""


@pytest.fixture
def app(monkeypatch):
    return documents_app(monkeypatch)


def test_the_table_prints_shared_dates_once_and_short_mcid_wording(app):
    page = open_doc(app, DocKind.PROGRESS_REPORT)
    table = page[page.index('<table class="measures">') :]
    table = table[: table.index("</table>")]
    assert table.count("Jan 6, 2025") == 1  # in the Baseline heading only
    assert table.count("<small>") == 3  # the three dated headings, no date in a row
    text = Elements(page).text["report"]
    assert "Yes (≥ 0.05)" in text and "None on file" not in text
    assert "MCID: minimal clinically important difference" in text


def test_chart_checkboxes_follow_the_default_and_the_choice(app):
    client, _p, _e = app.seeded
    page = open_doc(app, DocKind.PROGRESS_REPORT)
    assert 'id="chart-choice"' in page
    assert 'id="field-chart_gait_speed" value="1" autocomplete="off" checked' in page
    assert 'id="field-chart_tug" value="1" autocomplete="off">' in page
    assert page.count('class="chart"') == 2
    data = FormData(page, f"doc-progress_report-{client.id}").data
    data = {k: v for k, v in data.items() if not k.startswith("chart_")}
    data.update(chart_tug="1", op="preview")
    run(app.dispatch("document-form", data))
    page = html(app)
    assert page.count('class="chart"') == 1 and "doc-chart-tug" in page
    assert 'id="field-chart_tug" value="1" autocomplete="off" checked' in page
    assert 'id="field-chart_gait_speed" value="1" autocomplete="off">' in page


def test_the_preview_carries_the_fit_warning_for_one_page_documents_only(app):
    assert 'id="fit-warning"' in open_doc(app, DocKind.PROGRESS_REPORT)
    assert 'id="fit-warning"' not in open_doc(app, DocKind.SESSION_LOG)


def test_the_signature_keeps_the_closing_lines(app):
    page = open_doc(app, DocKind.PROGRESS_REPORT)
    closing = page[page.index('<div class="closing">') :]
    assert closing.index("Recommendation:") < closing.index('class="signature"')
