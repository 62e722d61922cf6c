"""Programs: templates and defaults, episodes, payments, the reassessment schedule and the
discharge criteria on their boundaries."""

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from medex.forms import field_errors
from medex.navigation import Screen
from medex.outcomes import interpret
from medex.programs import (
    DEFAULT_PROGRAMS,
    DischargeCriterion,
    Episode,
    ProgramTemplate,
    conditions_from_diagnoses,
    default_program,
    discharge_criteria_status,
    format_money,
    parse_money,
    planned_reassessment_dates,
    reassessment_dashboard_items,
    reassessments_due,
    sessions_summary,
    suggest_programs,
)

TODAY = date(2025, 6, 1)
START = date(2025, 3, 1)


def template(**kw):
    data = {
        "name": "Test program",
        "measure_ids": ["tug", "chair_stand_30s"],
        "reassess_every_sessions": 12,
        "reassess_every_days": 42,
        "expected_sessions": 24,
        "sessions_included": 24,
        "expected_weeks": 12,
        "price_cents": 120000,
        **kw,
    }
    return ProgramTemplate(**data)


def episode(tpl=None, **kw):
    tpl = tpl or template()
    data = {"client_id": "c1", "program_id": tpl.id, "program": tpl.snapshot(), "start_date": START}
    return Episode.model_validate({**data, **kw}, context={"today": TODAY})


class _A:  # anything with assessed_on
    def __init__(self, d):
        self.assessed_on = d


# -- templates --------------------------------------------------------------------------------


def test_every_default_program_is_valid_and_has_criteria_with_notes():
    keys = {p.default_key for p in DEFAULT_PROGRAMS}
    assert keys == {
        "post_tkr",
        "falls_prevention",
        "type2_diabetes",
        "low_back_pain",
        "parkinsons",
        "osteoporosis",
        "general_deconditioning",
    }
    for p in DEFAULT_PROGRAMS:
        assert p.discharge_criteria and p.notes
        assert all(c.note for c in p.discharge_criteria)
        assert ProgramTemplate.model_validate_json(p.model_dump_json()) == p


def test_default_ids_are_stable():
    """Shipped defaults keep the same id on every load (so saved edits replace them)."""
    assert default_program("post_tkr").id == "6e3ae24f-f4a0-5e85-8e57-a69561861463"
    assert len({p.id for p in DEFAULT_PROGRAMS}) == len(DEFAULT_PROGRAMS)


def test_reassessment_interval_required():
    with pytest.raises(ValidationError) as exc:
        template(reassess_every_sessions=None, reassess_every_days=None)
    assert "Set the reassessment interval" in field_errors(exc.value)["__all__"]


def test_criterion_must_use_a_program_measure():
    with pytest.raises(ValidationError) as exc:
        template(discharge_criteria=[{"measure_id": "gait_speed", "comparator": ">=", "value": 1}])
    assert "not one of this program's measures" in field_errors(exc.value)["__all__"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"measure_id": "tug", "comparator": "<"}, "needs a comparison and a number"),
        ({"measure_id": "tug", "comparator": "<", "value": 400}, "outside the valid range"),
        # Gait speed has reference means only, never a norm band (the TUG has one since
        # Bohannon 2006 was encoded).
        ({"measure_id": "gait_speed", "kind": "norm", "norm": "within_norm"}, "no published norm"),
        ({"measure_id": "tug", "kind": "mcid_improvement"}, "no MCID on file"),
        (
            {"measure_id": "tug", "kind": "no_flag", "flag_kind": "health_risk"},
            "no published cut-off of that kind",
        ),
    ],
)
def test_incomplete_or_impossible_criteria_refused(data, message):
    with pytest.raises(ValidationError) as exc:
        DischargeCriterion(**data)
    assert message in str(exc.value)


def test_icd_prefixes_normalised_and_checked():
    t = template(diagnosis_prefixes=["m17.1", " Z96.65 "])
    assert t.diagnosis_prefixes == ["M171", "Z9665"]
    with pytest.raises(ValidationError):
        template(diagnosis_prefixes=["17"])


def test_suggest_programs_most_specific_first():
    names = [p.default_key for p in suggest_programs(["Z96.651", "R29.6"])]
    assert names == ["post_tkr", "falls_prevention"]  # Z9665 (5 chars) beats R296 (4)
    assert [p.default_key for p in suggest_programs(["E11.9"])] == ["type2_diabetes"]
    assert suggest_programs(["J44.9"]) == []


def test_archived_templates_not_suggested():
    t = template(diagnosis_prefixes=["J44"], archived=True)
    assert suggest_programs(["J44.9"], [t]) == []


def test_conditions_from_diagnoses():
    assert conditions_from_diagnoses(["M17.11", "M54.50", "Z91.81"]) == [
        "knee_oa",
        "low_back_pain",
        "falls_history",
    ]
    assert conditions_from_diagnoses(["I63.9"]) == ["stroke"]  # never "acute_stroke"


# -- money and episodes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, cents", [("1200", 120000), ("1,200.50", 120050), ("$95", 9500), ("0.01", 1)]
)
def test_parse_money(typed, cents):
    assert parse_money(typed) == cents


@pytest.mark.parametrize(
    "typed, message",
    [("-5", "cannot be negative"), ("1.005", "to the cent"), ("abc", "dollars and cents")],
)
def test_parse_money_refuses(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_money(typed)


def test_format_money():
    assert format_money(120050) == "$1,200.50"
    assert format_money(5) == "$0.05"
    assert format_money(None) == ""


def test_snapshot_is_independent_of_later_template_edits():
    tpl = template()
    ep = episode(tpl)
    tpl.name = "Renamed"
    assert ep.program.name == "Test program"


def test_payments_total_and_balance():
    ep = episode(
        payments=[
            {"paid_on": "2025-03-01", "amount_cents": 60000, "method": "card"},
            {"paid_on": "2025-04-01", "amount_cents": 30050, "method": "hsa_fsa"},
        ]
    )
    assert ep.paid_cents == 90050
    assert ep.balance_cents == 120000 - 90050
    no_price = episode(template(price_cents=None))
    assert no_price.balance_cents is None


def test_payment_in_future_or_zero_refused():
    with pytest.raises(ValidationError) as exc:
        episode(payments=[{"paid_on": "2025-06-02", "amount_cents": 100}])
    assert field_errors(exc.value) == {
        "payments.0.paid_on": "A payment date cannot be in the future"
    }
    with pytest.raises(ValidationError):
        episode(payments=[{"paid_on": "2025-05-02", "amount_cents": 0}])


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"status": "discharged"}, "Enter the discharge date"),
        ({"status": "discharged", "discharge_date": "2025-05-01"}, "Choose the reason"),
        (
            {"status": "discharged", "discharge_date": "2025-05-01", "discharge_reason": "other"},
            "Describe the reason",
        ),
        (
            {
                "status": "discharged",
                "discharge_date": "2025-02-01",
                "discharge_reason": "client_request",
            },
            "cannot be before the program starts",
        ),
        ({"discharge_reason": "client_request"}, "no discharge date or reason"),
        ({"physician_follow_up": "2025-02-01"}, "follow-up date cannot be before"),
        ({"start_date": TODAY + timedelta(days=61)}, "more than 60 days ahead"),
    ],
)
def test_episode_validation(kw, message):
    with pytest.raises(ValidationError) as exc:
        episode(**kw)
    assert message in str(exc.value)


def test_discharge_date_not_in_future():
    with pytest.raises(ValidationError) as exc:
        episode(status="discharged", discharge_date="2025-06-02", discharge_reason="client_request")
    assert field_errors(exc.value) == {
        "discharge_date": "The discharge date cannot be in the future"
    }


def test_sessions_used_and_remaining():
    ep = episode(sessions_prior=2)
    s = sessions_summary(ep, 20)
    assert (s.used, s.remaining, s.over) == (22, 2, 0)
    s = sessions_summary(ep, 25)
    assert (s.used, s.remaining, s.over) == (27, 0, 3)
    assert s.text == "27 of 24 sessions used, 0 remaining (3 beyond the package)"


def test_planned_reassessment_dates_every_42_days_to_week_12():
    ep = episode()
    assert planned_reassessment_dates(ep) == [
        START + timedelta(days=42),
        START + timedelta(weeks=12),
    ]


# -- reassessment schedule --------------------------------------------------------------------


def test_baseline_due_when_none_recorded():
    [item] = reassessments_due(episode(), [], [], START)
    assert (item.kind, item.status) == ("baseline", "due")
    [item] = reassessments_due(episode(), [], [], START + timedelta(days=1))
    assert (item.status, item.days_overdue) == ("overdue", 1)


def test_days_based_due_exactly_on_the_day_and_overdue_by_one():
    ep = episode(template(reassess_every_sessions=None))
    last = date(2025, 4, 1)
    due_day = last + timedelta(days=42)
    [item] = reassessments_due(ep, [_A(START), _A(last)], [], due_day - timedelta(days=1))
    assert (item.status, item.due_on) == ("upcoming", due_day)
    [item] = reassessments_due(ep, [_A(START), _A(last)], [], due_day)
    assert (item.status, item.days_overdue, item.title) == ("due", 0, "Reassessment due today")
    [item] = reassessments_due(ep, [_A(START), _A(last)], [], due_day + timedelta(days=1))
    assert (item.status, item.days_overdue) == ("overdue", 1)
    assert item.title == "Reassessment overdue by 1 day"


def test_session_based_due_on_the_nth_session_after_the_last_assessment():
    """12 sessions: the 12th attended session after the assessment day sets the due date; a
    session on the assessment day itself does not count."""
    ep = episode(template(reassess_every_days=None))
    last = date(2025, 3, 1)
    sessions = [last] + [last + timedelta(days=2 * i) for i in range(1, 13)]  # 12 after
    twelfth = last + timedelta(days=24)
    [item] = reassessments_due(ep, [_A(last)], sessions[:-1], twelfth)
    assert (item.status, item.due_on, item.sessions_to_go) == ("upcoming", None, 1)
    [item] = reassessments_due(ep, [_A(last)], sessions, twelfth)
    assert (item.status, item.due_on) == ("due", twelfth)
    [item] = reassessments_due(ep, [_A(last)], sessions, twelfth + timedelta(days=1))
    assert (item.status, item.days_overdue) == ("overdue", 1)


def test_whichever_comes_first_sessions_or_days():
    ep = episode()  # 12 sessions or 42 days
    last = date(2025, 3, 1)
    fast = [last + timedelta(days=i) for i in range(1, 13)]  # 12 sessions in 12 days
    [item] = reassessments_due(ep, [_A(last)], fast, date(2025, 3, 13))
    assert item.due_on == date(2025, 3, 13) and "12 sessions" in item.reason
    slow = [last + timedelta(days=7 * i) for i in range(1, 7)]  # 6 sessions in 6 weeks
    [item] = reassessments_due(ep, [_A(last)], slow, date(2025, 4, 12))
    assert item.due_on == last + timedelta(days=42) and "42 days" in item.reason
    assert item.status == "due"


def test_discharged_episode_has_nothing_due():
    ep = episode(
        status="discharged", discharge_date="2025-05-01", discharge_reason="client_request"
    )
    assert reassessments_due(ep, [], [], TODAY) == []


def test_dashboard_items_only_for_due_and_overdue():
    ep = episode(template(reassess_every_sessions=None))
    last = date(2025, 4, 1)
    late = reassessments_due(ep, [_A(last)], [], last + timedelta(days=50))
    soon = reassessments_due(ep, [_A(last)], [], last + timedelta(days=10))
    items = reassessment_dashboard_items([("c1", "Ann Lee", late), ("c2", "Bo Ray", soon)])
    assert [i.title for i in items] == ["Ann Lee: reassessment overdue by 8 days"]
    assert items[0].severity == "urgent" and items[0].link == Screen("client", {"id": "c1"})


# -- discharge criteria -----------------------------------------------------------------------


def _row(measure_id, *values, start=date(2025, 1, 6)):
    hist = [(start + timedelta(days=42 * i), v) for i, v in enumerate(values)]
    return interpret(measure_id, hist)


def _status(criteria, rows, age=72, sex="female", measure_ids=None):
    mids = measure_ids or sorted({c["measure_id"] for c in criteria})
    tpl = template(measure_ids=mids, discharge_criteria=criteria)
    return discharge_criteria_status(episode(tpl), rows, age, sex)


@pytest.mark.parametrize("value, state", [(11.9, "met"), (12.0, "not_met"), (12.1, "not_met")])
def test_tug_below_12_boundary(value, state):
    """STEADI: TUG ≥ 12 s = at risk; the rule 'TUG < 12 s' is met only below 12."""
    st = _status([{"measure_id": "tug", "comparator": "<", "value": 12}], [_row("tug", value)])
    assert st.results[0].status == state and st.overall == state


@pytest.mark.parametrize("value, state", [(9, "not_met"), (10, "met"), (15, "met"), (16, "met")])
def test_chair_stand_not_below_norm_boundary(value, state):
    """Rikli & Jones women 70–74: 10–15 stands. 9 is below; 10 is the lower limit; above the
    range also meets 'not below'."""
    crit = [{"measure_id": "chair_stand_30s", "kind": "norm", "norm": "not_below_norm"}]
    st = _status(crit, [_row("chair_stand_30s", value)])
    assert st.results[0].status == state


@pytest.mark.parametrize("value, state", [(15, "met"), (16, "not_met")])
def test_chair_stand_within_norm_boundary(value, state):
    crit = [{"measure_id": "chair_stand_30s", "kind": "norm", "norm": "within_norm"}]
    assert _status(crit, [_row("chair_stand_30s", value)]).results[0].status == state


def test_norm_rule_unknown_outside_published_ages():
    """Rikli & Jones cover 60–94: for a 55-year-old the rule cannot be judged."""
    crit = [{"measure_id": "chair_stand_30s", "kind": "norm", "norm": "not_below_norm"}]
    st = _status(crit, [_row("chair_stand_30s", 14)], age=55)
    assert st.results[0].status == "unknown" and st.overall == "unknown"


@pytest.mark.parametrize("value, state", [(9, "not_met"), (10, "met")])
def test_steadi_no_flag_boundary(value, state):
    """STEADI women 70–74 at risk if < 10 (row '70–74 | 12 | 10')."""
    crit = [{"measure_id": "chair_stand_30s", "kind": "no_flag", "flag_kind": "fall_risk"}]
    assert _status(crit, [_row("chair_stand_30s", value)]).results[0].status == state


def test_no_flag_unknown_without_sex():
    crit = [{"measure_id": "chair_stand_30s", "kind": "no_flag", "flag_kind": "fall_risk"}]
    st = _status(crit, [_row("chair_stand_30s", 14)], sex=None)
    assert st.results[0].status == "unknown"


@pytest.mark.parametrize(
    "values, state",
    [((40, 49), "met"), ((40, 48), "not_met"), ((49, 40), "not_met"), ((40,), "unknown")],
)
def test_lefs_mcid_improvement_boundary(values, state):
    """LEFS MCID 9 points (Binkley 1999): +9 meets it, +8 does not, −9 is worse."""
    crit = [{"measure_id": "lefs", "kind": "mcid_improvement"}]
    assert _status(crit, [_row("lefs", *values)]).results[0].status == state


def test_overall_all_must_be_met():
    crit = [
        {"measure_id": "tug", "comparator": "<", "value": 12},
        {"measure_id": "chair_stand_30s", "kind": "norm", "norm": "not_below_norm"},
    ]
    met = _status(crit, [_row("tug", 10.0), _row("chair_stand_30s", 12)])
    assert met.overall == "met" and met.sentence.startswith("All discharge criteria are met")
    one_unknown = _status(crit, [_row("tug", 10.0)])
    assert one_unknown.overall == "unknown"
    assert one_unknown.results[1].detail == "Not assessed yet"
    one_not = _status(crit, [_row("tug", 13.0)])
    assert one_not.overall == "not_met"
    assert (
        one_not.sentence == "Discharge criteria: 1 not yet met and 1 cannot be judged yet (of 2)."
    )


def test_gait_speed_at_least_1_boundary():
    """Cesari 2005: < 1.0 m/s high risk; '≥ 1.0 m/s' met at exactly 1.00."""
    crit = [{"measure_id": "gait_speed", "comparator": ">=", "value": 1.0}]
    assert _status(crit, [_row("gait_speed", 1.0)]).overall == "met"
    assert _status(crit, [_row("gait_speed", 0.99)]).overall == "not_met"


def test_default_tkr_criteria_met_for_a_recovered_client():
    tkr = default_program("post_tkr")
    ep = episode(tkr)
    rows = [
        _row("tug", 14.0, 10.5),
        _row("chair_stand_30s", 8, 12),
        _row("gait_speed", 0.8, 1.1),
        _row("lefs", 40, 52),
    ]
    st = discharge_criteria_status(ep, rows, 72, "female")
    assert [r.status for r in st.results] == ["met"] * 4
    assert st.overall == "met"
