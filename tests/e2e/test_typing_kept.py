"""What a person types while an action is still being answered is never wiped by the
re-render that answers it (a slow unlock, a slow save): the page keeps the newer typing."""

from playwright.sync_api import expect

from tests.support.browser import fill, goto, set_up_practice_with_a_client

LOCKED = "MedEx Practice is locked"
PASSPHRASE = "correct horse battery"
SLOW_KEY_DERIVATION = """() => {
  const derive = crypto.subtle.deriveKey.bind(crypto.subtle);
  crypto.subtle.deriveKey = (...args) =>
    new Promise((resolve) => setTimeout(resolve, 1500)).then(() => derive(...args));
}"""


def test_a_passphrase_typed_while_a_wrong_one_is_checked_is_kept(page):
    set_up_practice_with_a_client(page)
    goto(page, "./#/security", "#encryption-on")
    fill(page, {"new_passphrase": PASSPHRASE, "new_confirm": PASSPHRASE})
    page.locator("#encryption-on").click()
    expect(page.locator("#encryption-state")).to_contain_text("On")
    page.locator("#lock-now").click()
    expect(page.get_by_role("heading", name=LOCKED)).to_be_visible()

    page.evaluate(SLOW_KEY_DERIVATION)  # the wrong passphrase takes 1.5 s to be refused
    fill(page, {"secret": "a wrong passphrase"})
    page.locator("#unlock").click()
    # While it is checked, the person types the right one.
    page.locator("#field-secret").fill(PASSPHRASE)
    expect(page.locator("#field-secret")).to_have_attribute("aria-invalid", "true", timeout=15000)
    expect(page.locator("main")).to_contain_text("does not open your records")
    expect(page.locator("#field-secret")).to_have_value(PASSPHRASE)

    page.locator("#unlock").click()
    expect(page.get_by_role("heading", name=LOCKED)).to_have_count(0, timeout=15000)
    expect(page.locator("main")).not_to_contain_text("does not open your records")
