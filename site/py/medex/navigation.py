"""How the domain points at a screen: by route name and parameters, never by URL.

The domain says *which* screen (a dashboard item's "Prepare" goes to the document screen of
this client and kind); the app decides what a link looks like (``app.render.href``)::

    >>> Screen("client", {"id": "c1", "section": "clearance"})
    Screen(route='client', params={'id': 'c1', 'section': 'clearance'})

The route names are the ones the app's screens register (``@route("client")``); a unit test
checks every route named here exists.
"""

from __future__ import annotations

from typing import NamedTuple


class Screen(NamedTuple):
    """A screen of the app: its route and the parameters it opens with (never mutated)."""

    route: str
    params: dict[str, str] = {}  # noqa: RUF012 - a NamedTuple default, read only
