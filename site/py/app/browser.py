"""The browser side of the shell: IndexedDB repository, device platform, DOM patching."""

from __future__ import annotations

import builtins
import contextlib
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import js
from pydantic import TypeAdapter
from pyodide.ffi import JsException, create_proxy, jsnull, to_js
from pyscript.js_modules import idiomorph, medex_store

from medex import storage as storage_rules
from medex.repository import (
    AuditedRepository,
    B,
    ConcurrentWriteError,
    EncodedPuts,
    EncryptionChangedError,
    R,
    SignedRecordError,
    StaleWriteError,
    StorageFullError,
)
from medex.signing import KeyVerdict, SigningKeyError
from medex.stores import DERIVED_STORES

LOGO_MAX_PX = 600
PHOTO_MAX_PX = 800  # an exercise photo, printed about 1.5 in wide
PHOTO_QUALITY = 0.82


# The facade calls that write: any of their failures that means full or failing storage
# (QuotaExceededError, an AbortError around a quota/IO cause, UnknownError, DatabaseClosedError)
# turns the app read-only. A read that fails is only that (QuotaExceededError aside).
WRITE_CALLS = frozenset({"write", "setMeta"})
# Called (no arguments) after every write the facade accepted: the shell's storage watcher.
on_write: Callable[[], None] | None = None


def _is_quota_error(exc: BaseException, writing: bool = True) -> bool:
    """The device refused to store (full or failing storage), as medex.storage decides from
    the error names js/store.js passes on (its own and the causes Dexie wrapped)."""
    text = str(exc)
    if "QuotaExceededError" in f"{getattr(exc, 'name', '')} {text}":
        return True
    if not writing:
        return False
    name = str(getattr(exc, "name", "") or "")
    return storage_rules.is_storage_failure(storage_rules.error_causes(name, text), text)


@functools.cache
def stored_types() -> dict[str, Any]:
    from medex.stores import by_store

    return by_store()


def _patched(records: list, model: type, ops: list[dict]) -> list:
    """``records`` (in id order) with ``ops`` applied: puts validated as ``model``, deletes
    removed. Raises ValueError when a document does not validate."""
    by_id = {r.id: r for r in records}
    puts = [op["doc"] for op in ops if "delete" not in op]
    try:
        fresh = _list_adapter(model).validate_json(json.dumps(puts)) if puts else []
    except Exception as exc:  # a pydantic ValidationError: read the store again
        raise ValueError(str(exc)) from exc
    for op in ops:
        if "delete" in op:
            by_id.pop(op["delete"], None)
    for record in fresh:
        by_id[record.id] = record
    return [by_id[i] for i in sorted(by_id)]


@functools.cache
def _list_adapter(model: type[R]) -> TypeAdapter[list[R]]:
    # One pydantic-core call parses and validates a whole store's JSON text (no per-record
    # json.loads + model_validate round trips in Python).
    return TypeAdapter(list[model])  # type: ignore[valid-type]  # a type made at run time


AUDIT_MOVED = "MEDEX_AUDIT_MOVED"
LOCKED = "MEDEX_LOCKED"
STALE = "MEDEX_STALE"  # MEDEX_STALE <store> <id>: the record is no longer at the expected revision
SIGNED = "MEDEX_SIGNED"  # MEDEX_SIGNED <store> <id>: the stored record is signed and locked
CRYPTO_CHANGED = "MEDEX_CRYPTO_CHANGED"  # encryption changed in another tab
AUDIT_RETRIES = 3
STAGE_OPS = 1000  # a write of more ops than this is handed to js/storage.js in parts
WRITE_THROUGH_MAX = 500  # more records of one store in one write: drop its cache instead


class KeptPart:
    """A checked backup part's text kept in the page's memory (js/storage.js ``keepPart``),
    which is given back once let go, instead of in Python's, which never shrinks: a 100 MB
    backup is not held twice between the check and the restore. The page lets go of it when
    this object goes (``__del__``: the pending restore dropped, done or refused)."""

    __slots__ = ("number",)

    def __init__(self, text: bytes) -> None:
        self.number = int(medex_store.keepPart(text.decode("utf-8")))

    def read(self) -> bytes:
        return str(medex_store.keptPart(self.number)).encode("utf-8")

    def release(self) -> None:
        medex_store.dropKept(self.number)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # the page is going away: nothing to let go
            self.release()


class LockedError(Exception):
    """The records are encrypted and the app is locked: unlock with the passphrase first."""


class IndexedDbRepository(AuditedRepository):
    """The Repository protocol over the Dexie facade in js/store.js (one call = one transaction).

    Revisions, the signed guard and audit entries come from ``AuditedRepository``; the facade's
    ``write`` checks every op's expected revision and "not signed" and that the audit chain's
    last entry is the one the entries were chained from, all inside the one IndexedDB
    transaction that writes. When another tab appended an audit entry meanwhile, the entries
    are chained again from the new last entry and the write tried again: the revision checks
    travel with it, so a retry can never replay a write over a record changed in between.
    """

    def __init__(self) -> None:
        super().__init__()
        self.on_storage_full: Callable[[], None] | None = None
        self._last_audit: dict | None = None
        self._last_loaded = False
        # Whole stores already read and validated in this tab (list() / project()), kept up to
        # date with this tab's own writes (``_written_through``), dropped when another tab
        # writes to the store, and all at once on lock. ``_models``: the model of each entry;
        # ``_generation``: bumped by every write to a store, so a whole-store read that was
        # under way while a write committed is not cached (it may predate the write).
        self._cache: dict[tuple[str, str], list] = {}
        self._models: dict[tuple[str, str], type] = {}
        self._generation: dict[str, int] = {}
        medex_store.onOtherTabWrites(create_proxy(self._other_tab_wrote))

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, model: type[R], record_id: str) -> R | None:
        text = await _call(medex_store.get, model.store, record_id)
        if text is None:
            return None
        record = model.model_validate_json(text)
        self._note((record,))
        return record

    async def list(self, model: type[R]) -> list[R]:
        key = (model.store, model.__name__)
        records = self._cache.get(key)
        if records is None:
            generation = self._generation.get(model.store, 0)
            text = await _utf8(medex_store.getAllUtf8, model.store)
            records = _list_adapter(model).validate_json(text)
            self._keep(key, model, records, generation)
        self._note(records)
        return list(records)

    async def project(
        self, model: type[B], store: str, where: tuple[str, str] | None = None
    ) -> builtins.list[B]:
        """Every record of ``store`` (or those whose indexed field equals a value: ``where``,
        not cached), reduced to the fields of ``model`` (a small summary model such as
        SessionLogSummary): far less to parse than whole records."""
        fields = json.dumps(list(model.model_fields))
        if where is not None:
            text = await _utf8(medex_store.whereUtf8, store, where[0], where[1], fields)
            return _list_adapter(model).validate_json(text)
        key = (store, model.__name__)
        summaries = self._cache.get(key)
        if summaries is None:
            generation = self._generation.get(store, 0)
            text = await _utf8(medex_store.projectUtf8, store, fields)
            summaries = _list_adapter(model).validate_json(text)
            self._keep(key, model, summaries, generation)
        return list(summaries)

    def _keep(
        self, key: tuple[str, str], model: type, records: builtins.list, generation: int
    ) -> None:
        if self._generation.get(key[0], 0) == generation:
            self._cache[key] = records
            self._models[key] = model

    def _written_through(self, ops: builtins.list[dict]) -> None:
        """Bring the cached stores up to date with ops this tab has just committed, instead of
        reading the whole store again at the next screen (50,000 session logs take seconds to
        read; one log, a millisecond to validate). Records come back in key order, as a
        fresh read gives them. A store holding several record types, or a document that
        does not validate as the cached model, drops the store's cache as before."""
        by_store: dict[str, builtins.list[dict]] = {}
        for op in ops:
            if op["store"] not in ("meta", "audit"):
                by_store.setdefault(op["store"], []).append(op)
        for store, store_ops in by_store.items():
            self._generation[store] = self._generation.get(store, 0) + 1
            single = len(getattr(stored_types().get(store), "models", ())) == 1
            for key in [k for k in self._cache if k[0] == store]:
                try:
                    if not single or len(store_ops) > WRITE_THROUGH_MAX:
                        raise ValueError(store)  # a restore: read the store again when needed
                    self._cache[key] = _patched(self._cache[key], self._models[key], store_ops)
                except (ValueError, KeyError):
                    del self._cache[key]

    def forget(self, stores=None) -> None:
        """Drop cached records (of ``stores``, or all: on lock, nothing stays in memory)."""
        if stores is None:
            self._cache.clear()
            self._last_loaded = False  # the audit chain too (another practice may be open now)
            super().forget()
            return
        for store in stores:
            self._generation[store] = self._generation.get(store, 0) + 1
        super().forget(stores)  # what was prepared from these stores (``memos``) is stale too
        for key in [k for k in self._cache if k[0] in stores]:
            del self._cache[key]

    def _other_tab_wrote(self, stores_json: str) -> None:
        self.forget(set(json.loads(stores_json)) | {"*"})

    async def find(self, model: type[R], field: str, value: str) -> builtins.list[R]:
        records = _list_adapter(model).validate_json(
            await _utf8(medex_store.whereUtf8, model.store, field, value)
        )
        self._note(records)
        return records

    async def documents(
        self, store: str, where: tuple[str, str] | None = None
    ) -> builtins.list[dict]:
        """A store's raw documents (for exports that work on JSON; ``where``: by an index)."""
        if where is not None:
            return json.loads(await _utf8(medex_store.whereUtf8, store, where[0], where[1]))
        return json.loads(await _utf8(medex_store.getAllUtf8, store))

    async def export_all(self) -> dict[str, Any]:
        """Every store, the audit log and meta, decrypted, from one read transaction:
        ``{"stores": {store: [doc]}, "audit": [entry], "meta": {key: value}}``."""
        dump = json.loads(await _call(medex_store.exportAll))
        for store in DERIVED_STORES:  # computed from the others: never in a backup
            dump["stores"].pop(store, None)
        return dump

    async def audit_log(self) -> builtins.list[dict]:
        return json.loads(await medex_store.getAudit())

    # -- writes --------------------------------------------------------------------------------
    async def last_audit(self, refresh: bool = False) -> dict | None:
        if refresh or not self._last_loaded:
            text = await medex_store.lastAudit()
            self._last_audit = json.loads(text) if text is not None else None
            self._last_loaded = True
        return self._last_audit

    async def _commit(
        self,
        ops: builtins.list[dict],
        entries: Callable[[dict | None], builtins.list[dict]],
        encoded: Sequence[EncodedPuts] = (),
    ) -> None:
        started = js.performance.now()
        stores = {op["store"] for op in ops} | {e.store for e in encoded}
        # A big write (a restore) is handed over in parts, never as one huge JSON text; it is
        # still written in one transaction (js/storage.js writeStaged). Encoded puts go as the
        # text they came in, with their revisions (nothing decoded or encoded again here).
        stage = 0
        for part in encoded:
            revisions_json = json.dumps(list(part.revisions))
            signed_json = json.dumps(list(part.signed))
            if isinstance(part.text, KeptPart):  # the page has the text: staged from there
                stage = int(
                    medex_store.stageKept(
                        stage, part.store, part.text.number, revisions_json, signed_json
                    )
                )
                continue
            text = part.text if isinstance(part.text, bytes) else part.text.read()
            stage = int(
                medex_store.stageEncoded(
                    stage, part.store, text.decode("utf-8"), revisions_json, signed_json
                )
            )
        if stage or len(ops) > STAGE_OPS:
            for i in range(0, len(ops), STAGE_OPS):
                stage = int(medex_store.stageOps(stage, json.dumps(ops[i : i + STAGE_OPS])))
        ops_text = "" if stage else json.dumps(ops)
        try:
            await self._commit_attempts(ops, ops_text, stage, entries, stores, started)
        finally:
            if stage:
                medex_store.dropStaged(stage)
        if encoded:  # too many to patch into this tab's cached stores: read again when needed
            self.forget({e.store for e in encoded})

    async def _commit_attempts(
        self,
        ops: builtins.list[dict],
        ops_text: str,
        stage: int,
        entries: Callable[[dict | None], builtins.list[dict]],
        stores: set[str],
        started: float,
    ) -> None:
        for attempt in range(AUDIT_RETRIES):
            last = await self.last_audit(refresh=attempt > 0)
            chained = entries(last)
            audit_arg = json.dumps({"expect": last["seq"] if last else 0, "entries": chained})
            try:
                if stage:
                    await _call(medex_store.writeStaged, stage, audit_arg)
                else:
                    await _call(medex_store.write, ops_text, audit_arg)
            except StorageFullError:
                self._storage_full()
                raise
            except JsException as exc:
                text = str(exc)
                if AUDIT_MOVED in text:
                    continue  # another tab appended: chain again from its last entry
                for marker, error in ((STALE, StaleWriteError), (SIGNED, SignedRecordError)):
                    if marker in text:
                        store, record_id = _marked(text, marker)
                        self.forget({store})
                        raise error(store, record_id) from exc
                if CRYPTO_CHANGED in text:
                    self.forget()
                    raise EncryptionChangedError(
                        "Encryption was changed in another tab, so nothing was saved here. "
                        "This tab has reloaded it; what you typed is kept."
                    ) from exc
                raise
            if chained:
                self._last_audit = chained[-1]
            self._written_through(ops)
            # The write alone (records + audit entries, one IndexedDB transaction), for
            # benchmarks/.
            timings = getattr(js.window, "medexTimings", None)
            if timings is not None:
                what = "+".join(sorted(stores))
                timings.push(to_js([f"save:{what}", js.performance.now() - started]))
            return
        self._last_loaded = False
        raise ConcurrentWriteError(
            "Another open tab of MedEx Practice kept saving at the same moment, so this save "
            "was not written. Close the other tab and try again; nothing you typed was lost."
        )

    async def get_meta(self, key: str) -> Any:
        text = await _call(medex_store.getMeta, key)
        return json.loads(text) if text is not None else None

    async def set_meta(self, key: str, value: Any) -> None:
        if self.read_only:
            raise StorageFullError("This device's storage is full: the app is read-only.")
        try:
            await _call(medex_store.setMeta, key, json.dumps(value))
        except StorageFullError:
            self._storage_full()
            raise

    async def delete_meta(self, key: str) -> None:
        await self.set_meta(key, None)

    async def meta_with_prefix(self, prefix: str) -> dict[str, Any]:
        """Every meta value whose key starts with ``prefix`` (each form's draft is its own key,
        so two tabs saving drafts never overwrite each other's)."""
        return json.loads(await _call(medex_store.metaWithPrefix, prefix))

    def _storage_full(self) -> None:
        """QuotaExceededError: nothing more is written until a reload (nothing is lost: the
        refused write left the database as it was, and the form keeps what was typed)."""
        self.read_only = True
        if self.on_storage_full is not None:
            self.on_storage_full()


def _marked(text: str, marker: str) -> tuple[str, str]:
    """``(store, id)`` from a facade error ``"<marker> <store> <id>"``."""
    words = text[text.index(marker) + len(marker) :].split()
    return (words[0] if words else ""), (words[1].rstrip(".:,") if len(words) > 1 else "")


async def _utf8(fn, *args) -> bytes:
    """A facade read that hands its JSON over as UTF-8 bytes (``getAllUtf8``, ...): copied
    into Python at once, where a text of the same length is converted character by character."""
    return (await _call(fn, *args)).to_bytes()


async def _call(fn, *args):
    """A facade call, with its JS errors turned into the domain's (locked, storage full)."""
    started = js.performance.now()
    try:
        result = await fn(*args)
        timings = getattr(js.window, "medexTimings", None)
        if timings is not None:  # for benchmarks/: where time goes at scale
            what = f"idb:{getattr(fn, 'name', '?')}:{args[0] if args else ''}"
            timings.push(to_js([what[:60], js.performance.now() - started]))
        if on_write is not None and str(getattr(fn, "name", "")) in WRITE_CALLS:
            on_write()
        return result
    except JsException as exc:
        if LOCKED in str(exc):
            raise LockedError("MedEx Practice is locked.") from exc
        if _is_quota_error(exc, writing=str(getattr(fn, "name", "")) in WRITE_CALLS):
            raise StorageFullError(str(exc)) from exc
        raise


def _backup_error(exc: JsException) -> Exception:
    """js/backupfile.js's refusals as the domain's errors."""
    from medex.backup import BackupDecryptError, BackupError  # a backup screen's, not start-up's

    text = str(exc)
    if "MEDEX_DECRYPT" in text:
        words = text[text.index("MEDEX_DECRYPT") :].split()
        return BackupDecryptError(int(words[1]) if len(words) > 1 and words[1].isdigit() else 0)
    if "MEDEX_LINE_TOO_LONG" in text:
        return BackupError(
            "oversize",
            "This backup holds a part larger than any backup of MedEx Practice writes: refused "
            "as damaged or unsafe. Nothing was restored.",
        )
    return exc


class BrowserPlatform:
    async def storage_info(self) -> dict[str, Any]:
        """``{persisted, usage, quota, supported}`` from the browser, plus ``left`` (bytes the
        app may still store, or None) and ``warning`` (the low-storage message, or "")."""
        info = json.loads(await medex_store.storageInfo())
        usage, quota = info.get("usage"), info.get("quota")
        info["left"] = storage_rules.storage_left(usage, quota)
        info["warning"] = storage_rules.low_storage_warning(usage, quota)
        return info

    async def request_persistent_storage(self) -> bool | None:
        try:
            answer = await medex_store.requestPersist()
        except JsException:
            return False
        # null: the browser is asking the person; "medex:storage-answer" brings the answer.
        return None if answer is None or answer is jsnull else bool(answer)

    # -- files ---------------------------------------------------------------------------------
    def download(self, filename: str, text: str, mime: str) -> None:
        medex_store.download(filename, text, mime)

    async def encrypt_backup(self, text: str, passphrase: str) -> str:
        return str(await medex_store.encryptBackup(text, passphrase))

    async def decrypt_backup(self, text: str, passphrase: str) -> str | None:
        plain = await medex_store.decryptBackup(text, passphrase)
        return None if plain is None else str(plain)

    # -- backup files of format 2 (js/backupfile.js), a part at a time -------------------------
    async def backup_export(
        self,
        header: str,
        passphrase: str,
        source: Any,
        skip: dict[str, list[str]],
        max_records: int,
        max_chars: int,
        progress: Callable[[int, int, int], None],
    ) -> dict[str, Any]:
        report = create_proxy(
            lambda done, total, audit: progress(int(done), int(total), int(audit))
        )
        try:
            return json.loads(
                await _call(
                    medex_store.backupExport,
                    header,
                    passphrase,
                    json.dumps(skip),
                    max_records,
                    max_chars,
                    report,
                )
            )
        finally:
            report.destroy()

    async def backup_line(self, writer: int, line: str) -> str:
        return str(await medex_store.backupLine(writer, line))

    def backup_finish(self, writer: int, filename: str) -> int:
        return int(medex_store.backupFinish(writer, filename))

    def backup_abort(self, writer: int) -> None:
        medex_store.backupAbort(writer)

    async def file_head(self, source: Any, chars: int) -> str:
        if isinstance(source, str):
            return source[:chars]
        return str(await medex_store.fileHead(source, chars))

    async def file_text(self, source: Any) -> str:
        if isinstance(source, str):
            return source
        return str(await medex_store.fileText(source))

    async def open_lines(self, source: Any, passphrase: str) -> int:
        try:
            return int(await medex_store.openLines(source, passphrase))
        except JsException as exc:
            raise _backup_error(exc) from exc

    async def next_line(self, reader: int) -> str | None:
        try:
            line = await medex_store.nextLine(reader)
        except JsException as exc:
            raise _backup_error(exc) from exc
        return None if line is None else str(line)

    def read_progress(self, reader: int) -> tuple[int, int]:
        done = json.loads(medex_store.readProgress(reader))
        return int(done["read"]), int(done["size"])

    def release_file(self, source: Any) -> None:
        if not isinstance(source, str):
            medex_store.releaseFile(source)

    def keep_part(self, text: bytes) -> KeptPart:
        return KeptPart(text)

    # -- encryption at rest --------------------------------------------------------------------
    def crypto_status(self) -> dict[str, Any]:
        return json.loads(medex_store.cryptoStatus())

    async def setup_encryption(self, passphrase: str) -> str:
        return str(await medex_store.setupEncryption(passphrase))

    async def start_decryption(self) -> None:
        await medex_store.startDecryption()

    def migration_stores(self) -> list[str]:
        return json.loads(medex_store.migrationStores())

    async def migrate_store(self, store: str) -> int:
        return int(await medex_store.migrateStore(store))

    async def finish_migration(self) -> str:
        return str(await medex_store.finishMigration())

    async def unlock(self, secret: str) -> bool:
        return bool(await medex_store.unlock(secret))

    async def change_passphrase(self, old: str, new: str) -> bool:
        return bool(await medex_store.changePassphrase(old, new))

    def lock(self) -> bool:
        return bool(medex_store.lock())

    def set_idle_lock(self, minutes: int) -> None:
        medex_store.setIdleLock(minutes)

    def print_page(self) -> None:
        js.window.print()

    # -- which practice is open (js/store.js openPractice) -------------------------------------
    async def open_practice(self, demo: bool) -> None:
        await _call(medex_store.openPractice, demo)

    # -- practice signing key (js/signing.js; what is signed and concluded: medex.signing) -----
    async def sign_message(self, message: str) -> dict[str, Any]:
        from pyscript.js_modules import medex_signing

        try:
            return json.loads(await medex_signing.signMessage(message))
        except JsException as exc:
            if LOCKED in str(exc):
                raise LockedError("MedEx Practice is locked.") from exc
            raise SigningKeyError(
                f"The practice signing key could not be used ({exc}). Nothing was signed."
            ) from exc

    async def verify_signatures(self, items: Sequence[dict[str, str]]) -> list[KeyVerdict]:
        from pyscript.js_modules import medex_signing

        return json.loads(await medex_signing.verifySignatures(json.dumps(list(items))))

    async def reseal_signing_key(self) -> bool:
        from pyscript.js_modules import medex_signing

        return bool(await medex_signing.resealKey())


# What a re-render leaves as the person left it: a folding part marked ``data-keep-open``
# (the server's ``open`` only sets how it first appears), and a field typed in after
# ``since`` (``typed``, ms on performance.now()) — e.g. while a slow save or a wrong
# passphrase was being answered — so a repaint never wipes what was typed in the meantime.
# The morph sets a part's attributes in their written order, so two written before ``open``
# let the server's ``open`` through: ``data-attention`` (a stop or an error inside opens the
# part) and a changed ``data-keep-open="<record id>"`` (the same part of another record).
# Any other folding part the person opened stays open: a re-render may open one (an error
# inside), never fold it under the person's hands (a form being filled in).
_KEEP_AS_LEFT = js.Function.new(
    "since",
    "const another = new WeakSet();"
    "return (attr, el, kind) => {"
    " if (attr === 'data-keep-open') another.add(el);"
    " if (attr === 'open' && el.hasAttribute && el.hasAttribute('data-keep-open'))"
    "  return another.has(el) || (kind === 'update' && el.hasAttribute('data-attention'));"
    " if (attr === 'open' && kind === 'remove' && el.tagName === 'DETAILS') return false;"
    " return !(attr === 'value' && el.medexTypedAt !== undefined && el.medexTypedAt > since);"
    "};",
)


def typed(element) -> None:
    """Note when a field was last typed in (see ``patch``)."""
    js.Reflect.set(element, "medexTypedAt", js.performance.now())


def patch(root, html: str, since: float | None = None) -> None:
    """Morph the new HTML into the page so focus, caret, scroll, folded parts and anything
    typed after ``since`` (the start of the action or paint) survive a re-render."""
    keep = _KEEP_AS_LEFT(js.performance.now() if since is None else since)
    options = {"morphStyle": "innerHTML", "callbacks": {"beforeAttributeUpdated": keep}}
    idiomorph.Idiomorph.morph(root, html, to_js(options, dict_converter=js.Object.fromEntries))


def form_values(form) -> dict[str, Any]:
    """Named fields of a form as plain Python values (files are handled separately)."""
    data: dict[str, Any] = {}
    for element in form.elements:
        name = element.name
        if not name or element.disabled:
            continue
        kind = str(element.type)
        if kind == "file":
            continue
        if kind == "checkbox":
            if element.checked:
                data[name] = element.value if element.value not in ("", "on") else True
        elif kind == "radio":
            if element.checked:
                data[name] = element.value
        elif kind in ("submit", "button", "reset"):
            continue
        else:
            data[name] = str(element.value)
    return data


async def picked_texts(form) -> dict[str, Any]:
    """Text files chosen in the form's ``input[type=file][data-text]`` fields as
    ``{"<name>_text": text, "<name>_filename": name}``; for ``[data-stream]`` fields (a backup
    to restore) ``{"<name>_handle": id, "<name>_filename": name}`` (read with
    ``BrowserPlatform.file_head`` / ``open_lines``)."""
    found: dict[str, Any] = {}
    # A big file (a backup) is read in parts by the action: only a handle is passed on.
    for field in form.querySelectorAll("input[type=file][data-stream]"):
        if field.files.length:
            file = field.files.item(0)
            found[f"{field.name}_handle"] = int(medex_store.holdFile(file))
            found[f"{field.name}_filename"] = str(file.name)
    for field in form.querySelectorAll("input[type=file][data-text]"):
        if field.files.length == 0:
            continue
        name = str(field.name)
        file = field.files.item(0)
        try:
            found[f"{name}_text"] = str(await medex_store.readText(file))
            found[f"{name}_filename"] = str(file.name)
        except JsException:
            found[f"{name}_error"] = "This file could not be read."
    return found


async def picked_images(form) -> dict[str, str]:
    """Images chosen in the form's ``input[type=file][data-image]`` fields, scaled down, as
    ``{"<name>_data_url": "data:image/png;base64,…"}`` (a JPEG for ``data-image="photo"``,
    a photo of an exercise); an unreadable file gives
    ``{"<name>_error": message}`` for the action to show next to its field."""
    found: dict[str, str] = {}
    for field in form.querySelectorAll("input[type=file][data-image]"):
        if field.files.length == 0:
            continue
        name = str(field.name)
        try:
            if str(field.dataset.image) == "photo":  # a photo of an exercise: JPEG
                url = await medex_store.imageToDataUrl(
                    field.files.item(0), PHOTO_MAX_PX, "image/jpeg", PHOTO_QUALITY
                )
                # Read once: the form keeps the photo (a hidden field) until it is saved, so
                # the next submit does not store it again.
                field.value = ""
            else:
                url = await medex_store.imageToDataUrl(field.files.item(0), LOGO_MAX_PX)
            found[f"{name}_data_url"] = str(url)
        except JsException:
            found[f"{name}_error"] = "This image could not be read. Choose a PNG or JPEG file."
    return found
