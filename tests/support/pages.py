"""Reading the HTML a screen renders, as the tests (and the browser shell) see it:
``Elements`` (text by element id, inputs by name), ``FormData`` (what one form submits),
``Page``/``Form`` (every form with its free-text fields, links, scripts and event handlers),
and ``assert_inert`` (nothing typed became markup)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class Elements(HTMLParser):
    """Collects text by element id, and attributes of inputs by name."""

    def __init__(self, html):
        super().__init__()
        self.text, self.inputs, self._stack = {}, {}, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea") and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs
        if tag not in ("input", "img", "br", "meta", "link"):
            self._stack.append(attrs.get("id"))
            if attrs.get("id"):
                self.text.setdefault(attrs["id"], "")

    def handle_endtag(self, tag):
        if tag not in ("input", "img", "br", "meta", "link") and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        for element_id in self._stack:
            if element_id:
                self.text[element_id] = self.text.get(element_id, "") + data


class FormData(HTMLParser):
    """What the browser shell would send for one form: text inputs, textareas, selected
    options, checked radios and checkboxes (checkbox → its value), like browser.form_values."""

    def __init__(self, html, form_id):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self._textarea = self._select = None
        self._first_option = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    value = a.get("value", "")
                    self.data[name] = value if kind == "radio" or value not in ("", "on") else True
            else:
                self.data[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.data[self._select] = value
            if "selected" in a:
                self.data[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


# -- reading forms the way the browser shell does ----------------------------------------------


class Form:
    def __init__(self, attrs: dict[str, str]):
        self.attrs = attrs
        self.action = attrs.get("data-action", "")
        self.id = attrs.get("id", "")
        self.values: dict[str, Any] = {}
        self.text: list[str] = []  # names of free-text fields (text inputs, textareas)
        self.maxlength: dict[str, int] = {}

    def data_attrs(self) -> dict[str, str]:
        return {
            k[5:]: v for k, v in self.attrs.items() if k.startswith("data-") and k != "data-action"
        }


class Page(HTMLParser):
    """Forms (with what the shell would send), links, and anything active that came from
    user data: <script> bodies and on* attributes."""

    FREE_TEXT = ("text", "search", "email", "tel", "url")

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str, str]] = []
        self.tags: list[tuple[str, dict]] = []
        self._form: Form | None = None
        self._textarea = self._select = None
        self._first_option = None
        self._script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        self.tags.append((tag, a))
        for key, value in a.items():
            if key.startswith("on"):
                self.handlers.append((tag, key, value))
        if tag == "script":
            self._script = True
            self.scripts.append("")
        if tag == "a" and a.get("href", "").startswith("#/"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = Form(a)
            self.forms.append(self._form)
            return
        form, name = self._form, a.get("name")
        if form is None or not name:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "reset", "file", "image"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    value = a.get("value", "")
                    form.values[name] = (
                        value if kind == "radio" or value not in ("", "on") else True
                    )
                return
            form.values[name] = a.get("value", "")
            numeric = a.get("inputmode") in ("decimal", "numeric")
            if kind in self.FREE_TEXT and not numeric and name not in form.text:
                form.text.append(name)
            if a.get("maxlength"):
                form.maxlength[name] = int(a["maxlength"])
        elif tag == "textarea":
            self._textarea = name
            form.values[name] = ""
            if name not in form.text:
                form.text.append(name)
            if a.get("maxlength"):
                form.maxlength[name] = int(a["maxlength"])
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                form.values[self._select] = value
            if "selected" in a:
                form.values[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script:
            self.scripts[-1] += data
        if self._textarea and self._form is not None:
            self._form.values[self._textarea] += data


# -- inertness -----------------------------------------------------------------------------------


def assert_inert(html: str, where: str) -> None:
    """Nothing typed became markup: no script or event handler carries the payload, the raw
    payload text never appears, and template syntax was never evaluated."""
    assert "<script>alert(1)" not in html, where
    assert "<img src=x onerror" not in html and "onerror=alert(1)>" not in html, where
    page = Page(html)
    assert not any("alert(1)" in s for s in page.scripts), where
    assert not any("alert(1)" in v for _, _, v in page.handlers), where
    assert not any(tag == "img" and a.get("src") == "x" for tag, a in page.tags), where
    for evaluated in ("tpl49", "{ 49", "$49", "#49"):
        assert evaluated not in html, (where, evaluated)
