from playwright.sync_api import expect
from .conftest import open_app
from .test_crash_durability import fill

def test_dbg(page):
    logs = []
    page.on("console", lambda m: logs.append(m.type + ": " + m.text))
    page.on("pageerror", lambda e: logs.append("pageerror: " + str(e)))
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "credentials": "MS", "business_name": "Reyes MedEx"})
    page.get_by_role("button", name="Save practice profile").click()
    expect(page.get_by_role("heading", name="Reyes MedEx")).to_be_visible()
    page.get_by_role("link", name="Clients", exact=True).click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": "López", "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")
    page.locator("#start-session-top").click()
    page.locator("#add-exercise-list").get_by_role("button", name="+ Sit-to-stand").click()
    fill(page, {"pre_heart_rate_bpm": "72", "pre_systolic_mmhg": "128", "pre_diastolic_mmhg": "78",
                "clearance_override_reason": "Screening booked for Thursday; light session only today"})
    page.get_by_label("Tolerated well").check()
    page.locator("#sign-log").click()
    page.wait_for_timeout(4000)
    print("FLASH", page.locator("#flash").all_inner_texts() if page.locator("#flash").count() else None)
    print("BANNERS", page.locator("[role=alert]").all_inner_texts())
    print("\n".join(logs[-30:]))
    assert 0
