"""Tablet first, on every screen of the demo practice: at 768×1024, 1024×768 and 1366×1024
nothing scrolls sideways, every button, field and stand-alone link in the page is at least
44 px tall and wide (links inside a sentence are exempt, as WCAG 2.5.8 exempts inline
targets), number fields bring up the numeric keypad, and axe-core finds no serious or
critical violation. Every route the app registers is reached: by following the app's own
links from the demo's home screen, and the few no link leads to by doing what opens them (a
form, a button, a file: ``BY_ACTION``), on the demo's records."""

import json
from pathlib import Path

from playwright.sync_api import expect

from buildtools.assemble import screens_manifest
from tests.support.browser import AXE_PATH, dump, open_app
from tests.support.fhir import referral_bundle

SIZES = ((768, 1024), (1024, 768), (1366, 1024))

# Each screen's links, as {route name: one href}, the first one found for each route.
LINKS = """() => {
    const found = {};
    for (const a of document.querySelectorAll('#app a[href^="#/"]')) {
        const href = a.getAttribute('href');
        const name = href.slice(2).split('?')[0];
        if (!(name in found)) found[name] = href;
    }
    return found;
}"""

# Targets smaller than 44×44 px: buttons, fields, selects, summaries and links that stand on
# their own. A link inside running text (its parent has more text than the link) is inline.
SMALL_TARGETS = """() => {
    const small = [];
    const targets = document.querySelectorAll(
        '#app a[href], #app button, #app [role=button], #app input:not([type=hidden]):not([type=checkbox]):not([type=radio]), #app select, #app textarea, #app summary');
    for (const el of targets) {
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
        if (el.closest('[aria-hidden=true]')) continue;  // e.g. a form's hidden default button
        if (el.tagName === 'A' && el.getAttribute('role') !== 'button') {
            const own = el.textContent.trim().length;
            const around = (el.parentElement.textContent || '').trim().length;
            if (around > own) continue;  // inline in a sentence
        }
        if (box.height < 43.5 || box.width < 43.5) {
            small.push(`${el.tagName.toLowerCase()}#${el.id} "${el.textContent.trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
        }
    }
    return small;
}"""

AXE = """async () => {
    const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
    return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def routes() -> set[str]:
    return {r["name"] for s in screens_manifest()["screens"] for r in s["routes"]}


def visit(page, href: str) -> None:
    page.evaluate(f"location.hash = {href[1:]!r}")
    page.wait_for_function(
        "!document.querySelector('#app[aria-busy=true]') && !!document.querySelector('#main')"
    )
    page.wait_for_timeout(300)  # the screen's paint after its records are read


def settled(page) -> None:
    page.wait_for_function(
        "!document.querySelector('#app[aria-busy=true]') && !!document.querySelector('#main')"
    )
    page.wait_for_timeout(300)


def import_a_referral(page, tmp_path: Path) -> None:
    """A physician's FHIR referral file read on the new-client screen: its review screen."""
    visit(page, "#/client-new")
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(referral_bundle()), encoding="utf-8")
    page.get_by_label("Referral file").set_input_files(str(path))
    page.locator("#read-referral-file").click()
    page.wait_for_function("location.hash.startsWith('#/referral-import')")


def hand_the_tablet_to_the_client(page, tmp_path: Path) -> None:
    """The client's turn (last: only the practice's PIN or passphrase leaves it)."""
    client = next(c for c in dump(page)["stores"]["clients"] if c["last_name"] == "Lee")
    visit(page, f"#/client-turn-setup?id={client['id']}")
    if page.locator("#open-practice-pin").count():  # a practice PIN first (it unlocks)
        page.locator("#open-practice-pin").click()
        page.locator("#field-pin").fill("739251")
        page.locator("#field-confirm").fill("739251")
        page.locator("#save-pin").click()
        expect(page.locator("#hand-to-client")).to_be_visible()
    page.locator("#client-turn-start-form input[type=checkbox]:not([disabled])").first.check()
    page.locator("#hand-to-client").click()
    expect(page.locator("#turn-form")).to_be_visible()


def open_the_introduction_letter(page, tmp_path: Path) -> None:
    """A referral partner's page (the sweep sees one address per screen: the new-provider
    form), then its practice introduction letter."""
    visit(page, "#/providers")
    page.locator("#app table").get_by_role("link", name="Maria Chen, MD").click()
    page.locator("#intro-letter").click()
    expect(page.locator("#partner-letter-preview")).to_be_visible()


# Screens no link of the sweep leads to, and what opens them (in this order).
BY_ACTION = {
    "partner-letter": open_the_introduction_letter,
    "referral-import": import_a_referral,
    "client-turn": hand_the_tablet_to_the_client,
}


def test_every_screen_fits_a_tablet_with_touch_targets_and_no_serious_axe_findings(page, tmp_path):
    open_app(page)
    page.get_by_role("button", name="Open the demo practice").click()
    expect(page.locator("#demo-banner")).to_contain_text("DEMO", timeout=180_000)
    page.evaluate(Path(AXE_PATH).read_text())

    wanted = routes()
    queue = ["#/"]
    seen: dict[str, str] = {"": "#/"}
    problems: list[str] = []
    while queue:
        href = queue.pop(0)
        visit(page, href)
        for name, link in page.evaluate(LINKS).items():
            if name in wanted and name not in seen:
                seen[name] = link
                queue.append(link)
        problems += check(page, href)
    linked = set(seen)
    for name, do in BY_ACTION.items():
        do(page, tmp_path)
        settled(page)
        seen[name] = page.evaluate("location.hash")
        problems += check(page, seen[name])

    assert problems == [], "\n".join(problems)
    assert not linked & set(BY_ACTION), "now linked: sweep them by their links"
    unreached = wanted - set(seen)
    assert not unreached, f"no link or action in the sweep leads to {sorted(unreached)}"


def check(page, href: str) -> list[str]:
    """At each tablet size: no sideways scroll, targets of 44 px, no serious axe finding, and
    number fields on the numeric keypad."""
    problems: list[str] = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        where = f"{href} at {width}×{height}"
        if not page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1"):
            problems.append(f"{where}: scrolls sideways")
        problems += [f"{where}: small target {t}" for t in page.evaluate(SMALL_TARGETS)]
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(Path(AXE_PATH).read_text())
        problems += [f"{where}: axe {v}" for v in page.evaluate(AXE)]
    # Numbers are typed on the numeric keypad.
    no_keypad = page.evaluate(
        "[...document.querySelectorAll('#app input[type=number]:not([inputmode])')]"
        ".map(i => i.name)"
    )
    problems += [f"{href}: number field {n} without inputmode" for n in no_keypad]
    page.set_viewport_size({"width": 820, "height": 1180})
    return problems
