"""The client's turn with the PSFS and the QuickDASH: the practitioner sets the practice PIN in
Settings (from the hand-over screen), pastes the wording of their licensed QuickDASH (HTML is
refused next to its item, what was typed kept), hands the tablet over; the client names and
rates their own activities and answers the QuickDASH in the practice's wording (skipping one
item); the practitioner returns with the PIN and sees the scored baseline. A second turn
re-rates the same activities and the goals show met / partly met / not met."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_client_turn import small_targets
from tests.support.browser import assert_accessible, set_up_practice_with_a_client, shoot

PIN = "4711"
SHOTS = Path(os.environ.get("MEDEX_SHOTS", "/tmp/shots-turn"))
ACTIVITIES = ("Walking to the shops", "Climbing the stairs at home", "Carrying the shopping")
# Invented wording: the test never carries the licensed QuickDASH text.
QD_ITEMS = [f"Practice question {n} about your arm" for n in range(1, 12)]
QD_ANSWERS = ["Not hard", "A little hard", "Quite hard", "Very hard", "Cannot do it"]


@pytest.fixture(autouse=True)
def patient_expect():
    """A shared 2-core machine: give each step more than the default 5 s, then restore it."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def look(page, name):
    assert small_targets(page) == 0, f"{name}: touch targets under 44 px"
    shoot(page, SHOTS, name)


def unlock(page):
    expect(page.get_by_role("heading", name="Thank you, Ana")).to_be_visible()
    page.get_by_label("Practice PIN").fill(PIN)
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#flash")).to_contain_text("The client's turn has ended")


def hand_over(page, *labels):
    page.locator("#hand-to-client-top").click()
    expect(page.get_by_role("heading", name="Hand the tablet to Ana López")).to_be_visible()
    for label in labels:
        page.get_by_label(label).check()
    page.locator("#hand-to-client").click()


def rate(page, *values, last="Finish"):
    for n, value in enumerate(values, 1):
        expect(page.locator(".turn-count")).to_contain_text(f"activity {n} of {len(values)}")
        expect(page.locator(".turn-activity")).to_have_text(ACTIVITIES[n - 1])
        page.get_by_role("radio", name=str(value), exact=True).check()
        page.get_by_role("button", name="Next" if n < len(values) else last).click()


def test_psfs_and_quickdash_on_the_tablet(page, console_errors):
    set_up_practice_with_a_client(page)
    page.locator("#tab-outcomes").click()
    page.locator("#field-program_id").select_option(index=1)
    page.locator("#start-program-button").click()
    expect(page.locator("#flash")).to_contain_text("Program started")
    client_page = page.evaluate("location.hash")

    # No PIN and no passphrase: the hand-over screen sends the practitioner to Settings.
    page.locator("#hand-to-client-top").click()
    expect(page.locator("#turn-pin-needed")).to_contain_text("Set a practice PIN first")
    expect(page.get_by_label("Arm, shoulder and hand (QuickDASH)")).to_be_disabled()
    expect(page.locator("#short-label-note")).to_contain_text("LEFS")
    look(page, "setup-no-pin")
    page.get_by_role("button", name="Set the practice PIN in Settings").click()
    page.get_by_label("New practice PIN (digits)").fill("1234")
    page.get_by_label("The new PIN again").fill("1234")
    page.get_by_role("button", name="Save the PIN").click()
    expect(page.locator("#error-pin")).to_contain_text("in a row")
    page.get_by_label("New practice PIN (digits)").fill(PIN)
    page.get_by_label("The new PIN again").fill(PIN)
    page.get_by_role("button", name="Save the PIN").click()
    expect(page.locator("#flash")).to_contain_text("Practice PIN saved")
    expect(page.locator("#turn-pin-needed")).to_have_count(0)

    # The QuickDASH needs the practice's licensed wording: pasted in Settings.
    page.get_by_role("link", name="enter it in Settings").click()
    expect(page.get_by_role("heading", name="QuickDASH wording")).to_be_visible()
    page.get_by_label("Version or licence reference (optional)").fill("Licence 2026-0042")
    page.get_by_label("Answer options for every item").fill("\n".join(QD_ANSWERS))
    for n, text in enumerate(QD_ITEMS, 1):
        page.locator(f"#field-item_{n}").fill(text)
    page.locator("#field-item_2").fill("<b>Practice question 2</b>")
    page.get_by_role("button", name="Save the QuickDASH wording").click()
    expect(page.locator("#error-item_2")).to_contain_text("Paste plain text only")
    expect(page.locator("#field-item_2")).to_have_value("<b>Practice question 2</b>")
    expect(page.locator("#field-item_11")).to_have_value(QD_ITEMS[10])
    look(page, "wording-refused")
    page.locator("#field-item_2").fill(QD_ITEMS[1])
    page.get_by_role("button", name="Save the QuickDASH wording").click()
    expect(page.locator("#flash")).to_contain_text("QuickDASH wording saved")
    expect(page.locator("#wording-list [data-instrument=quickdash]")).to_contain_text(
        "your licensed wording (Licence 2026-0042)"
    )
    assert_accessible(page, "the questionnaire wording list")
    look(page, "wording-list")

    # Hand over for the PSFS and the QuickDASH.
    page.goto(client_page)
    hand_over(page, "Activities you find hard (PSFS)", "Arm, shoulder and hand (QuickDASH)")

    # No goals on file: the client names their activities (at least 3), then rates each.
    expect(page.get_by_role("heading", name="Activities you find hard (PSFS)")).to_be_visible()
    page.get_by_label("Activity 1").fill(ACTIVITIES[0])
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#error-activity_2")).to_contain_text("at least 3 activities")
    expect(page.get_by_label("Activity 1")).to_have_value(ACTIVITIES[0])
    page.get_by_label("Activity 2").fill(ACTIVITIES[1])
    page.get_by_label("Activity 3").fill(ACTIVITIES[2])
    look(page, "psfs-name")
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".turn-activity")).to_have_text(ACTIVITIES[0])
    look(page, "psfs-rate")
    assert_accessible(page, "a PSFS rating page")
    rate(page, 2, 3, 4, last="Next")

    # The QuickDASH in the practice's words, one item a page; one item skipped.
    expect(page.locator(".turn-count")).to_contain_text("question 1 of 11")
    expect(page.locator(".turn-item")).to_have_text(QD_ITEMS[0])
    expect(page.get_by_role("radio", name="Cannot do it")).to_be_visible()
    look(page, "quickdash-item")
    assert_accessible(page, "a QuickDASH item")
    for n in range(1, 12):
        expect(page.locator(".turn-count")).to_contain_text(f"question {n} of 11")
        if n == 4:
            page.get_by_role("button", name="Skip this question").click()
            continue
        page.get_by_role("radio", name="Quite hard").check()  # 3
        page.get_by_role("button", name="Finish" if n == 11 else "Next").click()
    look(page, "locked")
    unlock(page)

    # The baseline: the PSFS mean (2 + 3 + 4) ÷ 3 = 3 and QuickDASH ((30 ÷ 10) − 1) × 25 = 50.
    expect(page.locator("#flash")).to_contain_text("kept as the client's goals")
    expect(page.locator("#assessment-list tbody tr")).to_have_count(1)
    expect(page.locator("#assessment-list")).to_contain_text("Baseline")
    expect(page.locator("#outcome-table tr[data-measure=quickdash]")).to_contain_text("50")
    expect(page.locator("#outcome-table tr[data-measure=psfs]")).to_contain_text("3")
    expect(page.locator("#goal-table")).to_contain_text(ACTIVITIES[1])

    # A second turn re-rates the same activities: the goals are re-scored.
    hand_over(page, "Activities you find hard (PSFS)")
    rate(page, 6, 5, 4)
    unlock(page)
    expect(page.locator("#assessment-list tbody tr")).to_have_count(2)
    goals = page.locator("#goal-table")
    expect(goals.locator("tr[data-goal='1']")).to_contain_text("Met")  # 2 → 6
    expect(goals.locator("tr[data-goal='2']")).to_contain_text("Partly met")  # 3 → 5
    expect(goals.locator("tr[data-goal='3']")).to_contain_text("Not met")  # 4 → 4
    shoot(page, SHOTS, "outcomes-after-turns")

    # The PIN can be changed in Settings only with the current one.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Change or remove the PIN").click()
    page.get_by_label("Current PIN", exact=True).fill("9999")
    page.get_by_label("New practice PIN (digits)").fill("8642")
    page.get_by_label("The new PIN again").fill("8642")
    page.get_by_role("button", name="Change the PIN").click()
    expect(page.locator("#error-current")).to_contain_text("not the current practice PIN")
    look(page, "practice-pin")
    assert_accessible(page, "the practice PIN settings")
    page.get_by_label("Current PIN", exact=True).fill(PIN)
    page.get_by_label("New practice PIN (digits)").fill("8642")
    page.get_by_label("The new PIN again").fill("8642")
    page.get_by_role("button", name="Change the PIN").click()
    expect(page.locator("#flash")).to_contain_text("Practice PIN changed")
    assert console_errors == []
