"""The home exercise program in Chromium: a 5-exercise program built through the screens with a
photo picked in the file input (scaled down to a JPEG on the device), printed with page.pdf()
and read back with pypdf (page count, the doses, the week grid) and looked at as PNG; every
printed version kept. With encryption on, the photo is sealed at rest: neither IndexedDB nor any
file of the browser profile holds its bytes while the app is locked."""

import json
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.support.browser import (
    assert_accessible,
    dump,
    fill,
    open_app,
    print_pdf,
    raw_store,
    shoot,
)
from tests.support.images import png_bytes

SHOTS = Path("/tmp/shots-hep")
PASSPHRASE = "correct horse battery"
EXERCISES = ("Sit-to-stand", "Heel raise", "Bridge", "Wall push-up", "Marching in place")


def row_keys(page) -> list[str]:
    return [
        i.removeprefix("row-")
        for i in page.locator("fieldset.hep-row").evaluate_all("rows => rows.map(r => r.id)")
    ]


def add_exercise(page, name: str, count: int) -> None:
    page.locator("#field-add_exercise_id").select_option(label=name)
    page.locator("#add-to-program").click()
    expect(page.locator("#flash")).to_have_text(f"{name} added to the home program.")
    expect(page.locator("fieldset.hep-row")).to_have_count(count)


def set_up(page) -> None:
    """A practice and a client, through the screens."""
    open_app(page)
    fill(page, {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"})
    page.get_by_role("button", name="Save practice profile").click()
    # The first save of a new profile asks for persistent storage (up to 3 s).
    expect(page.get_by_role("heading", name="Reyes Medical Exercise")).to_be_visible(timeout=20_000)
    page.get_by_role("link", name="Clients").click()
    page.locator("#add-client").click()
    fill(page, {"first_name": "Ana", "last_name": "López", "date_of_birth": "1958-03-10"})
    page.locator("#field-sex").select_option("female")
    page.locator("#save-client").click()
    expect(page.locator("#client-name")).to_have_text("Ana López")


def picture_file(tmp_path: Path) -> Path:
    path = tmp_path / "client-doing-a-bridge.png"
    path.write_bytes(png_bytes(1600, 1200))
    return path


def build_program(page, tmp_path: Path, exercises=EXERCISES) -> str:
    """The home program tab of the set-up client, with the exercises added and a photo of the
    first; returns the first row's key."""
    page.locator("#tab-home-program").click()
    expect(page.locator("#home-program-heading")).to_be_visible()
    for n, name in enumerate(exercises, start=1):
        add_exercise(page, name, n)
    first = row_keys(page)[0]
    page.locator(f"#field-r_{first}_photo").set_input_files(str(picture_file(tmp_path)))
    page.locator("#save-home-program").click()
    expect(page.locator("#flash")).to_have_text("Home program saved. 1 photo kept.")
    expect(page.locator(f"img#picture-{first}")).to_be_visible()
    return first


# A long journey with printing and image scaling; on a loaded machine a step can time out.
@pytest.mark.flaky(reruns=1)
def test_a_five_exercise_program_with_a_photo_prints_in_large_type(page, tmp_path):
    set_up(page)
    first = build_program(page, tmp_path)
    keys = row_keys(page)
    assert len(keys) == 5

    # The photo was scaled down on the device and stored as a JPEG with the client's program.
    src = page.locator(f"img#picture-{first}").get_attribute("src")
    assert src.startswith("data:image/jpeg;base64,")
    assert page.locator(f"img#picture-{first}").evaluate("i => i.naturalWidth") == 800
    (picture,) = dump(page)["stores"]["exercise_pictures"]
    assert picture["data_url"] == src and len(src) < 400_000

    # A dose edited and a refused value kept with its message.
    second = keys[1]
    page.locator(f"#field-r_{second}_days_per_week").fill("9")
    page.locator(f"#field-r_{second}_reps").fill("15")
    page.locator("#save-home-program").click()
    expect(page.locator(f"#error-r_{second}_days_per_week")).to_have_text("Must be at most 7")
    expect(page.locator(f"#field-r_{second}_reps")).to_have_value("15")
    page.locator(f"#field-r_{second}_days_per_week").fill("6")
    page.locator(f"#field-r_{second}_safety").fill("Calf cramp that does not ease")
    page.locator("#save-home-program").click()
    expect(page.locator("#flash")).to_have_text("Home program saved.")
    assert_accessible(page, "home program editor")
    page.locator(f"#row-{first}").scroll_into_view_if_needed()
    shoot(page, SHOTS, "home-program-editor")

    # Print: the preview, then the print button (the browser's print stubbed) keeps the version.
    page.locator("#save-and-print").click()
    expect(page.locator("#doc-heading")).to_have_text("Home exercise program: Ana López")
    expect(page.locator(".doc-toolbar")).to_contain_text("5 exercises on 2 pages")
    assert_accessible(page, "home program print preview")
    shoot(page, SHOTS, "home-program-print")
    page.evaluate("() => { window.print = () => { (window.__printed ||= []).push(1); }; }")
    page.locator("#print-home-program").click()
    expect(page.locator("#flash")).to_contain_text("Printed version of")
    assert page.evaluate("window.__printed") == [1]

    # Large type: the body of the printed sheet is 14 pt (18.67 px) or more.
    page.emulate_media(media="print")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('#report .hep-cues, #report .hep-dose p, #report .hep-intro')]
            .map(e => parseFloat(getComputedStyle(e).fontSize))"""
    )
    assert sizes and min(sizes) >= 18.6, sizes
    page.emulate_media(media="screen")
    print_pdf(page, SHOTS, "home-program")
    reader = PdfReader(SHOTS / "home-program.pdf")
    assert len(reader.pages) == 2
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    text = " ".join(pages)
    assert "Reyes Medical Exercise" in pages[0] and "Home exercise program" in pages[0]
    assert "For: Ana López" in pages[0] and "Stop exercising and call us" in pages[0]
    assert "1. Sit-to-stand" in pages[0] and "2. Heel raise" in pages[0]
    for n, name in enumerate(EXERCISES[2:], start=3):
        assert f"{n}. {name}" in pages[1], name
    for dose in (
        "How much: 2 sets of 8 repetitions How often: 3 days a week, once a day",
        "How much: 2 sets of 15 repetitions How often: 6 days a week, once a day",
        "How much: 1 minute, 2 times How often: 5 days a week, once a day",
    ):
        assert dose in text, dose
    assert "Stop and call if: Calf cramp that does not ease" in text
    assert text.count("Week Mon Tue Wed Thu Fri Sat Sun") == 5  # one tick-box grid each
    assert page.locator("#report .hep-grid .tick").count() == 5 * 2 * 7

    # Every printed version is listed on the program and opens exactly as printed.
    page.get_by_role("link", name="← Home program").click()
    expect(page.locator("#printed-versions li")).to_have_count(1)
    page.locator("#printed-versions a").click()
    expect(page.locator("#version-status")).to_contain_text("5 exercises")
    frame = page.frame_locator("#snapshot-frame")
    expect(frame.locator(".hep-ex")).to_have_count(5)
    expect(frame.locator("img").first).to_have_attribute("src", src)


# -- sealed at rest ---------------------------------------------------------------------------


def files_holding(profile: Path, needle: str) -> list[str]:
    """Files of the browser profile whose bytes hold ``needle`` (one or two bytes a
    character: IndexedDB's LevelDB keeps strings as UTF-16)."""
    needles = [needle.encode(), needle.encode("utf-16-le"), needle.encode("utf-16-be")]
    found = []
    for path in sorted(profile.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(n in data for n in needles):
            found.append(str(path.relative_to(profile)))
    return found


def launch(browser_type, browser_type_launch_args, base_url, profile: Path):
    args = {k: v for k, v in browser_type_launch_args.items() if k in ("executable_path", "args")}
    ctx = browser_type.launch_persistent_context(str(profile), base_url=base_url, **args)
    return ctx, (ctx.pages[0] if ctx.pages else ctx.new_page())


def test_photos_are_sealed_at_rest_when_encryption_is_on(
    browser_type, browser_type_launch_args, base_url, tmp_path
):
    profile = tmp_path / "chromium-profile"
    ctx, page = launch(browser_type, browser_type_launch_args, base_url, profile)
    set_up(page)
    first = build_program(page, tmp_path, exercises=("Bridge",))
    src = page.locator(f"img#picture-{first}").get_attribute("src")
    encoded = src.partition(",")[2]
    # Three stretches of the stored image (its start, middle and end) as the needles.
    chunks = [
        encoded[200:264],
        encoded[len(encoded) // 2 : len(encoded) // 2 + 64],
        encoded[-80:-16],
    ]
    assert all(len(c) == 64 for c in chunks)
    assert all(c in raw_store(page, "exercise_pictures") for c in chunks)  # in clear for now
    ctx.close()
    assert files_holding(profile, chunks[1]), "the scan is real: the photo is on disk in clear"

    ctx, page = launch(browser_type, browser_type_launch_args, base_url, profile)
    open_app(page, "./#/security")
    page.get_by_label("New passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("New passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Turn encryption on").click()
    expect(page.locator("#encryption-state")).to_contain_text("On", timeout=30_000)
    sealed = json.loads(raw_store(page, "exercise_pictures"))
    assert len(sealed) == 1 and "_enc" in sealed[0]
    assert set(sealed[0]) <= {"id", "_enc", "_rev", "client_id", "exercise_id"}
    assert "data:image" not in json.dumps(sealed) and not any(
        c in json.dumps(sealed) for c in chunks
    )
    ctx.close()

    # Locked (a new start): IndexedDB and every file of the profile hold none of the photo.
    for chunk in chunks:
        assert files_holding(profile, chunk) == []
    ctx, page = launch(browser_type, browser_type_launch_args, base_url, profile)
    open_app(page, "./#/clients")
    expect(page.get_by_role("heading", name="MedEx Practice is locked")).to_be_visible()
    raw = raw_store(page, "exercise_pictures") + raw_store(page, "home_programs")
    assert "data:image" not in raw and not any(c in raw for c in chunks)
    assert "Bridge" not in raw

    # The passphrase opens it: the photo is whole again.
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("link", name="López, Ana").click()
    page.locator("#tab-home-program").click()
    expect(page.locator(f"img#picture-{first}")).to_have_attribute("src", src)
    ctx.close()
    marker = "ZQX" + secrets.token_hex(4)  # nothing else in the profile: the scan finds nothing
    assert files_holding(profile, marker) == []
