"""The Repository protocol the domain services use, its audited base, and the in-memory store.

Records cross the boundary as JSON documents; every ``save`` of several records is one
transaction that also (a) checks each record is still at the revision this tab read or showed
(``medex.revisions``: a stale save is refused with ``StaleWriteError``, never silently
overwriting another tab's newer work), (b) refuses to change or delete a signed record
(``SignedRecordError``) and (c) appends the audit entries (who, action, record id, time).

``AuditedRepository`` does all of that once; a subclass only supplies the reads and the one
atomic conditional write (``_commit``): ``InMemoryRepository`` below (the tests, the demo data,
the benchmarks) and ``app.browser.IndexedDbRepository`` (js/store.js does the checks inside
its IndexedDB transaction).

Example::

    repo = InMemoryRepository()
    client = Client(first_name="Ana", last_name="López")
    await repo.save(client)                 # client._rev == "1-…"
    stale = await repo.get(Client, client.id)
    await repo.save(client.model_copy(update={"first_name": "Anna"}))
    await repo.save(stale)                  # raises StaleWriteError: nothing written
"""

from __future__ import annotations

import builtins
import copy
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel

from . import revisions
from .records import Record
from .stores import DERIVED_STORES

R = TypeVar("R", bound=Record)
B = TypeVar("B", bound=BaseModel)


class KeptText(Protocol):
    """A text kept outside Python (a checked backup part the browser keeps in the page's
    memory, which is given back, where Python's is not: ``app.browser.KeptPart``)."""

    def read(self) -> bytes:
        """The text, brought back into Python."""
        ...

    def release(self) -> None:
        """Let go of the text where it is kept (reading it afterwards fails)."""
        ...


@dataclass(frozen=True)
class EncodedPuts:
    """Puts handed to storage as the JSON text they arrived in (a part of a checked backup,
    restored over records it does not hold), never decoded and encoded again: ``text`` is a
    JSON array (UTF-8) of ``store``'s documents without storage fields, or where the device
    keeps that text (``KeptText``); the i-th is stored with
    ``revisions[i]`` as its ``_rev`` and, where ``signed[i]``, the signed marker. ``refs``:
    each document's ``id`` and ``client_id`` (what the derived records need), in order.
    Unconditional, like every put of a restore (the audit chain guards the whole write)."""

    store: str
    text: bytes | KeptText
    revisions: Sequence[str]
    signed: Sequence[bool]
    refs: Sequence[dict[str, str]]

    def documents(self) -> builtins.list[dict]:
        """The documents as they are stored (``InMemoryRepository``; js/storage.js does the
        same for IndexedDB)."""
        docs = json.loads(self.text if isinstance(self.text, bytes) else self.text.read())
        if not (len(docs) == len(self.revisions) == len(self.signed)):
            raise ValueError(f"{self.store}: a part's documents and revisions do not match")
        for doc, rev, signed in zip(docs, self.revisions, self.signed, strict=True):
            doc["_rev"] = rev
            if signed:
                doc["_signed"] = True
        return docs


class WriteRefused(Exception):
    """A write the storage refused: nothing of it was written."""


class StorageFullError(WriteRefused):
    """The device refused the write (storage full or failing). Nothing was written."""


class StaleWriteError(WriteRefused):
    """The record was changed (in another tab, or by a restore) since this copy was read or
    shown: saving it would overwrite newer work, so nothing was written."""

    def __init__(self, store: str = "", record_id: str = "", message: str = "") -> None:
        self.store, self.record_id = store, record_id
        super().__init__(
            message
            or "This record was changed in another tab since you opened it, so your change "
            "was not saved over it."
        )


class SignedRecordError(WriteRefused):
    """The record is signed (in another tab, say) and so locked: nothing was written."""

    def __init__(self, store: str = "", record_id: str = "", message: str = "") -> None:
        self.store, self.record_id = store, record_id
        super().__init__(message or "This record is signed and locked: it cannot be changed.")


class ConcurrentWriteError(WriteRefused):
    """Another tab kept writing while this one tried to save; nothing of this save was written."""


class EncryptionChangedError(WriteRefused):
    """Encryption was turned on or off (or re-keyed) in another tab; this tab reloaded it and
    wrote nothing."""


class Repository(Protocol):
    actor: str
    read_only: bool
    # Results a query prepared from whole stores, kept while ``stamp`` of those stores is
    # unchanged (``{name: (stamp, value)}``); emptied with everything else on ``forget()``.
    memos: dict[str, tuple[Any, Any]]

    def stamp(self, stores: Iterable[str]) -> Any:
        """A value that changes whenever any of ``stores`` may have changed: this tab's
        writes, another tab's (as far as this repository knows), a lock."""
        ...

    async def get(self, model: type[R], record_id: str) -> R | None: ...

    async def list(self, model: type[R]) -> builtins.list[R]: ...

    async def find(self, model: type[R], field: str, value: str) -> builtins.list[R]:
        """Records whose indexed ``field`` equals ``value`` (e.g. a client's session logs)."""
        ...

    async def project(
        self, model: type[B], store: str, where: tuple[str, str] | None = None
    ) -> builtins.list[B]:
        """Every record of ``store`` (or those whose indexed field equals a value: ``where``)
        reduced to the fields of ``model`` (a summary model such as SessionLogSummary): what a
        dashboard needs without parsing whole records."""
        ...

    async def save(self, *records: Record) -> None:
        """Write all records in one transaction: all are stored, or none (``WriteRefused``)."""
        ...

    async def delete(self, model: type[Record], record_id: str) -> None: ...

    async def write(
        self,
        ops: builtins.list[dict],
        changes: builtins.list[tuple[str, str, str]] | None = None,
        audit_entries: Callable[[dict | None], builtins.list[dict]] | None = None,
        *,
        revised: bool = False,
        encoded: Sequence[EncodedPuts] = (),
    ) -> None:
        """Raw document operations (a restore) with their audit entries, in one transaction
        (``revised``: the puts already carry their new revisions, made as ``revisions.put_op``
        makes them; ``encoded``: more puts, as the JSON text they came in)."""
        ...

    async def documents(
        self, store: str, where: tuple[str, str] | None = None
    ) -> builtins.list[dict]:
        """A store's stored documents as they are (or those whose indexed field equals a
        value: ``where``), not validated: for exports, and for a screen that validates only
        the part of each record it shows (``services.client_timeline``)."""
        ...

    async def export_all(self) -> dict[str, Any]:
        """Every stored record (but the derived ones: ``stores.DERIVED_STORES``), the audit
        log and meta, as ``{"stores": {store: [doc]}, "audit": [...], "meta": {...}}``."""
        ...

    async def audit_log(self) -> builtins.list[dict]: ...

    async def get_meta(self, key: str) -> Any: ...

    async def set_meta(self, key: str, value: Any) -> None: ...

    async def delete_meta(self, key: str) -> None: ...

    async def meta_with_prefix(self, prefix: str) -> dict[str, Any]: ...

    def start_view(self) -> None: ...

    def end_view(self) -> None: ...

    def forget(self, stores: Iterable[str] | None = None) -> None: ...


def to_documents(records: tuple[Record, ...]) -> list[dict]:
    for record in records:
        if not record.store:
            raise TypeError(f"{type(record).__name__} has no store")
    return [{"store": r.store, "doc": r.to_doc()} for r in records]


class DerivedWrites(Protocol):
    """Records computed from others (the client summaries), written in the same transaction
    as every write that changes what they are computed from. Each returns the extra ops."""

    async def for_save(self, repo: Any, puts: builtins.list[dict]) -> builtins.list[dict]: ...

    async def for_delete(self, repo: Any, store: str, record_id: str) -> builtins.list[dict]: ...

    async def for_raw_write(self, repo: Any, ops: builtins.list[dict]) -> builtins.list[dict]:
        """``ops`` as they may be written (a raw write may not carry derived records)."""
        ...


class AuditedRepository:
    """What every repository does the same way: revisions, the signed guard, audit entries.

    It remembers the revision of every record it reads (``_known``) and, while a screen is
    rendered (``start_view``/``end_view``), the revisions that screen showed (``_shown``). A save
    expects the revision the screen showed, else the one the record was read at: so a form
    filled from a copy that another tab has since changed is refused, even if the action
    re-read the record just before saving.
    """

    actor: str = "practitioner"
    read_only: bool = False
    # Installed by ``medex.services`` (which knows the domain), so that every save of every
    # use case carries the records derived from it; None: a repository used on its own.
    derived: ClassVar[DerivedWrites | None] = None

    def __init__(self) -> None:
        self.actor = "practitioner"
        self.read_only = False
        self._known: dict[tuple[str, str], str] = {}
        self._shown: dict[tuple[str, str], str] = {}
        self._viewing = False
        self.memos: dict[str, tuple[Any, Any]] = {}
        self._versions: dict[str, int] = {}  # bumped by every write to a store, and forget()
        self._epoch = 0  # bumped by forget() of everything (a lock)

    def stamp(self, stores: Iterable[str]) -> Any:
        return (self._epoch, *(self._versions.get(s, 0) for s in stores))

    def _bump(self, stores: Iterable[str]) -> None:
        for store in stores:
            self._versions[store] = self._versions.get(store, 0) + 1

    # -- revision bookkeeping ----------------------------------------------------------------
    def start_view(self) -> None:
        """A screen is about to be rendered: what it reads is what the person sees."""
        self._shown = {}
        self._viewing = True

    def end_view(self) -> None:
        self._viewing = False

    def _note(self, records: Iterable[Record]) -> None:
        known, shown, viewing = self._known, self._shown, self._viewing
        for record in records:
            key = (record.store, record.id)
            known[key] = record._rev
            if viewing:
                shown[key] = record._rev

    def _expected(self, store: str, record_id: str, rev: str) -> str:
        key = (store, record_id)
        if key in self._shown:
            return self._shown[key]
        if key in self._known:
            # The copy's own revision if it has one (an older copy is refused), else the
            # revision this repository last read or wrote (a copy rebuilt from a dump).
            return rev or self._known[key]
        # Never read here: a new record, which must not exist yet (a record another tab made
        # with the same id is not overwritten unseen). A document stored before revisions
        # existed has no _rev and matches "" too.
        return ""

    def _written(self, ops: list[dict]) -> None:
        self._bump({op["store"] for op in ops})
        for op in ops:
            if op["store"] in ("meta", "audit"):
                continue
            if "delete" in op:
                key = (op["store"], op["delete"])
                self._known.pop(key, None)
                self._shown.pop(key, None)
            else:
                key = (op["store"], op["doc"]["id"])
                self._known[key] = op["doc"]["_rev"]
                if key in self._shown:
                    self._shown[key] = op["doc"]["_rev"]

    def forget(self, stores: Iterable[str] | None = None) -> None:
        """Drop what this repository remembers of ``stores`` (all: on lock)."""
        if stores is None:
            self._known.clear()
            self._shown.clear()
            self.memos.clear()
            self._epoch += 1
        else:
            self._bump(stores)

    # -- writes ----------------------------------------------------------------------------------
    def _check_writable(self) -> None:
        if self.read_only:
            raise StorageFullError("This device's storage is full: the app is read-only.")

    async def write(
        self,
        ops: list[dict],
        changes: list[tuple[str, str, str]] | None = None,
        audit_entries: Callable[[dict | None], list[dict]] | None = None,
        *,
        revised: bool = False,
        encoded: Sequence[EncodedPuts] = (),
    ) -> None:
        """Write ``ops`` (``[{store, doc}]`` / ``[{store, delete}]``, optionally with ``expect``
        and ``guard``) with their audit entries in one transaction. ``changes`` lists
        ``(action, store, id)`` to audit; or ``audit_entries(last)`` builds the entries itself
        (a restore brings its own chain). Every put gets its new revision here, unless
        ``revised``: then they carry it already (a restore makes them with the fingerprints its
        undo needs, from one canonical text per record: ``services.restore``). ``encoded``:
        more puts, already revised, as the JSON text they came in (``EncodedPuts``)."""
        self._check_writable()
        if self.derived is not None:
            # The derived records see the encoded puts by their ids and clients only.
            refs = [{"store": e.store, "doc": ref} for e in encoded for ref in e.refs]
            seen = {id(op) for op in refs}
            with_refs = await self.derived.for_raw_write(self, [*ops, *refs])
            ops = [op for op in with_refs if id(op) not in seen]
        prepared = [
            op
            if revised or "delete" in op or op["store"] in ("meta", "audit")
            else revisions.put_op(op["store"], op["doc"], op.get("expect"), bool(op.get("guard")))
            for op in ops
        ]
        await self._write(prepared, changes, audit_entries, encoded)

    async def _write(
        self,
        ops: list[dict],
        changes: list[tuple[str, str, str]] | None = None,
        audit_entries: Callable[[dict | None], list[dict]] | None = None,
        encoded: Sequence[EncodedPuts] = (),
    ) -> None:
        self._check_writable()

        def entries(last: dict | None) -> list[dict]:
            if audit_entries is not None:
                return audit_entries(last)
            return revisions.audit_entries_for(last, changes or [], self.actor)

        await self._commit(ops, entries, encoded)
        self._written(ops)
        if encoded:
            self._bump({e.store for e in encoded})

    async def save(self, *records: Record) -> None:
        """Write ``records`` in one transaction, together with the client summaries they
        change (``derived``: records computed from others, not audited)."""
        for record in records:
            if not record.store:
                raise TypeError(f"{type(record).__name__} has no store")
        self._check_writable()  # before the derived records are read for it
        ops = [
            revisions.put_op(
                r.store,
                r.to_doc(),
                r._rev if r.DERIVED else self._expected(r.store, r.id, r._rev),
            )
            for r in records
        ]
        # Derived records (client summaries) are not audited: they follow the audited ones.
        changes = revisions.save_changes(
            [op for r, op in zip(records, ops, strict=True) if not r.DERIVED]
        )
        derived = await self.derived.for_save(self, ops) if self.derived is not None else []
        await self._write(ops + derived, changes)
        for record, op in zip(records, ops, strict=True):
            record._rev = op["doc"]["_rev"]

    async def delete(self, model: type[Record], record_id: str) -> None:
        self._check_writable()
        expect = self._expected(model.store, record_id, "")
        derived = []
        if self.derived is not None:
            derived = await self.derived.for_delete(self, model.store, record_id)
        await self._write(
            [revisions.delete_op(model.store, record_id, expect), *derived],
            [("delete", model.store, record_id)],
        )

    async def _commit(
        self,
        ops: list[dict],
        entries: Callable[[dict | None], list[dict]],
        encoded: Sequence[EncodedPuts] = (),
    ) -> None:
        """Write ``encoded`` (first), ``ops`` and ``entries(last audit entry)`` atomically,
        refusing the whole write when an op's ``expect`` or ``guard`` does not hold
        (``revisions.refusal``)."""
        raise NotImplementedError


class MemoryStore:
    """The data of an in-memory repository; two repositories on one store act as two tabs."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, str]] = {}
        self.meta: dict[str, str] = {}
        self.audit: list[dict] = []
        self.versions: dict[str, int] = {}  # bumped by every write to a store, by any tab


class InMemoryRepository(AuditedRepository):
    """Repository over dicts, storing JSON text exactly as IndexedDB would store documents,
    with the same revision checks, signed guard and audit chain as the IndexedDB one."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        super().__init__()
        self.db = store if store is not None else MemoryStore()
        self.fail_next_write: Exception | None = None
        self.writes = 0

    def stamp(self, stores: Iterable[str]) -> Any:
        # Another repository on the same store (another tab) writes too.
        stores = tuple(stores)
        return (super().stamp(stores), *(self.db.versions.get(s, 0) for s in stores))

    @property
    def stores(self) -> dict[str, dict[str, str]]:
        return self.db.stores

    @stores.setter
    def stores(self, value: dict[str, dict[str, str]]) -> None:
        for store in {*self.db.stores, *value}:  # replaced wholesale: every store changed
            self.db.versions[store] = self.db.versions.get(store, 0) + 1
        self.db.stores = value

    @property
    def meta(self) -> dict[str, str]:
        return self.db.meta

    @property
    def audit(self) -> list[dict]:
        return self.db.audit

    # -- reads -----------------------------------------------------------------------------------
    async def get(self, model: type[R], record_id: str) -> R | None:
        text = self.stores.get(model.store, {}).get(record_id)
        if text is None:
            return None
        record = model.model_validate_json(text)
        self._note((record,))
        return record

    async def list(self, model: type[R]) -> builtins.list[R]:
        records = [model.model_validate_json(t) for t in self.stores.get(model.store, {}).values()]
        self._note(records)
        return records

    async def find(self, model: type[R], field: str, value: str) -> builtins.list[R]:
        found = []
        for text in self.stores.get(model.store, {}).values():
            doc = json.loads(text)
            if doc.get(field) == value:
                found.append(model.model_validate(doc))
        self._note(found)
        return found

    async def project(
        self, model: type[B], store: str, where: tuple[str, str] | None = None
    ) -> builtins.list[B]:
        fields = set(model.model_fields)
        docs = (json.loads(text) for text in self.stores.get(store, {}).values())
        return [
            model.model_validate({k: v for k, v in doc.items() if k in fields})
            for doc in docs
            if where is None or doc.get(where[0]) == where[1]
        ]

    async def documents(
        self, store: str, where: tuple[str, str] | None = None
    ) -> builtins.list[dict]:
        docs = [json.loads(t) for t in self.stores.get(store, {}).values()]
        return docs if where is None else [d for d in docs if d.get(where[0]) == where[1]]

    async def export_all(self) -> dict[str, Any]:
        stores = {
            s: [json.loads(t) for t in docs.values()]
            for s, docs in self.stores.items()
            if s not in DERIVED_STORES
        }
        meta = {k: json.loads(v) for k, v in self.meta.items()}
        return {"stores": stores, "audit": copy.deepcopy(self.audit), "meta": meta}

    async def audit_log(self) -> builtins.list[dict]:
        return copy.deepcopy(self.audit)

    # -- the one atomic conditional write ------------------------------------------------------
    async def _commit(
        self,
        ops: builtins.list[dict],
        entries: Callable[[dict | None], builtins.list[dict]],
        encoded: Sequence[EncodedPuts] = (),
    ) -> None:
        if self.fail_next_write is not None:
            exc, self.fail_next_write = self.fail_next_write, None
            raise exc
        staged = copy.deepcopy(self.stores)
        meta = dict(self.meta)
        for part in encoded:
            table = staged.setdefault(part.store, {})
            for doc in part.documents():
                table[doc["id"]] = json.dumps(doc)
        for op in ops:
            store = op["store"]
            if store == "meta":
                if "delete" in op:
                    meta.pop(op["delete"], None)
                else:
                    meta[op["doc"]["key"]] = json.dumps(op["doc"]["value"])
                continue
            table = staged.setdefault(store, {})
            record_id = op["delete"] if "delete" in op else op["doc"]["id"]
            current = table.get(record_id)
            why = revisions.refusal(op, json.loads(current) if current is not None else None)
            if why == "stale":
                raise StaleWriteError(store, record_id)
            if why == "signed":
                raise SignedRecordError(store, record_id)
            if "delete" in op:
                table.pop(record_id, None)
            else:
                table[record_id] = json.dumps(op["doc"])
        new_entries = entries(self.audit[-1] if self.audit else None)
        self.db.stores = staged
        self.db.meta.clear()
        self.db.meta.update(meta)
        self.db.audit.extend(new_entries)
        for store in {op["store"] for op in ops} | {e.store for e in encoded}:
            self.db.versions[store] = self.db.versions.get(store, 0) + 1
        self.writes += 1

    # -- meta (settings, drafts): not audited, not revisioned -----------------------------------
    async def get_meta(self, key: str) -> Any:
        text = self.meta.get(key)
        return json.loads(text) if text is not None else None

    async def set_meta(self, key: str, value: Any) -> None:
        self._check_writable()
        if self.fail_next_write is not None:
            exc, self.fail_next_write = self.fail_next_write, None
            raise exc
        self.meta[key] = json.dumps(value)

    async def delete_meta(self, key: str) -> None:
        self._check_writable()
        self.meta.pop(key, None)

    async def meta_with_prefix(self, prefix: str) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.meta.items() if k.startswith(prefix)}


if TYPE_CHECKING:

    def _is_a_repository(repo: InMemoryRepository) -> Repository:
        return repo  # mypy: the in-memory repository has all of the protocol, with its types
