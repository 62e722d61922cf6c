"""The browser keeps no copy of what is typed (issue 10 item 8): every field that takes text or
a choice has ``autocomplete="off"`` on the field itself (Chromium ignores it on the form), and
passphrase fields say new-password / current-password. Checked on the template sources (every
tag, whatever screen state shows it) and on every screen of a practice built through them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.render import templates_dir

# Input types the autofill store never keeps.
NOT_TEXT = {"hidden", "checkbox", "radio", "file", "submit", "button", "reset", "image", "range", "color"}  # fmt: skip
PASSPHRASE = {"new-password", "current-password", "off"}

TEMPLATES = sorted(p for p in templates_dir().rglob("*.html"))
# A tag up to its closing ">", with any jinja {{ … }} / {% … %} inside it.
_TAG = re.compile(r"<(input|textarea|select)\b((?:\{\{.*?\}\}|\{%.*?%\}|[^>])*)>", re.S)
_ATTR = re.compile(r'\b(type|autocomplete)="([^"]*)"')
_FIELD_CALL = re.compile(r"\bfield\((.*?)\)\s*\}\}", re.S)


def problems_in_source(text: str) -> list[str]:
    found = []
    for tag, inside in _TAG.findall(text):
        attrs = dict(_ATTR.findall(re.sub(r"\{%.*?%\}", " ", inside, flags=re.S)))
        kind = attrs.get("type", "text")
        if tag == "input" and kind in NOT_TEXT:
            continue
        if "autocomplete" not in attrs:
            found.append(f"<{tag}{inside[:60]}…> has no autocomplete")
        elif attrs["autocomplete"] not in ("off", "{{ autocomplete }}"):
            found.append(f"<{tag}{inside[:60]}…> autocomplete={attrs['autocomplete']}")
    for call in _FIELD_CALL.findall(text):
        value = re.search(r'autocomplete="([^"]*)"', call)
        allowed = PASSPHRASE if 'type="password"' in call else {"off"}
        if value and value.group(1) not in allowed:
            found.append(f"field({call[:40]}…) autocomplete={value.group(1)}")
    return found


def test_the_scan_sees_a_field_without_autocomplete():
    assert problems_in_source('<input type="text" name="q">')
    assert problems_in_source('<select name="s"{% if x %} disabled{% endif %}>')
    assert problems_in_source('{{ field("name", "Name", v, e, autocomplete="name") }}')
    assert not problems_in_source('<input type="checkbox" name="c">')
    assert not problems_in_source('<textarea name="t" autocomplete="off"></textarea>')


@pytest.mark.parametrize(
    "path", TEMPLATES, ids=[p.relative_to(templates_dir()).as_posix() for p in TEMPLATES]
)
def test_every_field_in_the_templates_has_autocomplete_off(path):
    assert problems_in_source(path.read_text(encoding="utf-8")) == []


def test_the_field_macro_turns_autocomplete_off_unless_told():
    from app.render import environment

    macros = environment().get_template("macros/forms.html").module
    assert 'autocomplete="off"' in str(macros.field("notes", "Notes", {}, {}, rows=3))
    assert 'autocomplete="off"' in str(macros.field("phone", "Phone", {}, {}, type="tel"))
    secret = str(macros.field("p", "P", {}, {}, type="password", autocomplete="new-password"))
    assert 'autocomplete="new-password"' in secret


class Controls(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.controls: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag in ("textarea", "select") or (
            tag == "input" and a.get("type", "text") not in NOT_TEXT
        ):
            self.controls.append((tag, a))


def test_every_field_on_every_screen_has_autocomplete_off():
    from tests.support.practice import crawl, practice

    pages = crawl(practice("script"))
    seen = 0
    for where, html in pages.items():
        for tag, attrs in Controls(html).controls:
            seen += 1
            allowed = PASSPHRASE if attrs.get("type") == "password" else {"off"}
            assert attrs.get("autocomplete") in allowed, (where, tag, attrs)
    assert seen > 200
