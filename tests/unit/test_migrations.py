"""Record registry and upgraders (medex.migrations): ordered, named, refusing newer data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest

from medex import migrations
from medex.backup import BackupError, make_backup, parse_backup
from medex.migrations import Migrations, NewerVersionError, UpgradeError, is_signed
from medex.records import PracticeProfile, Record, RequiredText, Text

NOW = datetime(2025, 6, 1, tzinfo=UTC)
T0 = "2025-01-01T00:00:00Z"


class PetV3(Record):
    """A test record type at version 3: ``name`` was split into first/last at v2, ``nick`` was
    added (required) at v3."""

    store: ClassVar[str] = "pets"
    SCHEMA_VERSION: ClassVar[int] = 3

    schema_version: int = 3
    first: RequiredText
    last: Text = ""
    nick: RequiredText


TRACE: list[str] = []


def registry(with_upgraders: bool = True) -> Migrations:
    TRACE.clear()
    reg = Migrations(modules=())
    reg.register_record(PetV3)
    if with_upgraders:

        @reg.upgrader("pets", from_version=2)
        def pets_add_nick(doc: dict) -> dict:
            doc["nick"] = doc["first"]
            TRACE.append("2→3")
            return doc

        @reg.upgrader("pets", from_version=1)
        def pets_split_name(doc: dict) -> dict:
            first, _, last = doc.pop("name").partition(" ")
            doc.update(first=first, last=last)
            TRACE.append("1→2")
            return doc

    return reg


def v1_doc(**kw) -> dict:
    return {
        "id": "5f0c6a0e-4a51-4c43-9d0e-2b8d8f7f3a11",
        "schema_version": 1,
        "created_at": T0,
        "updated_at": T0,
        "name": "Rex Smith",
        **kw,
    }


def test_upgraders_run_in_version_order_whatever_the_registration_order():
    reg = registry()
    assert [s.name for s in reg.steps("pets")] == ["pets_split_name", "pets_add_nick"]
    doc = reg.upgrade_document("pets", v1_doc())
    assert TRACE == ["1→2", "2→3"]
    assert (doc["first"], doc["last"], doc["nick"], doc["schema_version"]) == (
        "Rex",
        "Smith",
        "Rex",
        3,
    )


def test_upgrading_starts_from_the_documents_own_version():
    doc = {**v1_doc(), "schema_version": 2, "first": "Rex", "last": ""}
    del doc["name"]
    reg = registry()
    reg.upgrade_document("pets", doc)
    assert TRACE == ["2→3"]


def test_upgrading_does_not_change_the_callers_document():
    original = v1_doc()
    registry().upgrade_document("pets", original)
    assert original == v1_doc()


def test_a_current_document_is_returned_as_is():
    doc = {**v1_doc(), "schema_version": 3}
    assert registry().upgrade_document("pets", doc) is doc


def test_a_newer_document_is_refused_with_the_update_message():
    with pytest.raises(NewerVersionError) as info:
        registry().upgrade_document("pets", {**v1_doc(), "schema_version": 4})
    assert str(info.value) == (
        "This backup was made by a newer version of MedEx Practice (record version 4; this "
        "app reads up to 3). Update the app first."
    )


def test_a_missing_upgrader_is_an_error_naming_the_step():
    with pytest.raises(UpgradeError, match="No upgrader for pets records from version 1 to 2"):
        registry(with_upgraders=False).upgrade_document("pets", v1_doc())


def test_a_failing_upgrader_is_reported_with_its_name():
    with pytest.raises(UpgradeError, match="pets_split_name"):
        registry().upgrade_document("pets", v1_doc(name=None))


@pytest.mark.parametrize("version", [0, -1, "2", 1.5, True])
def test_a_nonsense_version_is_refused(version):
    with pytest.raises(UpgradeError):
        registry().upgrade_document("pets", v1_doc(schema_version=version))


def test_two_upgraders_for_the_same_step_are_refused():
    reg = registry()
    with pytest.raises(ValueError, match="Two upgraders for pets version 1"):
        reg.upgrader("pets", 1)(lambda d: d)


def test_validate_document_upgrades_then_validates():
    pet = registry().validate_document("pets", v1_doc())
    assert isinstance(pet, PetV3)
    assert (pet.first, pet.last, pet.nick, pet.schema_version) == ("Rex", "Smith", "Rex", 3)


def test_the_database_version_check_refuses_a_newer_store_only():
    reg = registry()
    assert reg.check_database_versions({"pets": 3, "unknown": 9}) is None
    message = reg.check_database_versions({"pets": 4})
    assert message is not None and "newer version of MedEx Practice" in message
    assert "pets record version 4; this app reads up to 3" in message


def test_a_backup_with_old_records_is_upgraded_on_restore():
    text = make_backup({"pets": [v1_doc()]}, [], {}, "0.0.9", NOW)
    parsed = parse_backup(text, now=NOW, registry=registry())
    assert parsed.upgraded == {"pets": 1}
    assert parsed.data["pets"][0]["nick"] == "Rex"
    assert parsed.data["pets"][0]["schema_version"] == 3


def test_a_backup_needing_a_missing_upgrader_is_refused():
    text = make_backup({"pets": [v1_doc()]}, [], {}, "0.0.9", NOW)
    with pytest.raises(BackupError) as info:
        parse_backup(text, now=NOW, registry=registry(with_upgraders=False))
    assert info.value.code == "invalid-records"
    assert "No upgrader" in info.value.problems[0].message


def test_the_app_registry_finds_the_persisted_record_types():
    found = migrations.models()
    assert found["profile"] == [PracticeProfile]
    for store in ("clients", "referrals", "providers", "consents", "goals", "settings"):
        assert store in found, store
    assert all(m.store == s for s, ms in found.items() for m in ms)


def test_a_record_module_that_does_not_exist_yet_is_skipped():
    reg = Migrations(modules=("records", "no_such_module_yet"))
    assert "profile" in reg.models()


def test_a_broken_import_inside_an_existing_module_is_not_hidden():
    reg = Migrations(modules=("json",), package="")
    reg.discover()  # a real module with no records: fine
    with pytest.raises(ModuleNotFoundError):
        Migrations(modules=("medex.no_such_module.child",), package="").discover()


def test_models_sharing_a_store_share_one_schema_version():
    for store, ms in migrations.models().items():
        assert len({m.SCHEMA_VERSION for m in ms}) == 1, store


def test_every_registered_model_defaults_to_its_current_schema_version():
    """A model whose SCHEMA_VERSION went up must also default ``schema_version`` to it, or
    new records would be written with the old number."""
    for store, ms in migrations.models().items():
        for m in ms:
            assert m.model_fields["schema_version"].default == m.SCHEMA_VERSION, store


def test_register_record_refuses_a_type_without_a_store():
    with pytest.raises(TypeError):
        Migrations(modules=()).register_record(Record)


@pytest.mark.parametrize(
    ("doc", "signed"),
    [
        ({"signature": {"signed_by": "D"}}, True),
        ({"signature": None}, False),
        ({"signed_at": "2025-01-01T00:00:00Z"}, True),
        ({"signed_at": None}, False),
        ({}, False),
    ],
)
def test_is_signed_looks_at_signature_fields(doc, signed):
    assert is_signed("clients", doc) is signed


def test_a_frozen_record_type_counts_as_signed():
    assert is_signed("consents", {}) is True
