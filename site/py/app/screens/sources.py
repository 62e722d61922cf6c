"""Sources: every published source behind the app's norms, cut-offs and safety rules, in full.

Screens and documents name a source by author and year; this page gives the full citation,
what it is used for, and where it can be read (web addresses appear here only, never on a
document that goes to a physician). Linked from Settings and the footer.
"""

from __future__ import annotations

from medex.sources import source_groups

from ..core import App, View, route


@route("sources")
async def sources(app: App, params: dict[str, str]) -> View:
    return "views/sources.html", {"groups": source_groups()}
