"""Journeys 3, 4, 6, 7 on a 768 px tablet: a 72-year-old woman starts "Falls prevention",
a baseline (30s chair stand, TUG, 4-stage balance) shows the norm band and the STEADI flags,
a reassessment six weeks later shows the change and the chart, and she is discharged when
the criteria are met."""

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.support.browser import open_app

SHOT_ENTRY = "/tmp/outcomes-entry-768.png"
SHOT_RESULT = "/tmp/outcomes-interpretation-768.png"
SHOT_TAB = "/tmp/outcomes-tab-768.png"


def fill(page, values):
    for name, value in values.items():
        page.locator(f"#field-{name}").fill(value)


def test_falls_prevention_journey(page, console_errors):
    page.set_viewport_size({"width": 768, "height": 1024})
    today = date.today()
    baseline_day = today - timedelta(days=44)
    reassess_day = baseline_day + timedelta(days=42)
    # 72 years and 60 days old today: 72 on every assessment date.
    born = date(today.year - 72, today.month, min(today.day, 28)) - timedelta(days=60)

    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible()

    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Rose", "last_name": "Hill", "date_of_birth": born.isoformat()})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Rose Hill")

    # Journey 4: start the program.
    page.locator("#tab-outcomes").click()
    page.locator("#field-program_id").select_option(label="Falls prevention — Price not set")
    fill(page, {"start_date": (baseline_day - timedelta(days=1)).isoformat()})
    fill(page, {"baseline_deficits": "Needs arms to rise from a chair"})
    page.locator("#start-program-button").click()
    expect(page.locator("#program-name")).to_have_text("Falls prevention")
    expect(page.locator("#due")).to_contain_text("Baseline assessment")

    # Journey 3: the baseline, dated in the past.
    page.locator("#new-assessment").click()
    expect(page.locator("#assessment-title")).to_contain_text("Baseline assessment")
    fill(
        page,
        {
            "assessed_on": baseline_day.isoformat(),
            "m_chair_stand_30s_value": "8",
            "m_tug_value": "14.2",
            "m_four_stage_balance_p_stage1_s": "10",
            "m_four_stage_balance_p_stage2_s": "10",
            "m_four_stage_balance_p_stage3_s": "4",
            "v_resting_hr": "72",
            "v_systolic": "134",
            "v_diastolic": "82",
        },
    )
    page.screenshot(path=SHOT_ENTRY, full_page=True)
    page.locator("#save-assessment").click()
    expect(page.locator("#flash")).to_contain_text("Baseline assessment saved")
    chair = page.locator("#result-chair_stand_30s")
    expect(chair).to_contain_text("outside the normal range for women 70–74")
    expect(chair).to_contain_text("At risk for falls")
    expect(page.locator("#result-four_stage_balance")).to_contain_text("cannot hold tandem")
    expect(page.locator("#result-tug")).to_contain_text("At risk for falling")
    page.screenshot(path="/tmp/outcomes-baseline-768.png", full_page=True)

    # Journey 6: the reassessment six weeks later.
    page.locator("#back-outcomes").click()
    page.locator("#new-assessment").click()
    expect(page.locator("#assessment-title")).to_contain_text("Reassessment")
    fill(
        page,
        {
            "assessed_on": reassess_day.isoformat(),
            "m_chair_stand_30s_value": "12",
            "m_tug_value": "10.5",
            "m_four_stage_balance_p_stage1_s": "10",
            "m_four_stage_balance_p_stage2_s": "10",
            "m_four_stage_balance_p_stage3_s": "10",
        },
    )
    for i in range(1, 15):
        page.locator(f"#field-m_berg_balance_i_bbs_{i:02d}").fill("4")
    page.locator("#save-assessment").click()
    expect(page.locator("#flash")).to_contain_text("Reassessment saved")
    chair = page.locator("#result-chair_stand_30s")
    expect(chair).to_contain_text("Improved by 4 stands since baseline")
    expect(chair).to_contain_text("within the normal range for women 70–74")
    expect(page.locator("#result-tug")).to_contain_text("Improved by 3.7 s since baseline")
    expect(chair.locator("svg")).to_be_visible()
    page.screenshot(path=SHOT_RESULT, full_page=True)

    # Journey 7: discharge when the criteria are met.
    page.locator("#back-outcomes").click()
    expect(page.locator("#criteria-overall")).to_contain_text("All discharge criteria are met")
    expect(page.locator("#field-discharge_reason")).to_have_value("criteria_met")
    page.screenshot(path=SHOT_TAB, full_page=True)
    page.locator("#discharge-program").click()
    expect(page.locator("#flash")).to_contain_text("discharged (Discharge criteria met)")
    expect(page.locator("#client-status")).to_have_text("Discharged")
    expect(page.locator("#discharge-summary")).to_contain_text("Discharge criteria met")
    assert console_errors == []
