"""Assessments: validation on the right field path, questionnaire scoring, protocol details,
history and interpretation through outcomes.interpret (norms, cut-offs, MCID)."""

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from medex.assessments import (
    Assessment,
    age_on,
    interpret_assessment,
    measure_history,
)
from medex.forms import field_errors
from medex.measures import CustomMeasure

TODAY = date(2025, 6, 1)
CTX = {"today": TODAY}


def make(measurements, when="2025-05-01", kind="baseline", vitals=None, created=None, **kw):
    data = {
        "client_id": "c1",
        "assessed_on": when,
        "kind": kind,
        "measurements": measurements,
        **kw,
    }
    if vitals is not None:
        data["vitals"] = vitals
    if created is not None:
        data["created_at"] = created
    return Assessment.model_validate(data, context=CTX)


def errors_of(measurements, **kw):
    with pytest.raises(ValidationError) as exc:
        make(measurements, **kw)
    return field_errors(exc.value)


def test_value_outside_valid_range_refused_on_its_field_path():
    """TUG is valid only above 0 and up to 300 s: the measure's plain message, at .2.value."""
    errs = errors_of(
        [
            {"measure_id": "chair_stand_30s", "value": 10},
            {"measure_id": "gait_speed", "value": "0.9"},
            {"measure_id": "tug", "value": 0},
        ]
    )
    assert errs == {"measurements.2.value": "Timed Up and Go must be more than 0 and at most 300 s"}


@pytest.mark.parametrize("value, ok", [(300, True), (300.1, False), (0.1, True)])
def test_tug_valid_range_edges(value, ok):
    """TUG edges: 300 accepted, 300.1 refused, just above 0 accepted."""
    entries = [{"measure_id": "tug", "value": value}]
    if ok:
        assert make(entries).measurements[0].value == value
    else:
        assert "measurements.0.value" in errors_of(entries)


def test_whole_number_measure_refuses_fractions():
    """Chair stands are counted in whole stands."""
    errs = errors_of([{"measure_id": "chair_stand_30s", "value": 10.5}])
    assert errs["measurements.0.value"].startswith("30-Second Chair Stand: enter a whole number")


def test_unknown_measure_refused():
    errs = errors_of([{"measure_id": "vo2max_guess", "value": 30}])
    assert errs == {"measurements.0.measure_id": "Choose a measure from the list"}


def test_future_date_refused_with_today_from_context():
    """An assessment dated tomorrow (by the context's today) is refused; today is fine."""
    errs = errors_of([{"measure_id": "tug", "value": 9}], when="2025-06-02")
    assert errs == {"assessed_on": "The assessment date cannot be in the future"}
    assert make([{"measure_id": "tug", "value": 9}], when="2025-06-01").assessed_on == TODAY


def test_questionnaire_items_are_scored():
    """ODI: sum ÷ (5 × sections answered) × 100 — 2 sections answered, 3+2 → 50%."""
    a = make([{"measure_id": "oswestry", "items": {"odi_01": 3, "odi_02": 2, "odi_03": ""}}])
    entry = a.measurements[0]
    assert entry.value == 50.0
    assert entry.score_method == "Sum 5 ÷ (5 × 2 sections) × 100"
    assert entry.score_warnings and "2 of 10 sections" in entry.score_warnings[0]


def test_questionnaire_items_override_a_typed_total():
    """The items decide the score: a stale total typed alongside them is replaced."""
    items = {f"lefs_{i:02d}": 3 for i in range(1, 21)}
    a = make([{"measure_id": "lefs", "items": items, "value": 12}])
    assert a.measurements[0].value == 60.0


def test_quickdash_not_computable_with_two_missing_items_on_items_path():
    """QuickDASH: not computable if more than 1 item is missing."""
    items = {f"qd_{i:02d}": 2 for i in range(1, 10)}  # 9 of 11
    errs = errors_of([{"measure_id": "quickdash", "items": items}])
    assert list(errs) == ["measurements.0.items"]
    assert "not computable if more than 1 item is missing" in errs["measurements.0.items"]


def test_questionnaire_total_from_own_form_accepted():
    """The practitioner may enter the total from their own licensed form."""
    assert make([{"measure_id": "neck_disability_index", "value": 14}]).measurements[0].value == 14


def test_item_out_of_range_refused():
    errs = errors_of([{"measure_id": "berg_balance", "items": {"bbs_01": 5}}])
    assert errs["measurements.0.items"] == "Berg bbs_01 must be between 0 and 4"


def test_protocol_choice_checked_against_the_measure():
    errs = errors_of([{"measure_id": "tug", "value": 10, "protocol": {"device": "crutch"}}])
    assert errs == {
        "measurements.0.protocol": "Walking aid: choose one of none, cane, walker, other"
    }


def test_protocol_unknown_key_refused():
    errs = errors_of([{"measure_id": "tug", "value": 10, "protocol": {"pace": "fast"}}])
    assert "'pace' is not a protocol detail" in errs["measurements.0.protocol"]


def test_protocol_yes_no_and_numbers_normalised():
    a = make(
        [
            {"measure_id": "chair_stand_30s", "value": 0, "protocol": {"arms_used": "yes"}},
            {"measure_id": "six_minute_walk", "value": 400, "protocol": {"course_m": "30"}},
        ]
    )
    assert a.measurements[0].protocol == {"arms_used": True}
    assert a.measurements[1].protocol == {"course_m": 30.0}


def test_arms_used_means_a_steadi_score_of_zero():
    """CDC STEADI: if the arms are used, stop and record 0."""
    errs = errors_of(
        [{"measure_id": "chair_stand_30s", "value": 9, "protocol": {"arms_used": True}}]
    )
    assert "STEADI score is 0" in errs["measurements.0.value"]


def test_four_stage_balance_computed_from_stage_seconds():
    """Highest consecutive stage held ≥ 10 s: stages 1–2 held, stage 3 held 4 s → stage 2."""
    a = make(
        [
            {
                "measure_id": "four_stage_balance",
                "protocol": {"stage1_s": 10, "stage2_s": 12, "stage3_s": 4},
            }
        ]
    )
    assert a.measurements[0].value == 2


def test_grip_side_follows_the_hand_and_contradiction_refused():
    a = make([{"measure_id": "grip_left", "value": 20}])
    assert a.measurements[0].side == "left"
    errs = errors_of([{"measure_id": "grip_right", "value": 20, "side": "left"}])
    assert "side must be right" in errs["measurements.0"]


def test_same_measure_twice_refused_but_per_leg_allowed():
    errs = errors_of([{"measure_id": "tug", "value": 10}, {"measure_id": "tug", "value": 11}])
    assert "entered twice" in errs["measurements"]
    a = make(
        [
            {"measure_id": "single_leg_stance", "value": 8, "protocol": {"leg": "left"}},
            {"measure_id": "single_leg_stance", "value": 12, "protocol": {"leg": "right"}},
        ]
    )
    assert [m.variant for m in a.measurements] == ["left", "right"]


def test_vitals_validated_with_catalogue_ranges_and_pairing():
    errs = errors_of([], vitals={"systolic": 120})
    assert errs == {"vitals": "Enter both the systolic and the diastolic pressure"}
    errs = errors_of([], vitals={"systolic": 120, "diastolic": 130})
    assert errs == {"vitals": "Diastolic pressure must be lower than systolic pressure"}
    errs = errors_of([], vitals={"resting_hr": 10})
    assert errs == {"vitals.resting_hr": "Resting heart rate must be between 20 and 300 bpm"}


def test_empty_assessment_refused():
    assert errors_of([]) == {"__all__": "Record at least one measure or the resting vitals"}


def test_custom_measure_range_from_context():
    cm = CustomMeasure(name="Farmer carry", unit="m", direction="higher_is_better", valid_max=100)
    ctx = {**CTX, "custom_measures": {cm.measure_id: cm}}
    data = {
        "client_id": "c1",
        "assessed_on": "2025-05-01",
        "measurements": [{"measure_id": cm.measure_id, "value": 150}],
    }
    with pytest.raises(ValidationError) as exc:
        Assessment.model_validate(data, context=ctx)
    assert field_errors(exc.value) == {"measurements.0.value": "Farmer carry must be at most 100 m"}


def test_stored_record_reloads_without_context():
    """A saved assessment (JSON) validates again without today or custom measures."""
    a = make([{"measure_id": "lefs", "items": {f"lefs_{i:02d}": 2 for i in range(1, 21)}}])
    again = Assessment.model_validate_json(a.model_dump_json())
    assert again == a


# -- history and interpretation ---------------------------------------------------------------


def _series():
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    base = make(
        [{"measure_id": "chair_stand_30s", "value": 8}, {"measure_id": "tug", "value": 14.0}],
        when="2025-01-06",
        created=t0,
    )
    mid = make(
        [{"measure_id": "chair_stand_30s", "value": 10}, {"measure_id": "tug", "value": 12.5}],
        when="2025-02-17",
        kind="reassessment",
        created=t0,
    )
    now = make(
        [{"measure_id": "chair_stand_30s", "value": 12}, {"measure_id": "tug", "value": 11.0}],
        when="2025-03-31",
        kind="reassessment",
        vitals={"resting_hr": 72, "systolic": 128, "diastolic": 78},
        created=t0,
    )
    return base, mid, now


def test_measure_history_dated_and_sorted():
    base, mid, now = _series()
    hist = measure_history([now, base, mid], "chair_stand_30s", date_of_birth=date(1952, 8, 1))
    assert [(o.when, o.value, o.age) for o in hist] == [
        (date(2025, 1, 6), 8, 72),
        (date(2025, 2, 17), 10, 72),
        (date(2025, 3, 31), 12, 72),
    ]


def test_age_on_birthday_edges():
    assert age_on(date(1960, 6, 1), date(2025, 5, 31)) == 64
    assert age_on(date(1960, 6, 1), date(2025, 6, 1)) == 65


def test_interpretation_of_a_72_year_old_woman():
    """Chair stand, women 70–74: normal range 10–15 (Rikli & Jones 2013 row '70–74 … 10–15');
    STEADI at risk if < 10 (row '70–74 | 12 | 10')."""
    base, mid, now = _series()
    rows = interpret_assessment(now, [base, mid, now], 72, "female")
    by = {r.measure_id: r for r in rows}
    assert list(by) == ["chair_stand_30s", "tug", "resting_hr", "bp_systolic", "bp_diastolic"]
    chair = by["chair_stand_30s"]
    assert chair.norm.status == "within" and chair.norm.label == "women 70–74"
    assert chair.baseline_norm.status == "below"
    assert chair.norm_moved
    assert chair.flags == ()
    assert chair.change.since_baseline.trend == "improved"
    assert chair.change.since_previous.difference == 2
    tug = by["tug"]
    assert [f.meaning for f in tug.flags] == []  # 11.0 s < 12 s STEADI
    assert tug.change.since_baseline.trend == "improved"  # lower is better


def test_interpretation_at_baseline_flags_fall_risk():
    """STEADI women 70–74: 8 stands < 10 → at risk; TUG 14 s ≥ 12 s → at risk."""
    base, mid, now = _series()
    rows = {r.measure_id: r for r in interpret_assessment(base, [base, mid, now], 72, "female")}
    assert [f.meaning for f in rows["chair_stand_30s"].flags] == [
        "At risk for falls",
    ]
    assert "At risk for falling" in [f.meaning for f in rows["tug"].flags]
    assert rows["tug"].change is None  # the later assessments are not counted


def test_interpreting_an_older_assessment_ignores_later_ones():
    base, mid, now = _series()
    rows = {r.measure_id: r for r in interpret_assessment(mid, [base, mid, now], 72, "female")}
    assert rows["chair_stand_30s"].current.value == 10
    assert rows["chair_stand_30s"].previous is None


def test_unsaved_draft_is_interpreted_with_the_history():
    base, mid, now = _series()
    draft = make([{"measure_id": "tug", "value": 9.0}], when="2025-05-01", kind="reassessment")
    rows = interpret_assessment(draft, [base, mid, now], 72, "female")
    assert rows[0].baseline.value == 14.0 and rows[0].previous.value == 11.0


@pytest.mark.parametrize(
    "now_value, improved_beyond",
    [(2.4, True), (2.5, False), (2.3, True), (8.0, False)],
)
def test_five_sts_mcid_used_in_the_right_direction(now_value, improved_beyond):
    """5xSTS MCID 2.6 s (SAGE, community 60–96; 'absolute cut-point 2.6 s'): 5.0 → 2.4 s
    (−2.6, equal) reaches it, 5.0 → 2.5 s (−2.5) does not; 5.0 → 8.0 s (+3.0) is a meaningful
    worsening, not an improvement."""
    a0 = make([{"measure_id": "five_times_sts", "value": 5.0}], when="2025-01-06")
    a1 = make([{"measure_id": "five_times_sts", "value": now_value}], when="2025-03-01")
    row = interpret_assessment(a1, [a0, a1], 72, "female")[0]
    comp = row.change.since_baseline
    assert comp.meaningful_improvement is improved_beyond
    if now_value == 8.0:
        assert comp.meaningful_worsening


def test_vitals_rows_carry_safety_flags():
    """ATS 6MWT relative contraindication: SBP > 180."""
    a = make([], vitals={"systolic": 185, "diastolic": 95})
    rows = {r.measure_id: r for r in interpret_assessment(a, [a], 70, "male")}
    assert any(f.kind == "safety" for f in rows["bp_systolic"].flags)


def test_a_new_assessment_is_the_baseline_until_there_is_one():
    from medex.assessments import next_assessment_kind

    tug = [{"measure_id": "tug", "value": 12}]
    assert next_assessment_kind([]) == "baseline"
    assert next_assessment_kind([make(tug, kind="discharge")]) == "baseline"
    assert next_assessment_kind([make(tug, kind="baseline")]) == "reassessment"
