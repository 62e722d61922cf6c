"""PSFS goals revisited: start → now and met / partly met / not met (docs/clinical.md §3.1)."""

from __future__ import annotations

from datetime import date

import pytest

from medex.assessments import Assessment
from medex.goal_progress import (
    PSFS_ACTIVITY_MDC,
    PSFS_PARTLY_MET_POINTS,
    goal_progress,
    goal_status,
)
from medex.intake import Goals

CLIENT = "9b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"


def test_thresholds_are_the_published_psfs_values():
    # Stratford 1995: 3 points for one activity (MDC, 90 % CI); JOSPT 2014 MID 1.3 → 2 whole
    # points on the 0–10 scale.
    assert PSFS_ACTIVITY_MDC == 3
    assert PSFS_PARTLY_MET_POINTS == 2


@pytest.mark.parametrize(
    ("baseline", "now", "status"),
    [
        (3, 6, "met"),  # up by exactly the single-activity MDC
        (3, 9, "met"),
        (8, 10, "met"),  # back to the level before the problem, although only +2
        (10, 10, "met"),
        (3, 5, "partly_met"),  # +2: past the MID, short of the MDC
        (6, 8, "partly_met"),
        (3, 4, "not_met"),  # +1: within measurement error
        (5, 5, "not_met"),
        (6, 2, "not_met"),  # worse
        (0, 2, "partly_met"),
        (4, None, "not_rescored"),
    ],
)
def test_goal_status(baseline, now, status):
    assert goal_status(baseline, now) == status


def _goals(scores=(2, 4, 7), recorded_on=date(2025, 1, 2)):
    names = ["Climb stairs without the rail", "Walk to the shops", "Garden for an hour"]
    return Goals(
        client_id=CLIENT,
        recorded_on=recorded_on,
        activities=[{"activity": n, "score": s} for n, s in zip(names, scores, strict=False)],
    )


def _assessment(day, kind, items):
    return Assessment(
        client_id=CLIENT,
        kind=kind,
        assessed_on=day,
        measurements=[
            {
                "measure_id": "psfs",
                "items": {f"psfs_{i + 1:02d}": v for i, v in enumerate(items)},
            }
        ],
    )


def test_each_goal_from_intake_to_the_latest_reassessment():
    goals = _goals()
    history = [
        _assessment(date(2025, 2, 17), "reassessment", [4, 5, 8]),
        _assessment(date(2025, 3, 31), "discharge", [7, 6, 8]),
    ]
    rows = goal_progress(goals, history)
    assert [(r.activity, r.baseline, r.now, r.status) for r in rows] == [
        ("Climb stairs without the rail", 2, 7, "met"),
        ("Walk to the shops", 4, 6, "partly_met"),
        ("Garden for an hour", 7, 8, "not_met"),
    ]
    assert rows[0].now_on == date(2025, 3, 31) and rows[0].text == "2 → 7 (+5)"
    assert rows[1].status_label == "Partly met"


def test_the_baseline_assessment_rating_is_the_start_not_a_rescore():
    goals = _goals()
    history = [
        _assessment(date(2025, 1, 6), "baseline", [3, 4, 6]),
        _assessment(date(2025, 2, 17), "reassessment", [6, 4, 6]),
    ]
    rows = goal_progress(goals, history)
    assert [(r.baseline, r.baseline_on, r.now) for r in rows] == [
        (3, date(2025, 1, 6), 6),
        (4, date(2025, 1, 6), 4),
        (6, date(2025, 1, 6), 6),
    ]
    assert [r.status for r in rows] == ["met", "not_met", "not_met"]


def test_goals_not_yet_rescored_say_so():
    rows = goal_progress(_goals(), [_assessment(date(2025, 1, 6), "baseline", [3, 4, 6])])
    assert all(r.now is None and r.status == "not_rescored" for r in rows)
    assert rows[0].text == "3 → not re-scored yet" and rows[0].change is None


def test_an_activity_left_blank_at_a_reassessment_keeps_its_earlier_rescore():
    goals = Goals(
        client_id=CLIENT,
        recorded_on=date(2025, 1, 2),
        activities=[{"activity": f"Activity {i}", "score": 3} for i in range(1, 5)],
    )
    history = [
        _assessment(date(2025, 2, 17), "reassessment", [5, 6, 9, 4]),
        _assessment(date(2025, 3, 31), "reassessment", [8, 6, 9, None]),
    ]
    rows = goal_progress(goals, history)
    assert [(r.now, r.now_on) for r in rows] == [
        (8, date(2025, 3, 31)),
        (6, date(2025, 3, 31)),
        (9, date(2025, 3, 31)),
        (4, date(2025, 2, 17)),
    ]


def test_no_goals_no_rows():
    assert goal_progress(None, [_assessment(date(2025, 1, 6), "reassessment", [5, 5, 5])]) == []
