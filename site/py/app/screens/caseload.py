"""Caseload outcomes: mean change per measure by program, condition or referral source, MCID
share and discharge criteria met; a printable table to show physicians."""

from __future__ import annotations

from medex.intake import ReferringProvider
from medex.services.caseload import BY_LABELS, caseload_report

from .. import clock
from ..core import App, View, route
from ..render import render


@route("caseload")
async def caseload(app: App, params: dict[str, str]) -> View:
    provider_id = params.get("provider", "")
    provider = await app.repo.get(ReferringProvider, provider_id) if provider_id else None
    by = params.get("by", "program")
    if provider is not None and by == "provider":
        by = "program"  # one provider's clients: by program or condition
    doc = await caseload_report(
        app.repo, clock.today(), by=by, provider_id=provider.id if provider else ""
    )
    dimensions = [(k, v) for k, v in BY_LABELS.items() if not (provider and k == "provider")]
    return "views/caseload.html", {
        "doc": doc,
        "report_html": render("reports/caseload.html", doc=doc, demo=app.state.demo),
        "provider": provider,
        "dimensions": dimensions,
        "back": f"#/provider?id={provider.id}" if provider else "#/documents",
        "back_label": provider.display_name if provider else "Documents",
    }
