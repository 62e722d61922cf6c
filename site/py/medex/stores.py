"""The registry of stored record types: one line per IndexedDB store.

Everything that lists the stores is derived from ``STORED``: the IndexedDB schema in
``js/schema.js`` (written by ``build.py``), the labels the Data screen and the restore preview
show (``STORE_LABELS``), and the modules the migrations registry imports
(``migrations.KNOWN_MODULES``). ``tests/unit/test_stores.py`` checks the rest: every record
model that names a ``store`` is listed here, has a JSON schema snapshot, and is known to the
migrations. Adding a stored record type is two edits — the model (a ``Record`` subclass with
``store = "…"``) and its line here — plus ``python -m tests.unit.test_schema_snapshots
--update`` to write its snapshot::

    >>> by_store()["session_logs"].models
    ('session_logs.SessionLog',)
    >>> indexeddb_schema()[1]["session_logs"]
    'id, client_id'

Indexed fields stay readable when the data is encrypted at rest (the indexes must work while
locked), so only ids and status words may be indexed, never client content. A store added
after the first release gets ``since=`` the next IndexedDB version; a released version's
stores and indexes never change (``test_stores`` holds them).

Standard library only: ``build.py`` loads this file on its own to write the schema.
"""

from __future__ import annotations

from typing import NamedTuple


class StoredType(NamedTuple):
    store: str  # the IndexedDB object store (records keyed by ``id``)
    label: str  # what the practitioner calls them (Data screen, restore preview, progress)
    models: tuple[str, ...]  # the Record subclasses kept there, as "module.Class" under medex
    indexes: tuple[str, ...] = ()  # fields ``Repository.find`` queries by (ids, a status)
    since: int = 1  # the IndexedDB schema version that added the store
    derived: bool = False  # computed from other records: not in backups, rebuilt when needed
    # Kept many documents to an IndexedDB record (js/buckets.js): a store read whole on a
    # screen's every visit, one small document per client (the home screen's rows).
    bucketed: bool = False


STORED: tuple[StoredType, ...] = (
    StoredType("profile", "Practice profile", ("records.PracticeProfile",)),
    StoredType(
        "settings",
        "Settings",
        (
            "intake.ConsentTexts",
            "documents.DocumentSettings",
            "partners.PartnerSettings",
            "questionnaire_wording.QuestionnaireWordings",
        ),
    ),
    StoredType("providers", "Referring providers", ("intake.ReferringProvider",)),
    StoredType("clients", "Clients", ("intake.Client",), ("status",)),
    StoredType("referrals", "Referrals", ("intake.Referral",), ("client_id", "provider_id")),
    StoredType("health_histories", "Health histories", ("health.HealthHistory",), ("client_id",)),
    StoredType("screenings", "Screenings", ("screening.ScreeningRecord",), ("client_id",)),
    StoredType("clearances", "Medical clearances", ("screening.Clearance",), ("client_id",)),
    StoredType("consents", "Consents", ("intake.Consent",), ("client_id",)),
    StoredType("goals", "Goals", ("intake.Goals",), ("client_id",)),
    StoredType("custom_measures", "Custom measures", ("measures.CustomMeasure",)),
    StoredType("assessments", "Assessments", ("assessments.Assessment",), ("client_id",)),
    StoredType("programs", "Program templates", ("programs.ProgramTemplate",)),
    StoredType("episodes", "Episodes of care", ("programs.Episode",), ("client_id",)),
    StoredType("exercises", "Exercises", ("exercises.Exercise",)),
    StoredType("session_logs", "Session logs", ("session_logs.SessionLog",), ("client_id",)),
    StoredType("addenda", "Addenda", ("session_logs.Addendum",), ("client_id", "session_log_id")),
    StoredType("documents", "Documents", ("documents.SentDocument",), ("client_id", "provider_id")),
    StoredType("communications", "Communications", ("documents.Communication",), ("provider_id",)),
    StoredType(
        "home_programs",
        "Home exercise programs",
        ("home_programs.HomeProgram",),
        ("client_id",),
        since=2,
    ),
    StoredType(
        "home_program_prints",
        "Printed home programs",
        ("home_programs.HomeProgramPrint",),
        ("client_id",),
        since=2,
    ),
    StoredType(
        "outreach", "Referral partner outreach", ("partners.Outreach",), ("provider_id",), since=2
    ),
    StoredType("schedules", "Session plans", ("schedule.SessionPlan",), ("client_id",), since=2),
    StoredType(
        "client_summaries",
        "Client summaries",
        ("client_summary.ClientSummary",),
        since=2,
        derived=True,
    ),
    StoredType(
        "dashboard_rows",
        "Dashboard rows",
        ("dashboard_row.DashboardRow",),
        since=2,
        derived=True,
        bucketed=True,
    ),
    StoredType(
        "exercise_pictures",
        "Exercise pictures",
        ("home_programs.ExercisePicture",),
        ("exercise_id", "client_id"),
        since=2,
    ),
)

# The storage layer's own stores (not records, not in backups' ``data``): IndexedDB key paths.
SYSTEM_STORES: dict[str, str] = {"meta": "key", "audit": "++seq"}

STORE_LABELS: dict[str, str] = {t.store: t.label for t in STORED}
DERIVED_STORES: frozenset[str] = frozenset(t.store for t in STORED if t.derived)


def by_store() -> dict[str, StoredType]:
    return {t.store: t for t in STORED}


def record_modules() -> tuple[str, ...]:
    """The medex modules that define stored record types, in registry order."""
    return tuple(dict.fromkeys(m.rpartition(".")[0] for t in STORED for m in t.models))


def bucketed_stores() -> list[str]:
    """The stores whose documents js/buckets.js keeps many to an IndexedDB record."""
    return [t.store for t in STORED if t.bucketed]


def indexeddb_schema() -> dict[int, dict[str, str]]:
    """The Dexie schema, ``{version: {store: "key, index, …"}}``: every version lists all the
    stores it has (Dexie 3+ reads the full schema of each version)."""
    latest = max(t.since for t in STORED)
    return {
        version: {
            **SYSTEM_STORES,
            **{t.store: ", ".join(("id", *t.indexes)) for t in STORED if t.since <= version},
        }
        for version in range(1, latest + 1)
    }
