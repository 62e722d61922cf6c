"""The home screen is a dashboard of what needs doing. Each capability contributes items."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .navigation import Screen

Severity = Literal["urgent", "due", "info"]
_ORDER = {"urgent": 0, "due": 1, "info": 2}


class DashboardItem(BaseModel):
    kind: str  # e.g. "setup", "storage", later "reassessment", "report", "clearance"
    title: str
    detail: str = ""
    link: Screen | None = None  # the screen that deals with it; the app makes the href
    link_label: str = "Open"
    severity: Severity = "due"
    since: datetime | None = None


def order_key(severity: Severity, since: datetime | None) -> tuple[int, bool, float]:
    """An item's place: most urgent first; within a severity, the oldest first."""
    return (_ORDER[severity], since is None, since.timestamp() if since else 0)


def ordered(items: list[DashboardItem]) -> list[DashboardItem]:
    """Most urgent first; within a severity, the oldest first."""
    return sorted(items, key=lambda i: order_key(i.severity, i.since))


def practice_setup_items(has_profile: bool, storage_persisted: bool | None) -> list[DashboardItem]:
    items: list[DashboardItem] = []
    if not has_profile:
        items.append(
            DashboardItem(
                kind="setup",
                title="Set up your practice profile",
                detail="Your name, credentials and contact details go on every report's letterhead.",
                link=Screen("settings"),
                link_label="Set up",
                severity="urgent",
            )
        )
    if storage_persisted is False:
        items.append(
            DashboardItem(
                kind="storage",
                title="Storage is not yet protected from clean-up",
                detail="The browser may clear data when the device runs low on space. Install the app "
                "(Add to Home Screen) and keep regular backups.",
                link=Screen("settings"),
                link_label="Storage settings",
                severity="info",
            )
        )
    return items
