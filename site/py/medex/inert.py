"""Stored HTML made inert: what a stored snapshot may still say once it is shown again.

A sent document is kept as the HTML that was sent (``documents.SentDocument``), and that
HTML can come back from a backup file or be edited in storage by anyone with the device. The
app shows it inside a sandboxed frame (no scripts, no forms, no navigation of the app, the
app's Content-Security-Policy), and ``inert_html`` first rebuilds it from parsed tokens so
that only the look of a document remains: text, layout elements, tables, the chart SVG and
data-URL images. Everything that could act, navigate, submit or fetch is dropped:

- elements: script, style, meta, base, link, frames, objects, media, templates, form
  controls, SVG animation and external images (dropped with their content); links and
  forms keep their text but lose the element;
- attributes: event handlers, ``style``, every ``data-*`` (``data-action`` is how the app
  names its actions), targets, and any URL-bearing attribute other than an ``<img>``'s
  ``data:image/…`` source or a same-document ``#fragment`` reference;
- comments, doctypes, processing instructions and CDATA sections.

Text and attribute values are escaped again on the way out, and tag and attribute names
are kept only when they are plain names, so the output means to a browser exactly what the
tokens meant here.

    >>> inert_html('<p onclick="x()">Hi <button data-action="lock-now">go</button></p>')
    '<p>Hi </p>'
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

# Dropped together with everything inside them.
DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "head",
        "meta",
        "base",
        "link",
        "portal",
        "fencedframe",
        "audio",
        "video",
        "picture",
        "source",
        "track",
        "canvas",
        "param",
        "button",
        "input",
        "select",
        "option",
        "optgroup",
        "datalist",
        "textarea",
        "keygen",
        "dialog",
        "slot",
        "math",
        # SVG: external images, animation (can rewrite attributes), embedded HTML.
        "image",
        "feimage",
        "animate",
        "animatemotion",
        "animatetransform",
        "animatecolor",
        "set",
        "discard",
        "mpath",
        "foreignobject",
        "handler",
        "listener",
    }
)
# The element goes, its content stays (the text of a link or of a form).
UNWRAP = frozenset({"a", "form", "html", "body", "label", "fieldset", "legend", "output"})
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "image",
        "frame",
    }
)
# Attributes that name a URL (HTML, SVG, MathML, legacy presentational ones).
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "xlink:href",
        "src",
        "srcset",
        "imagesrcset",
        "lowsrc",
        "dynsrc",
        "action",
        "formaction",
        "poster",
        "background",
        "ping",
        "cite",
        "longdesc",
        "usemap",
        "manifest",
        "codebase",
        "classid",
        "data",
        "profile",
        "archive",
        "icon",
        "xml:base",
        "xmlns:xlink",
        "itemtype",
        "itemid",
        "attributionsrc",
    }
)
DROP_ATTRIBUTES = frozenset(
    {
        "style",
        "target",
        "formtarget",
        "download",
        "srcdoc",
        "http-equiv",
        "autofocus",
        "contenteditable",
        "popover",
        "popovertarget",
        "popovertargetaction",
        "command",
        "commandfor",
        "interestfor",
        "is",
        "nonce",
        "integrity",
        "attributename",
        "values",
        "from",
        "to",
        "by",
        "begin",
    }
)
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_.:-]*\Z")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z")
_FOREIGN_URL = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def _keep_attribute(tag: str, name: str, value: str) -> bool:
    if not _ATTRIBUTE_NAME.match(name) or name.startswith(("on", "data-")):
        return False
    if name in DROP_ATTRIBUTES:
        return False
    if name in URL_ATTRIBUTES:
        if tag == "img" and name == "src":
            return bool(_DATA_IMAGE.match(value.strip()))
        return name in ("href", "xlink:href") and value.strip().startswith("#")
    return not _FOREIGN_URL.search(value)


class _Inert(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping: list[str] = []  # open elements being dropped with their content

    def _open(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.skipping:
            if tag in DROP_WITH_CONTENT and tag not in VOID and not closed:
                self.skipping.append(tag)
            return
        if tag in DROP_WITH_CONTENT:
            if tag not in VOID and not closed:
                self.skipping.append(tag)
            return
        if tag in UNWRAP or not _NAME.match(tag):
            return
        kept = []
        for name, value in attrs:
            text = "" if value is None else value
            if _keep_attribute(tag, name, text):
                kept.append(f' {name}="{escape(text, quote=True)}"')
        if tag == "img" and not any(k.startswith(" src=") for k in kept):
            return  # an image from anywhere but a data URL is not shown at all
        self.out.append(f"<{tag}{''.join(kept)}{' /' if closed else ''}>")

    def handle_starttag(self, tag, attrs):
        self._open(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._open(tag, attrs, closed=True)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
            return
        if tag in DROP_WITH_CONTENT or tag in UNWRAP or tag in VOID or not _NAME.match(tag):
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(escape(data, quote=False))

    # Comments, <!doctype>, <?pi?>, <![CDATA[…]]>: never copied.
    def handle_comment(self, data):
        pass

    def handle_decl(self, decl):
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass


def inert_html(html: str) -> str:
    """The markup of ``html`` with nothing left that can run, act, navigate or fetch."""
    parser = _Inert()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)
