"""The client's turn on the tablet: the practitioner hands the tablet over for a PAR-Q+ and a
LEFS; the client cannot reach anything else (an address, Back, a reload); finishing locks the
tablet until the practice PIN; the LEFS is scored into an assessment on the client's outcomes."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from medex.client_turn import ACSM_QUESTIONS
from medex.screening import PARQ_PAGE1_LABELS
from tests.support.browser import (
    TABLET_SIZES,
    assert_accessible,
    set_up_practice_with_a_client,
    shoot,
    wait_ready,
)

PIN = "4711"
SHOTS = Path(os.environ.get("MEDEX_SHOTS", "/tmp/shots-turn"))


@pytest.fixture(autouse=True)
def patient_expect():
    """A shared 2-core machine: give each step more than the default 5 s, then restore it."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def small_targets(page) -> int:
    """The client's buttons and answers under 44 px, portrait and landscape."""
    size, small = page.viewport_size, 0
    for width, height in TABLET_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        small += page.evaluate(
            """() => [...document.querySelectorAll('#client-turn button, #client-turn .turn-choice')]
                .filter(e => e.offsetParent !== null)
                .map(e => e.getBoundingClientRect())
                .filter(r => r.height < 44 || r.width < 44).length"""
        )
    page.set_viewport_size(size)
    return small


def look(page, name):
    """Screenshots (no sideways scroll: tests/support/browser.shoot); touch targets ≥ 44 px."""
    assert small_targets(page) == 0, f"{name}: touch targets under 44 px"
    shoot(page, SHOTS, name)


def test_hand_the_tablet_to_a_client(page, console_errors):
    set_up_practice_with_a_client(page)

    # A program, so the client's answers are its baseline.
    page.locator("#tab-outcomes").click()
    page.locator("#field-program_id").select_option(index=1)
    page.locator("#start-program-button").click()
    expect(page.locator("#flash")).to_contain_text("Program started")

    # The practitioner sets a practice PIN (no passphrase on this device) and hands over.
    page.get_by_role("button", name="Hand to client").click()
    expect(page.get_by_role("heading", name="Hand the tablet to Ana López")).to_be_visible()
    page.get_by_role("button", name="Hand to client").click()
    expect(page.locator("#error-forms")).to_contain_text("Tick at least one form")
    page.get_by_label("Lower Extremity Functional Scale (LEFS)").check()
    page.get_by_label("Health questions before exercise (PAR-Q+)").check()
    page.get_by_role("button", name="Hand to client").click()
    expect(page.locator("#error-forms")).to_contain_text("practice PIN")
    page.get_by_role("button", name="Set the practice PIN in Settings").click()
    expect(page.get_by_role("heading", name="Practice PIN", exact=True)).to_be_visible()
    page.get_by_label("New practice PIN (digits)").fill(PIN)
    page.get_by_label("The new PIN again").fill(PIN)
    page.get_by_role("button", name="Save the PIN").click()
    expect(page.locator("#flash")).to_contain_text("Practice PIN saved")
    expect(page.get_by_role("heading", name="Hand the tablet to Ana López")).to_be_visible()
    page.get_by_label("Lower Extremity Functional Scale (LEFS)").check()
    page.get_by_label("Health questions before exercise (PAR-Q+)").check()
    page.get_by_role("button", name="Hand to client").click()

    # The PAR-Q+ first: no menu, no link; an unanswered question is named.
    expect(page.get_by_role("heading", name="Health questions before exercise")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.locator("#client-turn a")).to_have_count(0)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#error-chest_pain")).to_have_text("Answer Yes or No")
    look(page, "parq-errors")
    for key in (*PARQ_PAGE1_LABELS, *ACSM_QUESTIONS):
        page.locator(f"#field-{key}-no").check()
    page.get_by_label("Moderate").check()
    page.get_by_role("button", name="Next").click()

    # LEFS one question at a time; leaving is refused (an address, Back, a reload).
    expect(page.locator(".turn-count")).to_contain_text("question 1 of 20")
    look(page, "lefs-question")
    assert_accessible(page, "a LEFS question")
    page.goto("#/clients")
    expect(page.locator(".turn-count")).to_contain_text("question 1 of 20")
    expect(page.locator("#client-turn")).not_to_contain_text("All clients")
    assert page.evaluate("location.hash") == "#/client-turn"
    page.go_back()
    expect(page.locator(".turn-count")).to_contain_text("question 1 of 20")
    for number in range(1, 21):
        expect(page.locator(".turn-count")).to_contain_text(f"question {number} of 20")
        if number == 10:
            page.reload()
            wait_ready(page)
            expect(page.locator(".turn-count")).to_contain_text("question 10 of 20")
        page.get_by_role("radio", name="3").check()
        page.get_by_role("button", name="Finish" if number == 20 else "Next").click()

    # Finished: locked until the practitioner's PIN, whatever is opened.
    expect(page.get_by_role("heading", name="Thank you, Ana")).to_be_visible()
    look(page, "locked")
    assert_accessible(page, "the locked tablet")
    page.goto("#/")
    expect(page.get_by_role("heading", name="Thank you, Ana")).to_be_visible()
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Thank you, Ana")).to_be_visible()
    page.get_by_label("Practice PIN").fill("1234")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#error-secret")).to_contain_text("not the practice PIN")
    page.get_by_label("Practice PIN").fill(PIN)
    page.get_by_role("button", name="Unlock").click()

    # Back in the practice: the scored LEFS is the program's baseline; the PAR-Q+ is saved.
    expect(page.locator("#flash")).to_contain_text("The client's turn has ended")
    expect(page.locator("#flash")).to_contain_text("PAR-Q+")
    expect(page.locator("#assessment-list tbody tr")).to_have_count(1)
    expect(page.locator("#assessment-list")).to_contain_text("Baseline")
    expect(page.locator("#outcome-table tr[data-measure=lefs]")).to_contain_text("60")
    expect(page.get_by_role("link", name="Clients", exact=True)).to_be_visible()
    page.locator("#tab-screening").click()
    expect(page.locator("#section-screening")).to_contain_text("No")
    assert console_errors == []
