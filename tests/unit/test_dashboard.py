from datetime import UTC, datetime

from medex.dashboard import DashboardItem, ordered, practice_setup_items
from medex.navigation import Screen


def test_missing_profile_is_the_first_urgent_item():
    items = practice_setup_items(has_profile=False, storage_persisted=False)
    assert [i.kind for i in ordered(items)] == ["setup", "storage"]
    assert items[0].severity == "urgent" and items[0].link == Screen("settings")


def test_nothing_due_when_profile_set_and_storage_persisted():
    assert practice_setup_items(has_profile=True, storage_persisted=True) == []
    # Unknown persistence (browser without the API) is not nagged about.
    assert practice_setup_items(has_profile=True, storage_persisted=None) == []


def test_ordering_is_by_severity_then_oldest_first():
    old = DashboardItem(
        kind="a", title="old", severity="due", since=datetime(2026, 1, 1, tzinfo=UTC)
    )
    new = DashboardItem(
        kind="b", title="new", severity="due", since=datetime(2026, 3, 1, tzinfo=UTC)
    )
    undated = DashboardItem(kind="c", title="undated", severity="due")
    urgent = DashboardItem(kind="d", title="urgent", severity="urgent")
    info = DashboardItem(kind="e", title="info", severity="info")
    assert [i.title for i in ordered([info, undated, new, old, urgent])] == [
        "urgent",
        "old",
        "new",
        "undated",
        "info",
    ]
