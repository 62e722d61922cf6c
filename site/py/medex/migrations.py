"""Schema evolution of stored records: the registry of persisted record types and their
named, ordered upgraders (the shape of sqlite-utils' ``Migrations``).

Every stored document carries ``schema_version``. When a record type changes in a way old
documents would not validate against (a field removed, renamed or retyped, a new required
field), its model's ``SCHEMA_VERSION`` goes up by one and an upgrader is registered that turns
a document of the previous version into the new shape::

    @upgrader("clients", from_version=1)
    def clients_split_phone(doc: dict) -> dict:
        doc["mobile_phone"] = doc.pop("phone", "")
        return doc

Upgraders are pure ``dict -> dict`` functions; they receive a copy, and ``schema_version`` is
set to ``from_version + 1`` after each one runs. The same code upgrades the device's database
when the app opens and every document of an imported backup. A document written by a newer
app (a ``schema_version`` above what this app knows) is refused, never half-read.

Versions are per store: models sharing a store (``settings``) share one ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .records import Record
from .stores import record_modules

Upgrader = Callable[[dict], dict]

# Modules holding persisted record types: those of the stored-type registry (``stores``).
KNOWN_MODULES: tuple[str, ...] = record_modules()

APP_NAME = "MedEx Practice"


class NewerVersionError(ValueError):
    """A document (or database) was written by a newer version of the app."""


class UpgradeError(ValueError):
    """A document could not be brought to the current version (no upgrader, or it failed)."""


def newer_version_message(found: int, known: int) -> str:
    return (
        f"This backup was made by a newer version of {APP_NAME} (record version {found}; "
        f"this app reads up to {known}). Update the app first."
    )


def newer_database_message(store: str, found: int, known: int) -> str:
    return (
        f"This device's data was saved by a newer version of {APP_NAME} ({store} record "
        f"version {found}; this app reads up to {known}). Update the app first: nothing has "
        "been read or changed."
    )


@dataclass(frozen=True)
class Step:
    store: str
    from_version: int
    name: str
    fn: Upgrader


class Migrations:
    """Registry of persisted record types (by store) and of their upgraders."""

    def __init__(self, modules: Iterable[str] = KNOWN_MODULES, package: str | None = None):
        self._modules = tuple(modules)
        self._package = package if package is not None else __package__
        self._models: dict[str, list[type[Record]]] = {}
        self._steps: dict[str, dict[int, Step]] = {}
        self._discovered = not self._modules

    # -- registry -------------------------------------------------------------------------

    def register_record(self, model: type[Record]) -> type[Record]:
        """Register a persisted record type (usable as a class decorator)."""
        if not (isinstance(model, type) and issubclass(model, Record)):
            raise TypeError(f"{model!r} is not a Record subclass")
        if not model.store:
            raise TypeError(f"{model.__name__} has no store")
        models = self._models.setdefault(model.store, [])
        if model not in models:
            models.append(model)
        return model

    def discover(self) -> None:
        """Import the known record modules (skipping missing ones) and register every Record
        subclass defined in them that names a store."""
        self._discovered = True
        for name in self._modules:
            full = f"{self._package}.{name}" if self._package else name
            try:
                module = importlib.import_module(full)
            except ModuleNotFoundError as exc:
                if exc.name == full:  # not written yet; a broken import inside one is a bug
                    continue
                raise
            for value in list(vars(module).values()):
                if (
                    isinstance(value, type)
                    and issubclass(value, Record)
                    and value is not Record
                    and value.store
                    and value.__module__ == module.__name__
                ):
                    self.register_record(value)

    def models(self) -> dict[str, list[type[Record]]]:
        """Persisted record types by store, in store-name order."""
        if not self._discovered:
            self.discover()
        return {store: list(self._models[store]) for store in sorted(self._models)}

    def _models_of(self, store: str) -> list[type[Record]] | None:
        """The record types of one store, without copying every list (called per record when
        a backup is checked)."""
        if not self._discovered:
            self.discover()
        return self._models.get(store) or None

    def stores(self) -> list[str]:
        return list(self.models())

    def is_known_store(self, store: str) -> bool:
        return self._models_of(store) is not None

    def current_version(self, store: str) -> int:
        models = self._models_of(store)
        if not models:
            raise KeyError(f"Unknown record store {store!r}")
        return max(m.SCHEMA_VERSION for m in models)

    def versions(self) -> dict[str, int]:
        """``{store: current schema version}``: what the app writes (kept in ``meta`` so a
        newer database is recognised before anything is read)."""
        return {store: self.current_version(store) for store in self.models()}

    def check_database_versions(self, stored: dict[str, int] | None) -> str | None:
        """A plain message if a database's recorded versions are newer than this app's."""
        for store, found in sorted((stored or {}).items()):
            if not isinstance(found, int) or store not in self.models():
                continue
            known = self.current_version(store)
            if found > known:
                return newer_database_message(store, found, known)
        return None

    def model_for(self, store: str, doc: dict) -> type[Record]:
        """The model a document of ``store`` belongs to. A store shared by several models
        (``settings``) dispatches on a model's fixed default id, else the first that fits."""
        models = self._models_of(store)
        if not models:
            raise KeyError(f"Unknown record store {store!r}")
        if len(models) == 1:
            return models[0]
        doc_id = doc.get("id")
        for model in models:
            default = model.model_fields["id"].default
            if isinstance(default, str) and default == doc_id:
                return model
        for model in models:
            if model.model_fields["id"].default_factory is None:
                continue  # a fixed-id model only ever holds its own id
            try:
                model.model_validate(doc)
            except ValidationError:
                continue
            return model
        return models[0]

    # -- upgraders ------------------------------------------------------------------------

    def upgrader(self, store: str, from_version: int) -> Callable[[Upgrader], Upgrader]:
        """Register ``fn`` to upgrade ``store`` documents from ``from_version`` to the next."""
        if not isinstance(from_version, int) or from_version < 1:
            raise ValueError("from_version must be a whole number of at least 1")

        def decorate(fn: Upgrader) -> Upgrader:
            steps = self._steps.setdefault(store, {})
            if from_version in steps:
                raise ValueError(
                    f"Two upgraders for {store} version {from_version}: "
                    f"{steps[from_version].name} and {fn.__name__}"
                )
            steps[from_version] = Step(store, from_version, fn.__name__, fn)
            return fn

        return decorate

    def steps(self, store: str) -> list[Step]:
        """The upgraders of a store, in order."""
        return [s for _, s in sorted(self._steps.get(store, {}).items())]

    def has_upgrader(self, store: str, from_version: int) -> bool:
        return from_version in self._steps.get(store, {})

    def upgrade_document(self, store: str, doc: dict) -> dict:
        """Bring ``doc`` to the store's current version, applying its upgraders in order.

        Returns ``doc`` itself when it is already current, else an upgraded copy. Raises
        ``NewerVersionError`` for a document from a newer app and ``UpgradeError`` when a step
        is missing or fails."""
        known = self.current_version(store)
        version = doc.get("schema_version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise UpgradeError(f"The record version {version!r} is not a whole number")
        if version > known:
            raise NewerVersionError(newer_version_message(version, known))
        if version == known:
            return doc
        doc = copy.deepcopy(doc)
        while version < known:
            step = self._steps.get(store, {}).get(version)
            if step is None:
                raise UpgradeError(
                    f"No upgrader for {store} records from version {version} to {version + 1}"
                )
            try:
                result = step.fn(doc)
            except Exception as exc:
                raise UpgradeError(
                    f"Upgrading a {store} record from version {version} failed ({step.name}: {exc})"
                ) from exc
            if not isinstance(result, dict):
                raise UpgradeError(f"Upgrader {step.name} did not return a document")
            version += 1
            result["schema_version"] = version
            doc = result
        return doc

    def validate_document(
        self, store: str, doc: dict, context: dict[str, Any] | None = None
    ) -> Record:
        """Upgrade then validate one document through its pydantic model."""
        doc = self.upgrade_document(store, doc)
        return self.model_for(store, doc).model_validate(doc, context=context)


# The app's registry. Upgraders for shipped record types are registered below this line (or
# in the record's own module with ``from .migrations import upgrader``).
MIGRATIONS = Migrations()

register_record = MIGRATIONS.register_record
upgrader = MIGRATIONS.upgrader
upgrade_document = MIGRATIONS.upgrade_document
current_version = MIGRATIONS.current_version
models = MIGRATIONS.models


SIGNATURE_FIELDS = ("signed_at", "signature", "signed_on", "signature_svg", "signed_by")


def is_signed(store: str, doc: Mapping[str, Any], registry: Migrations | None = None) -> bool:
    """Whether a stored document is signed (so immutable): any signature field set
    (``SIGNATURE_FIELDS``) or a frozen model (a consent is an immutable snapshot by
    construction)."""
    for key in SIGNATURE_FIELDS:
        if doc.get(key):
            return True
    reg = registry or MIGRATIONS
    model_list = reg.models().get(store) or []
    return any(m.model_config.get("frozen") for m in model_list)


# ---------------------------------------------------------------------------------------------
# Upgraders of shipped record types (none yet: every record type is at version 1).
# ---------------------------------------------------------------------------------------------
