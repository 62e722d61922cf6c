"""Outcome screens (issue 4) through the DOM-free App and the in-memory repository: the
Outcomes tab (program, payments, discharge), assessment entry and interpretation, program
templates and custom measures, the dashboard and the onboarding checklist."""

from __future__ import annotations

from datetime import date

import pytest

from app import clock, core, icd10_picker
from medex.assessments import Assessment
from medex.icd10 import Icd10Index
from medex.intake import Client, ClientStatus, ReferringProvider
from medex.measures import CustomMeasure
from medex.programs import Episode, ProgramTemplate, default_program
from medex.repository import InMemoryRepository
from tests.support.aio import run
from tests.support.fakes import FakePlatform
from tests.support.pages import Elements, FormData
from tests.support.seeders import FIXTURE, GOOD

TODAY = date(2026, 3, 10)
FALLS = default_program("falls_prevention")


@pytest.fixture
def app(monkeypatch):
    core.load_screens()
    index = Icd10Index.from_text(FIXTURE)

    async def source():
        return index

    monkeypatch.setattr(icd10_picker, "icd10_source", source)
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    a = core.App(InMemoryRepository(), FakePlatform())
    run(a.load())
    run(a.dispatch("save-profile", dict(GOOD)))
    a.navigate("#/")
    return a


def html(app, location=None):
    if location:
        app.navigate(location)
    return run(app.html())


def add_client(app, dob="1953-09-01", sex="female"):
    """A 72-year-old woman on TODAY."""
    data = {"client_id": "", "first_name": "Rose", "last_name": "Hill", "sex": sex}
    run(app.dispatch("save-client", {**data, "date_of_birth": dob}))
    return run(app.repo.list(Client))[-1]


def start(app, client, program=FALLS, start_date="2026-01-20"):
    run(
        app.dispatch(
            "start-program",
            {"client_id": client.id, "program_id": program.id, "start_date": start_date},
        )
    )
    return next(e for e in run(app.repo.find(Episode, "client_id", client.id)) if e.is_active)


def entry_form(app, client, kind="baseline"):
    return FormData(
        html(app, f"#/assessment-new?client={client.id}&kind={kind}"),
        f"assessment-form-{client.id}",
    ).data


def save_assessment(app, client, kind="baseline", **values):
    data = {**entry_form(app, client, kind), **values, "intent": "save"}
    run(app.dispatch("assessment-form", data))


BASELINE = {
    "assessed_on": "2026-01-20",
    "m_chair_stand_30s_value": "8",
    "m_tug_value": "14.2",
    "m_four_stage_balance_p_stage1_s": "10",
    "m_four_stage_balance_p_stage2_s": "10",
    "m_four_stage_balance_p_stage3_s": "4",
}


def test_outcomes_tab_suggests_the_program_from_the_referral_codes(app):
    """The start form preselects the template whose ICD-10 prefix matches (M17.11 → TKR)."""
    run(app.dispatch("save-provider", {"name": "Maria Chen", "credentials": "MD"}))
    provider = run(app.repo.list(ReferringProvider))[-1]
    client = add_client(app)
    run(app.dispatch("referral-form", {"client_id": client.id, "add_code": "M17.11"}))
    run(
        app.dispatch(
            "referral-form",
            {"client_id": client.id, "provider_id": provider.id, "referred_on": "2026-03-01"},
        )
    )
    form = FormData(
        html(app, f"#/client-outcomes?id={client.id}"), f"program-start-form-{client.id}"
    )
    assert form.data["program_id"] == default_program("post_tkr").id
    assert "Suggested by the referral (M17.11)" in html(app)


def test_starting_a_program_shows_the_episode_and_baseline_due(app):
    client = add_client(app)
    start(app, client)
    page = Elements(html(app, f"#/client-outcomes?id={client.id}"))
    assert page.text["program-name"] == "Falls prevention"
    assert "0 of 24 sessions used, 24 remaining" in page.text["sessions-summary"]
    assert "Baseline assessment overdue" in page.text["due"]
    assert "Mar 3, 2026" in page.text["planned-dates"]  # start + 42 days
    assert "Record the baseline" in page.text["new-assessment"]


def test_starting_without_a_program_puts_the_error_next_to_the_field(app):
    client = add_client(app)
    run(app.dispatch("start-program", {"client_id": client.id, "program_id": "", "start_date": ""}))
    page = Elements(html(app, f"#/client-outcomes?id={client.id}"))
    assert page.text["error-program_id"] == "Choose a program"
    assert app.state.focus == "field-program_id"


def test_entry_form_offers_the_program_measures_with_tablet_keypads(app):
    """One screen: the program's measures checked, numeric keypad, compact protocol selects,
    Berg as a 14-item grid with short labels."""
    client = add_client(app)
    start(app, client)
    page = html(app, f"#/assessment-new?client={client.id}&kind=baseline")
    fields = Elements(page).inputs
    for mid in FALLS.measure_ids:
        assert "checked" in fields[f"pick_{mid}"]
    assert fields["m_tug_value"]["inputmode"] == "decimal"
    assert '<select id="field-m_tug_p_device"' in page
    berg = [n for n in fields if n.startswith("m_berg_balance_i_")]
    assert len(berg) == 14 and fields[berg[0]]["inputmode"] == "numeric"
    assert "sit to stand" in page


def test_baseline_shows_norm_band_steadi_flag_and_first_value_chart(app):
    client = add_client(app)
    start(app, client)
    save_assessment(app, client, **BASELINE, v_systolic="134", v_diastolic="82")
    assert app.state.route == "assessment"
    page = html(app)
    # ACC/AHA 2017: stage 1 = 130–139 or 80–89; vitals share one card without charts.
    assert "Blood pressure: hypertension stage 1" in Elements(page).text["bp-category"]
    # Rikli & Jones women 70–74: 10–15 stands; STEADI below-average score for women 70–74: < 10.
    assert "8 stands is below average: outside the normal range for women 70–74" in page
    assert "At risk for falls" in page
    assert "Increased fall risk: cannot hold tandem stance" in page  # stage 2 reached
    assert "At risk for falling" in page  # TUG 14.2 s ≥ 12 s (STEADI)
    assert page.count("<svg") == 3
    saved = run(app.repo.list(Assessment))[0]
    assert saved.entry("four_stage_balance").value == 2


def test_reassessment_shows_change_from_baseline_against_the_mdc_mcid(app):
    client = add_client(app)
    start(app, client)
    save_assessment(app, client, **BASELINE)
    save_assessment(
        app,
        client,
        "reassessment",
        assessed_on="2026-03-03",
        m_chair_stand_30s_value="12",
        m_tug_value="10.5",
    )
    page = html(app)
    assert "Reassessment · Mar 3, 2026" in page
    assert "Improved by 3.7 s since baseline" in page  # TUG: lower is better
    assert "Improved by 4 stands since baseline" in page
    assert "12 stands is within the normal range for women 70–74" in page


def test_a_value_out_of_range_is_refused_next_to_its_field_and_kept(app):
    client = add_client(app)
    start(app, client)
    save_assessment(app, client, **{**BASELINE, "m_tug_value": "400"})
    assert app.state.route == "assessment-new"
    page = Elements(html(app))
    assert "Timed Up and Go must be more than 0 and at most 300 s" in page.text["error-m_tug_value"]
    assert page.inputs["m_tug_value"]["value"] == "400"
    assert page.inputs["m_chair_stand_30s_value"]["value"] == "8"
    assert app.state.focus == "field-m_tug_value"
    assert run(app.repo.list(Assessment)) == []


def test_a_future_date_is_refused_next_to_the_date(app):
    client = add_client(app)
    start(app, client)
    save_assessment(app, client, **{**BASELINE, "assessed_on": "2026-03-11"})
    assert "cannot be in the future" in Elements(html(app)).text["error-assessed_on"]


def test_incomplete_berg_items_are_refused_at_the_item_grid(app):
    client = add_client(app)
    start(app, client)
    items = {f"m_berg_balance_i_bbs_{i:02d}": "3" for i in range(1, 14)}  # 13 of 14
    save_assessment(app, client, **BASELINE, **items)
    page = Elements(html(app))
    assert "1 item(s) missing" in page.text["error-m_berg_balance_items"]


def test_berg_items_are_scored(app):
    client = add_client(app)
    start(app, client)
    items = {f"m_berg_balance_i_bbs_{i:02d}": "3" for i in range(1, 15)}
    save_assessment(app, client, **BASELINE, **items)
    assert run(app.repo.list(Assessment))[0].entry("berg_balance").value == 42


def test_blood_pressure_pair_error_sits_next_to_systolic(app):
    client = add_client(app)
    start(app, client)
    save_assessment(app, client, **BASELINE, v_systolic="130")
    assert (
        "Enter both the systolic and the diastolic" in Elements(html(app)).text["error-v_systolic"]
    )


def test_changing_the_measures_keeps_what_was_typed(app):
    client = add_client(app)
    start(app, client)
    data = {**entry_form(app, client), "m_tug_value": "13", "pick_lefs": "1", "intent": "measures"}
    run(app.dispatch("assessment-form", data))
    page = Elements(html(app))
    assert page.inputs["m_tug_value"]["value"] == "13"
    assert "m_lefs_i_lefs_20" in page.inputs


def test_payment_is_recorded_and_a_bad_amount_is_refused(app):
    client = add_client(app)
    episode = start(app, client)
    run(
        app.dispatch(
            "record-payment",
            {"episode_id": episode.id, "paid_on": "2026-03-01", "amount": "abc", "method": "card"},
        )
    )
    assert (
        "Enter an amount in dollars and cents"
        in Elements(html(app, f"#/client-outcomes?id={client.id}")).text["error-pay_amount"]
    )
    run(
        app.dispatch(
            "record-payment",
            {"episode_id": episode.id, "paid_on": "2026-03-01", "amount": "450", "method": "card"},
        )
    )
    assert app.state.flash == "Payment of $450.00 recorded."
    assert "Paid $450.00" in Elements(html(app)).text["balance"]


def test_criteria_met_discharge_is_refused_until_met_then_client_is_discharged(app):
    client = add_client(app)
    episode = start(app, client)
    save_assessment(app, client, **BASELINE)
    form = {
        "episode_id": episode.id,
        "discharge_date": "2026-03-10",
        "discharge_reason": "criteria_met",
    }
    run(app.dispatch("discharge-program", form))
    page = Elements(html(app, f"#/client-outcomes?id={client.id}"))
    assert "not yet met" in page.text["error-discharge_reason"]
    berg = {f"m_berg_balance_i_bbs_{i:02d}": "4" for i in range(1, 15)}
    save_assessment(
        app,
        client,
        "reassessment",
        assessed_on="2026-03-03",
        m_chair_stand_30s_value="12",
        m_tug_value="10.5",
        m_four_stage_balance_p_stage1_s="10",
        m_four_stage_balance_p_stage2_s="10",
        m_four_stage_balance_p_stage3_s="10",
        **berg,
    )
    page = Elements(html(app, f"#/client-outcomes?id={client.id}"))
    assert "All discharge criteria are met" in page.text["criteria-overall"]
    run(app.dispatch("discharge-program", form))
    assert "discharged (Discharge criteria met)" in app.state.flash
    assert run(app.repo.get(Client, client.id)).status is ClientStatus.DISCHARGED
    assert "Discharged on Mar 10, 2026" in Elements(html(app)).text["discharge-summary"]


def test_discharge_for_another_reason_needs_the_note(app):
    client = add_client(app)
    episode = start(app, client)
    form = {"episode_id": episode.id, "discharge_date": "2026-03-10", "discharge_reason": "other"}
    run(app.dispatch("discharge-program", form))
    assert (
        "Describe the reason"
        in Elements(html(app, f"#/client-outcomes?id={client.id}")).text["error-discharge_note"]
    )
    run(app.dispatch("discharge-program", {**form, "discharge_note": "Moved away"}))
    assert not run(app.repo.get(Episode, episode.id)).is_active


def test_checklist_ticks_program_and_baseline(app):
    client = add_client(app)
    page = html(app, f"#/client?id={client.id}&section=checklist")
    assert 'data-item="program"' in page and "missing" in page
    start(app, client)
    save_assessment(app, client, **BASELINE)
    page = html(app, f"#/client?id={client.id}&section=checklist")
    for key in ("assessment", "program"):
        item = page.split(f'data-item="{key}"')[0].rsplit("<li", 1)[1]
        assert "done" in item


def test_dashboard_lists_an_overdue_baseline(app):
    client = add_client(app)
    start(app, client)
    app.state.warm = True
    page = html(app, "#/")
    assert "Rose Hill: baseline assessment overdue by 49 days" in page


def test_programs_screen_lists_defaults_and_saves_an_edit(app):
    page = html(app, "#/programs")
    assert "Falls prevention" in page and "Post total knee replacement" in page
    form = FormData(html(app, f"#/program?id={FALLS.id}"), f"program-form-{FALLS.id}").data
    run(app.dispatch("save-program", {**form, "price": "1,200", "intent": "save"}))
    saved = run(app.repo.get(ProgramTemplate, FALLS.id))
    assert saved.price_cents == 120000 and len(saved.discharge_criteria) == 4
    assert "$1,200.00" in html(app, "#/programs")


def test_program_without_interval_or_with_a_rule_off_its_measures_is_refused(app):
    form = FormData(html(app, "#/program?id=new"), "program-form-new").data
    data = {
        **form,
        "name": "Shoulder",
        "reassess_every_days": "",
        "c_0_measure_id": "tug",
        "c_0_kind": "threshold",
        "c_0_comparator": "<",
        "c_0_value": "12",
        "intent": "save",
    }
    run(app.dispatch("save-program", data))
    page = Elements(html(app))
    assert "Set the reassessment interval" in page.text["error-reassess_every_sessions"]
    run(app.dispatch("save-program", {**data, "reassess_every_days": "28"}))
    assert "not one of this program's measures" in Elements(html(app)).text["error-measures"]
    run(app.dispatch("save-program", {**data, "reassess_every_days": "28", "measure_tug": "1"}))
    assert app.state.flash == "Program saved: Shoulder."


def test_custom_measure_is_added_and_offered_in_the_entry_form(app):
    run(
        app.dispatch(
            "save-custom-measure", {"name": "", "unit": "s", "direction": "lower_is_better"}
        )
    )
    assert Elements(html(app, "#/programs")).text["error-cm_name"] == "This field is required"
    run(
        app.dispatch(
            "save-custom-measure",
            {"name": "Stair climb", "unit": "s", "direction": "lower_is_better", "mcid": "2"},
        )
    )
    custom = run(app.repo.list(CustomMeasure))[0]
    assert "Stair climb" in Elements(html(app)).text["custom-list"]
    client = add_client(app)
    start(app, client)
    key = custom.measure_id.replace(":", "_").replace("-", "_")
    data = {**entry_form(app, client), f"pick_{key}": "1", "intent": "measures"}
    run(app.dispatch("assessment-form", data))
    save_assessment(app, client, **BASELINE, **{f"m_{key}_value": "14.5"})
    assert run(app.repo.list(Assessment))[0].entry(custom.measure_id).value == 14.5
