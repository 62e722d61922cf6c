"""The client header: a component every tab of a client's page shows (intake sections,
Sessions, Outcomes, assessments). It owns its pieces: the tabs (``SECTIONS``), the context it
needs (``client_header``) and its template (``TEMPLATE``, included by
``views/intake/client.html``, which every client tab extends)::

    ctx = await client_header(app, client_id, "sessions")
    if ctx is None:
        return "views/intake/client_missing.html", {}
    return "views/sessions/client_sessions.html", {**ctx, "history": ...}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medex.health import hr_advice
from medex.intake import STATUS_LABELS, ReferringProvider
from medex.services.intake import ClientFile, load_client_file, onboarding_checklist

from . import clock
from .core import App

TEMPLATE = "views/components/client_header.html"

# The intake sections, in the order of their tabs (Sessions, Outcomes and Documents follow).
SECTIONS = (
    ("details", "Details"),
    ("referral", "Referral"),
    ("history", "Health history"),
    ("screening", "Screening"),
    ("clearance", "Clearance"),
    ("consent", "Consent"),
    ("goals", "Goals"),
    ("checklist", "Checklist"),
)


async def client_header(
    app: App,
    client_id: str,
    section: str,
    *,
    file: ClientFile | None = None,
    providers: Iterable[ReferringProvider] | None = None,
) -> dict[str, Any] | None:
    """What the header and the tabs need, for the tab ``section``; None when the client does
    not exist. ``file`` and ``providers`` save a read when the caller has them already."""
    if file is None:
        file = await load_client_file(app.repo, client_id)
    client = file.client
    if client is None:
        return None
    if providers is not None:
        names = {p.id: p.display_name for p in providers}
    elif client.provider_id:
        provider = await app.repo.get(ReferringProvider, client.provider_id)
        names = {provider.id: provider.display_name} if provider else {}
    else:
        names = {}
    checklist = onboarding_checklist(file)
    return {
        "client": client,
        "file": file,
        "section": section,
        "sections": SECTIONS,
        "checklist": checklist,
        "ready": all(i.done for i in checklist),
        "today": clock.today(),
        "provider_names": names,
        "statuses": STATUS_LABELS,
        # The domain's words for a medication that blunts the heart-rate response ("" if none).
        "hr_advice": (hr_advice(file.history.medications) or "") if file.history else "",
    }
