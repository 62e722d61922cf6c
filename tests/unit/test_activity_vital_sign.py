"""Physical activity as a vital sign (the Exercise Vital Sign, Coleman et al. 2012): days a
week × minutes a day of moderate-to-vigorous activity = minutes a week, flagged below the
guideline's 150 minutes a week (Physical Activity Guidelines for Americans, 2nd ed.); asked at
every assessment and shown with its change on the physician documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from medex.assessments import Assessment, MeasurementEntry
from medex.documents import DocKind
from medex.measures import CATALOGUE, score, score_physical_activity
from medex.services.outcomes import RecordAssessment, record_assessment
from tests.support.aio import run
from tests.support.pages import FormData
from tests.support.screens import documents_app, html, open_doc
from tests.support.seeders import FIRST, TODAY

EVS = CATALOGUE["physical_activity"]


@pytest.mark.parametrize(
    ("days", "minutes", "total"),
    [(0, 0, 0), (3, 30, 90), (5, 30, 150), (7, 600, 4200), (2, 45, 90), ("4", "25", 100)],
)
def test_minutes_a_week_are_days_times_minutes(days, minutes, total):
    result = score_physical_activity(days, minutes)
    assert result.value == total
    assert result.details == {"days_per_week": float(days), "minutes_per_day": float(minutes)}
    assert (
        score("physical_activity", {"days_per_week": days, "minutes_per_day": minutes}).value
        == total
    )


@pytest.mark.parametrize(
    ("days", "minutes", "message"),
    [
        (8, 30, "Days a week must be"),
        (-1, 30, "Days a week must be"),
        (2.5, 30, "whole number from 0 to 7"),
        (3, 601, "Minutes a day must be"),
        (3, 12.5, "whole minutes"),
        (None, 30, "Enter a number for Days a week"),
        (3, "", "Enter a number for Minutes a day"),
    ],
)
def test_impossible_answers_are_refused_in_plain_words(days, minutes, message):
    with pytest.raises(ValueError, match=message):
        score_physical_activity(days, minutes)


def test_the_guideline_threshold_is_150_minutes_a_week_with_its_source():
    (cutoff,) = EVS.cutoffs
    assert (cutoff.value, cutoff.comparison) == (150, "<")
    assert cutoff.hit(149) and not cutoff.hit(150) and not cutoff.hit(300)
    assert "Physical Activity Guidelines for Americans" in cutoff.source.citation
    assert EVS.direction == "higher_is_better" and EVS.unit == "min/week"
    assert "Coleman" in EVS.notes[0]


def test_the_loinc_codes_are_those_of_the_hl7_physical_activity_guide():
    assert EVS.loinc == "82290-8"
    assert "89555-7" in EVS.loinc_note and "68516-4" in EVS.loinc_note
    assert "physical-activity" in EVS.loinc_source.web_address


def test_an_assessment_entry_computes_the_total_and_keeps_the_answers():
    entry = MeasurementEntry(
        measure_id="physical_activity", protocol={"days_per_week": "3", "minutes_per_day": "20"}
    )
    assert entry.value == 60
    assert entry.protocol == {"days_per_week": 3, "minutes_per_day": 20}
    assert MeasurementEntry(measure_id="physical_activity", value="120").value == 120
    same = MeasurementEntry(
        measure_id="physical_activity",
        value="60",
        protocol={"days_per_week": "3", "minutes_per_day": "20"},
    )
    assert same.value == 60
    with pytest.raises(ValidationError, match="3 days × 20 min is 60 min/week"):
        MeasurementEntry(
            measure_id="physical_activity",
            value="90",
            protocol={"days_per_week": "3", "minutes_per_day": "20"},
        )
    with pytest.raises(ValidationError, match="Enter a number for Minutes a day"):
        MeasurementEntry(measure_id="physical_activity", protocol={"days_per_week": "3"})


@pytest.fixture
def app(monkeypatch):
    return documents_app(monkeypatch)


def test_the_assessment_form_asks_for_it_and_saves_days_and_minutes(app):
    client, _provider, _ep = app.seeded
    page = html(app, f"#/assessment-new?client={client.id}")
    assert 'data-measure="physical_activity"' in page
    data = FormData(page, f"assessment-form-{client.id}").data
    assert "m_physical_activity_p_days_per_week" in data
    data.update(
        {
            "assessed_on": TODAY.isoformat(),
            "m_physical_activity_p_days_per_week": "2",
            "m_physical_activity_p_minutes_per_day": "15",
        }
    )
    run(app.dispatch("assessment-form", data))
    saved = [
        a for a in run(app.repo.find(Assessment, "client_id", client.id)) if a.assessed_on == TODAY
    ]
    assert saved, app.state.forms
    entry = saved[0].entry("physical_activity")
    assert entry.value == 30
    assert entry.protocol == {"days_per_week": 2, "minutes_per_day": 15}


def _activity(app, day, days, minutes, kind="reassessment"):
    client, _provider, ep = app.seeded
    data = {
        "client_id": client.id,
        "episode_id": ep.id,
        "kind": kind,
        "assessed_on": day.isoformat(),
        "measurements": [
            {
                "measure_id": "physical_activity",
                "protocol": {"days_per_week": days, "minutes_per_day": minutes},
            }
        ],
    }
    run(record_assessment(app.repo, RecordAssessment(**data, today=TODAY)))


def _row(page: str) -> str:
    start = page.index("Physical activity (Exercise Vital Sign)")
    return page[start : page.index("</tr>", start)]


@pytest.mark.parametrize("kind", [DocKind.PROGRESS_REPORT, DocKind.DISCHARGE_SUMMARY])
def test_reports_show_the_activity_and_its_change(app, kind):
    _activity(app, FIRST + timedelta(days=1), 2, 20)
    _activity(app, FIRST + timedelta(days=61), 5, 40)
    row = _row(open_doc(app, kind))
    assert "min/week" in row
    assert "40" in row and "200" in row  # baseline 2 × 20, now 5 × 40
    assert "+160" in row


def test_the_initial_evaluation_shows_the_baseline_below_the_guideline(app):
    client, _provider, _ep = app.seeded
    (baseline,) = [
        a for a in run(app.repo.find(Assessment, "client_id", client.id)) if a.kind == "baseline"
    ]
    data = baseline.model_dump(mode="json", include=set(RecordAssessment.model_fields))
    data["measurements"].append(
        {"measure_id": "physical_activity", "protocol": {"days_per_week": 2, "minutes_per_day": 20}}
    )
    edit = RecordAssessment(**data, today=TODAY, assessment_id=baseline.id)
    run(record_assessment(app.repo, edit))
    _activity(app, FIRST + timedelta(days=61), 5, 40)
    row = _row(open_doc(app, DocKind.ASSESSMENT_SUMMARY))
    assert "40" in row and "200" not in row
    assert "Below the guideline of 150 minutes a week" in row
