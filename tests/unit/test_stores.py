"""The registry of stored record types (``medex.stores``) and everything derived from it stay
in step: the record models, the IndexedDB schema, the labels, the schema snapshots and the
migrations (the shape of sqlite-utils' ``tests/test_docs.py``: parametrized over the real list).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import medex
from medex import migrations, stores
from medex.records import Record
from medex.services.data import STORE_LABELS, store_label

SNAPSHOTS = Path(__file__).resolve().parent / "schemas"
STORED = {t.store: t for t in stores.STORED}

# The IndexedDB schemas already on practitioners' devices. Never edit a released version: a
# new store gets ``since=`` a new version (and Dexie upgrades the database on open).
RELEASED: dict[int, dict[str, str]] = {
    1: {
        "meta": "key",
        "audit": "++seq",
        "profile": "id",
        "settings": "id",
        "providers": "id",
        "clients": "id, status",
        "referrals": "id, client_id, provider_id",
        "health_histories": "id, client_id",
        "screenings": "id, client_id",
        "clearances": "id, client_id",
        "consents": "id, client_id",
        "goals": "id, client_id",
        "custom_measures": "id",
        "assessments": "id, client_id",
        "programs": "id",
        "episodes": "id, client_id",
        "exercises": "id",
        "session_logs": "id, client_id",
        "addenda": "id, client_id, session_log_id",
        "documents": "id, client_id, provider_id",
        "communications": "id, provider_id",
    },
}


def resolve(ref: str) -> type:
    module, _, name = ref.rpartition(".")
    return getattr(importlib.import_module(f"medex.{module}"), name)


def stored_models_in_the_domain() -> dict[str, type[Record]]:
    """Every Record subclass with a store defined anywhere under medex, as "module.Class"."""
    found = {}
    for info in pkgutil.walk_packages(medex.__path__, "medex."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Record)
                and value.store
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__.removeprefix('medex.')}.{value.__name__}"] = value
    return found


@pytest.mark.parametrize("ref", sorted(stored_models_in_the_domain()))
def test_every_record_model_with_a_store_is_registered(ref):
    model = resolve(ref)
    entry = STORED.get(model.store)
    assert entry is not None, f"{ref} names store {model.store!r}: add it to medex/stores.py"
    assert ref in entry.models, f"list {ref!r} in the models of {model.store!r} in stores.py"


@pytest.mark.parametrize("store", list(STORED))
def test_registered_models_exist_and_live_in_their_store(store):
    for ref in STORED[store].models:
        model = resolve(ref)
        assert issubclass(model, Record) and model.store == store, ref


@pytest.mark.parametrize("store", list(STORED))
def test_every_store_is_in_the_indexeddb_schema(store):
    latest = stores.indexeddb_schema()[max(stores.indexeddb_schema())]
    assert latest[store] == ", ".join(("id", *STORED[store].indexes))


@pytest.mark.parametrize("store", list(STORED))
def test_every_store_has_a_label_in_the_practitioners_words(store):
    label = STORE_LABELS[store]
    assert label and label[0].isupper() and "_" not in label
    assert store_label(store) == label


@pytest.mark.parametrize("store", list(STORED))
def test_every_store_has_a_json_schema_snapshot(store):
    assert (SNAPSHOTS / f"{store}.json").is_file(), (
        "run `python -m tests.unit.test_schema_snapshots --update` and commit the snapshot"
    )


@pytest.mark.parametrize("store", list(STORED))
def test_every_store_is_known_to_the_migrations(store):
    registered = {resolve(ref) for ref in STORED[store].models}
    assert set(migrations.models()[store]) == registered
    assert migrations.current_version(store) >= 1


@pytest.mark.parametrize("store", list(STORED))
def test_indexed_fields_are_fields_and_no_client_content(store):
    """Indexed fields stay readable when the data is encrypted at rest (store.js)."""
    for field in STORED[store].indexes:
        assert field.endswith("_id") or field == "status", f"{store}.{field} would stay in clear"
        for ref in STORED[store].models:
            assert field in resolve(ref).model_fields, f"{ref} has no field {field!r}"


def test_the_migrations_know_only_registered_stores():
    assert migrations.MIGRATIONS.stores() == sorted(STORED)
    assert set(migrations.KNOWN_MODULES) == {
        ref.rpartition(".")[0] for t in stores.STORED for ref in t.models
    }


def test_system_stores_are_not_record_stores():
    assert not set(stores.SYSTEM_STORES) & set(STORED)


def test_released_indexeddb_versions_never_change():
    schema = stores.indexeddb_schema()
    assert sorted(schema) == list(range(1, max(schema) + 1))  # no gaps between versions
    for version, released in RELEASED.items():
        assert schema[version] == released, (
            f"IndexedDB version {version} is on devices already: add a store with a new `since`"
        )


def _find_calls() -> list[tuple[str, str, str]]:
    """(where, model class name, field) of every ``repo.find(Model, "field", …)`` in site/py."""
    site_py = Path(medex.__file__).resolve().parents[1]
    out = []
    for package in ("medex", "app"):
        for path in sorted((site_py / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "find"
                    and len(node.args) >= 2
                    and isinstance(node.args[0], ast.Name)
                    and isinstance(node.args[1], ast.Constant)
                ):
                    where = f"{path.relative_to(site_py)}:{node.lineno}"
                    out.append((where, node.args[0].id, node.args[1].value))
    return out


def test_repository_finds_query_indexed_fields():
    by_class = {ref.rpartition(".")[2]: t for t in stores.STORED for ref in t.models}
    calls = [(w, m, f) for w, m, f in _find_calls() if m in by_class]
    assert len(calls) > 10  # the scan sees them
    wrong = [f"{w}: {m}.{f}" for w, m, f in calls if f not in by_class[m].indexes]
    assert not wrong, f"find() on a field that is not indexed in stores.py: {wrong}"


def _models_reading(store: str) -> list[type]:
    """Every model the app validates a store's documents with: its record models and the
    views of the rows (``dashboard_row.RowView``) read by ``Repository.project``."""
    from medex.dashboard_row import RowView

    models = [resolve(ref) for ref in STORED[store].models]
    return [*models, RowView] if store == "dashboard_rows" else models


@pytest.mark.parametrize("store", stores.bucketed_stores())
def test_a_bucketed_store_is_derived_and_its_models_ignore_fields_they_do_not_name(store):
    """A bucketed store's documents come whole from ``project`` (js/storage.js does not parse
    their text to pick fields): each model reading them must ignore the others, and the store
    must be one rebuilt from the records (its storage can change with a version)."""
    assert STORED[store].derived
    for model in _models_reading(store):
        assert model.model_config.get("extra", "ignore") == "ignore", model
    from medex.dashboard_row import COMPLETE_ID, RowView

    doc = {"id": COMPLETE_ID, "client_id": "c1", "a_field_of_the_stored_row": [1, 2]}
    assert RowView.model_validate(doc) == RowView.model_validate(
        {k: v for k, v in doc.items() if k in RowView.model_fields}
    )


def test_only_the_dashboard_rows_are_bucketed():
    assert stores.bucketed_stores() == ["dashboard_rows"]
