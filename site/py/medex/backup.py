"""Backup files and restore planning: pure functions over JSON documents.

The browser side gathers every store as plain documents, calls ``make_backup`` and offers
the text as a file; on restore it hands the file's text to ``parse_backup``, shows
``preview_restore``, writes ``snapshot_for_undo`` somewhere safe, then writes the operations
of ``plan_restore`` in one transaction. Nothing here touches storage.

File format (canonical JSON: sorted keys, no spaces, ASCII)::

    {"format": "medex-practice-backup", "format_version": 1, "app_version": "0.1.0",
     "created_at": "2025-01-31T09:00:00Z", "encrypted": false,
     "counts": {"clients": 12, ...}, "audit_count": 40,
     "checksum": "<sha256 hex>", "checksum_scope": "audit+data+meta",
     "data": {"clients": [doc, ...], ...}, "audit": [entry, ...], "meta": {...}}

``checksum`` is the SHA-256 of the canonical JSON of ``{"audit", "data", "meta"}`` (every
section but the header), so any damaged or edited byte of content is caught.

Encrypted backups (WebCrypto, done in JS) wrap that whole text in the versioned envelope of
DESIGN.md::

    {"format": "medex-practice-backup", "format_version": 1, "encrypted": true,
     "envelope": {"v": 1, "kdf": "PBKDF2-SHA256", "params": {"iterations": ...},
                  "salt": "<b64>", "iv": "<b64>", "ct": "<b64>"}}

``parse_backup`` recognises such a file and raises ``BackupError(code="encrypted")``; the JS
side decrypts ``ct`` with the passphrase and calls ``parse_backup`` on the plain text inside.

Restore rules
- Everything is validated before anything is planned: one bad record refuses the file.
- Merge (default): records are matched by id; a backup record is written when it is new or
  differs, except when this device's copy is newer (``updated_at``) — that is a conflict and
  the device's copy is kept. Records only on this device are kept.
- Replace (after explicit confirmation): the device ends up holding the backup's records;
  records only on this device are deleted — except signed ones, which are never deleted.
- In every mode, a signed record (signed session log, consent …) is never overwritten by
  different content: the conflict is reported and that write skipped.
- The audit log is append-only: the backup's chain is adopted only when this device's chain
  is empty or a start of it; a ``restore`` entry is always appended.
- Undo (``plan_undo``) is a careful merge, never a replace: only the records the restore wrote
  or deleted (``restore_changes``) are put back, and only those still exactly as the restore
  left them; anything written since, and every signed record, is kept as it is now.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import pydantic_core
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from . import audit as audit_log
from .migrations import (
    MIGRATIONS,
    SIGNATURE_FIELDS,
    Migrations,
    NewerVersionError,
    UpgradeError,
    is_signed,
)
from .records import CONTROL_FREE, stored_document_schema
from .repository import KeptText
from .revisions import STORAGE_FIELDS, content_of
from .signing import KEY_ID_PATTERN, SIGNATURE_PATTERN

FORMAT = "medex-practice-backup"
FORMAT_VERSION = 1
CHECKSUM_SCOPE = "audit+data+meta"
# Field names of the encryption envelope (DESIGN.md "Security"); filled in by the JS side.
ENVELOPE_FIELDS: tuple[str, ...] = ("v", "kdf", "params", "salt", "iv", "ct")
# No legitimate record comes near this (the largest fields are a 400 kB logo and a 200 kB
# signature drawing); a bigger one is hostile or broken.
MAX_DOC_BYTES = 10_000_000
MAX_PROBLEMS = 50
PROGRESS_EVERY = 500

Mode = Literal["merge", "replace"]


# ---------------------------------------------------------------------------------------------
# Canonical JSON and errors
# ---------------------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, ASCII only, no NaN: the same value always gives the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def checksum_of(data: Any, audit: Any, meta: Any) -> str:
    payload = canonical_json({"audit": audit, "data": data, "meta": meta})
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class RecordProblem:
    """One invalid record: where, and what is wrong in plain words."""

    store: str
    id: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.store} {self.id}" if self.id else self.store
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


class BackupError(ValueError):
    """The file cannot be restored. ``reason`` is the plain message to show; ``code`` is one
    of: empty, not-text, not-json, truncated, hostile, foreign, encrypted, newer-format,
    incomplete, unknown-store, counts, checksum, oversize, duplicate-id, newer-records,
    invalid-records, audit."""

    def __init__(
        self,
        code: str,
        reason: str,
        problems: Sequence[RecordProblem] = (),
        total_problems: int | None = None,
    ):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.problems = list(problems)
        self.total_problems = len(self.problems) if total_problems is None else total_problems


class BackupDecryptError(Exception):
    """A line of an encrypted backup did not decrypt: ``line`` 0 is the first (the passphrase
    is wrong); a later one was damaged, or moved from its place or from another file."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} does not decrypt")
        self.line = line


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    return now.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def backup_header(format_version: int, app_version: str, now: datetime | None = None) -> dict:
    """The fields every backup file opens with: beside a format-1 file's sections, and as a
    format-2 file's header line (``medex.backup_stream``)."""
    return {
        "format": FORMAT,
        "format_version": format_version,
        "app_version": app_version,
        "created_at": _iso(_now(now)),
        "encrypted": False,
    }


def check_header(doc: Any, newest: int) -> int:
    """The format version of a backup's header (a format-1 file's top level, or a format-2
    file's header line), or ``BackupError`` when it is not a plain backup this app reads."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BackupError("foreign", "This file is not a MedEx Practice backup.")
    if doc.get("encrypted") is True:
        raise BackupError("encrypted", "This backup is encrypted: enter its passphrase to open it.")
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BackupError("foreign", "This file is not a MedEx Practice backup we can read.")
    if version > newest:
        raise BackupError(
            "newer-format",
            f"This backup was made by a newer version of MedEx Practice (backup format "
            f"{version}; this app reads up to {newest}). Update the app first.",
        )
    return version


def _sorted_docs(docs: Iterable[Mapping[str, Any]]) -> list[dict]:
    return sorted((dict(d) for d in docs), key=lambda d: str(d.get("id", "")))


def make_backup(
    stores: Mapping[str, Iterable[Mapping[str, Any]]],
    audit: Iterable[Mapping[str, Any] | audit_log.AuditEntry] = (),
    meta: Mapping[str, Any] | None = None,
    app_version: str = "",
    now: datetime | None = None,
) -> str:
    """The backup file text (canonical JSON) of every store's documents, the audit log and
    the app's meta settings. Documents are written as stored (sorted by id); export never
    fails on a record the app wrote."""
    data = {store: _sorted_docs(docs) for store, docs in sorted(stores.items())}
    entries = [
        e.to_doc() if isinstance(e, audit_log.AuditEntry) else dict(e)
        for e in sorted(
            audit,
            key=lambda e: e.seq if isinstance(e, audit_log.AuditEntry) else e.get("seq", 0),
        )
    ]
    meta_doc = dict(meta or {})
    return canonical_json(
        {
            **backup_header(FORMAT_VERSION, app_version, now),
            "counts": {store: len(docs) for store, docs in data.items()},
            "audit_count": len(entries),
            "checksum": checksum_of(data, entries, meta_doc),
            "checksum_scope": CHECKSUM_SCOPE,
            "data": data,
            "audit": entries,
            "meta": meta_doc,
        }
    )


# The practice key's signature of a backup's checksum (medex.signing), in the header: outside
# the checksum's scope, and the last key in canonical order. Verified on restore: a backup
# whose content (records, audit chain, meta) was rewritten and re-hashed no longer carries a
# signature of this practice.
PRACTICE_SIGNATURE_KIND = "backup"


def header_checksum(text: str) -> str:
    """The full checksum from a backup text's header (canonical JSON: before the data)."""
    at = text.find('"checksum":"')
    return text[at + 12 : at + 12 + 64] if at >= 0 else ""


def with_practice_signature(text: str, key_id: str, signature: str) -> str:
    """The backup text of ``make_backup`` with ``practice_signature`` added to its header."""
    if not text.endswith("}") or '"practice_signature":' in text[-600:]:
        raise ValueError("Not an unsigned backup text")
    return (
        text[:-1]
        + ',"practice_signature":'
        + canonical_json({"key_id": key_id, "signature": signature})
        + "}"
    )


def _practice_signature(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    key_id, signature = value.get("key_id"), value.get("signature")
    if not (isinstance(key_id, str) and re.fullmatch(KEY_ID_PATTERN, key_id)):
        return None
    if not (isinstance(signature, str) and re.fullmatch(SIGNATURE_PATTERN, signature)):
        return None
    return {"key_id": key_id, "signature": signature}


def snapshot_for_undo(
    current: Mapping[str, Iterable[Mapping[str, Any]]],
    audit: Iterable[Mapping[str, Any]] = (),
    meta: Mapping[str, Any] | None = None,
    app_version: str = "",
    now: datetime | None = None,
) -> str:
    """The pre-restore snapshot: simply a backup of the current data (restore it with
    ``plan_undo``)."""
    meta_doc = {**(meta or {}), "snapshot": "pre-restore"}
    return make_backup(current, audit, meta_doc, app_version, now)


MAX_NESTING = 64  # a real backup nests about 10 deep
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")


def nested_too_deep(text: str, limit: int = MAX_NESTING) -> bool:
    """Whether JSON text nests deeper than ``limit``, found without parsing it.

    json.loads recurses once per level; inside Pyodide a hostile file nested 100,000 deep
    overflows the WebAssembly stack and kills the whole runtime (no RecursionError), so
    depth is checked first, with regular expressions only: drop strings, keep brackets,
    then peel innermost pairs one level per pass.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        brackets, peeled = _INNERMOST_PAIR.subn("", brackets)
        if not peeled:
            return False  # unbalanced: json.loads reports it as damaged
    return bool(brackets)


def is_encrypted(text: str | bytes) -> bool:
    """Whether a backup file is an encrypted envelope (decrypt it in JS first)."""
    try:
        if nested_too_deep(text if isinstance(text, str) else text.decode("utf-8", "replace")):
            return False
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("encrypted") is True


# ---------------------------------------------------------------------------------------------
# Parse and validate
# ---------------------------------------------------------------------------------------------


Part = bytes | KeptText  # a checked part's JSON text, or where it is kept


def release_parts(parts: dict[str, list[Part]]) -> None:
    """Let go of the checked parts' text where it is kept (nothing to do for bytes in hand)."""
    for store_parts in parts.values():
        for part in store_parts:
            if not isinstance(part, bytes):
                part.release()


def part_bytes(part: Part) -> bytes:
    """A checked part's JSON text, wherever it is kept."""
    return part if isinstance(part, bytes) else part.read()


@dataclass
class ValidatedBackup:
    """A backup that passed every check. Its records are current-version documents, kept per
    store as the JSON text of each validated part (``parts``: a JSON array a part, in file
    order, or where the device keeps that text: ``KeptText``) rather than as Python objects:
    a 100 MB backup stays near 100 MB between the check and the restore. ``iter_docs``
    decodes one part at a time; ``data`` decodes them all."""

    format_version: int
    app_version: str
    created_at: str
    counts: dict[str, int]
    checksum: str
    parts: dict[str, list[Part]]
    audit: list[dict]
    meta: dict[str, Any]
    upgraded: dict[str, int] = field(default_factory=dict)  # documents upgraded per store
    audit_message: str = ""
    # {"key_id", "signature"}: the practice key's signature of ``checksum`` (None: unsigned).
    practice_signature: dict[str, str] | None = None
    # What a preview and a restore need of each part (``PartFacts``, per store, in the order
    # of ``parts``), taken when the check decoded it: a part none of whose records this
    # device holds is then counted and written without being decoded again. Missing for a
    # store (a format-1 file): its parts are decoded when needed.
    facts: dict[str, list[PartFacts]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def stores(self) -> list[str]:
        return sorted(self.parts)

    def iter_docs(self, store: str) -> Iterator[dict]:
        """The store's documents, decoded a part at a time."""
        for part in self.parts.get(store, ()):
            yield from pydantic_core.from_json(part_bytes(part))

    @property
    def data(self) -> dict[str, list[dict]]:
        """Every store's documents, decoded afresh on each use (tests, small files)."""
        return {store: list(self.iter_docs(store)) for store in self.stores()}


@dataclass(frozen=True)
class PartFacts:
    """What is needed of a checked part (``ValidatedBackup.parts``) to count it in a preview
    and write it whole (``services.restore.whole_part``), read from the checked text itself
    (``part_facts``): each record's id, its client's id ("" for none) and whether a
    signature field is set, in order, and what ``project`` made of the records (what the
    client summaries read of each, as JSON: ``services.restore.part_projection``; or None);
    the text's SHA-256 and whether it holds ``"_`` (maybe a field of the storage's own), ""
    and True when not read from the text."""

    ids: list[str]
    client_ids: list[str]
    signed: list[bool]
    projected: list[Any] | None = None
    sha256: str = ""
    storage_field: bool = True


# A part's records (decoded documents, or the validated records its text was made from) as
# what ``PartFacts.projected`` keeps of them.
ProjectPart = Callable[[str, "list[Any]"], "list[Any] | None"]


def docs_facts(docs: Sequence[Mapping[str, Any]], projected: list[Any] | None = None) -> PartFacts:
    """The ``PartFacts`` of a part's decoded documents."""
    return PartFacts(
        ids=[str(d["id"]) for d in docs],
        client_ids=[str(d.get("client_id") or "") for d in docs],
        signed=[any(map(d.get, SIGNATURE_FIELDS)) for d in docs],  # no Python call a record
        projected=projected,
    )


def part_facts(
    store: str, text: bytes, project: ProjectPart | None = None, records: list[Any] | None = None
) -> PartFacts:
    """The facts of a checked part's JSON ``text``: read from the validated ``records`` it is
    the JSON of (``RecordChecker.take_records``) when given, else decoded once, here."""
    if records is not None:
        facts = PartFacts(
            ids=[str(r.id) for r in records],
            client_ids=[str(getattr(r, "client_id", None) or "") for r in records],
            signed=[any(getattr(r, f, None) for f in SIGNATURE_FIELDS) for r in records],
            projected=project(store, records) if project is not None else None,
        )
    else:
        docs: list[dict] = pydantic_core.from_json(text)
        facts = docs_facts(docs, project(store, docs) if project is not None else None)
    return dataclasses.replace(
        facts, sha256=hashlib.sha256(text).hexdigest(), storage_field=b'"_' in text
    )


def parts_of(docs: list[dict]) -> list[Part]:
    """Validated documents as the JSON text of one part (none for no documents)."""
    return [pydantic_core.to_json(docs)] if docs else []


@dataclass(frozen=True)
class Progress:
    stage: str  # "reading", "checking", "validating", "audit"
    done: int
    total: int


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a backup")


def _load(text: str | bytes) -> Any:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BackupError(
                "not-text", "This file is not a MedEx Practice backup (it is not a text file)."
            ) from exc
    if not isinstance(text, str):
        raise BackupError("not-text", "This file is not a MedEx Practice backup.")
    text = text.removeprefix("\ufeff")
    stripped = text.strip()
    if not stripped:
        raise BackupError("empty", "This file is empty: it is not a backup.")
    if nested_too_deep(stripped):
        raise BackupError(
            "hostile", "This file is not a MedEx Practice backup (it is nested too deeply)."
        )
    try:
        return json.loads(stripped, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise BackupError(
            "hostile", "This file is not a MedEx Practice backup (it is nested too deeply)."
        ) from exc
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, absurdly long integers
        if stripped.startswith("{") and not stripped.endswith("}"):
            raise BackupError(
                "truncated",
                "This backup is incomplete: the file was cut off (perhaps the download or "
                "copy did not finish). Nothing was restored.",
            ) from exc
        if stripped.startswith("{"):
            raise BackupError(
                "not-json", "This backup file is damaged (it is not valid JSON)."
            ) from exc
        raise BackupError(
            "not-json", "This file is not a MedEx Practice backup (it is not a JSON file)."
        ) from exc


def _integrity_checks() -> dict[str, Any]:
    """Per-store checks that a signed record still matches what was signed (a backup edited
    by hand with its checksum recomputed would pass every other check). Uses the session-log
    module's own verifiers when it is present."""
    try:
        from . import session_logs
    except ImportError:  # pragma: no cover - the module ships with the app
        return {}
    checks: dict[str, Any] = {}
    verify_log = getattr(session_logs, "verify_signature", None)
    if verify_log is not None:
        checks["session_logs"] = lambda r: (
            getattr(r, "signature", None) is None or verify_log(r),
            "This signed session log was changed after it was signed",
        )
    verify_add = getattr(session_logs, "verify_addendum", None)
    if verify_add is not None:
        checks["addenda"] = lambda r: (
            verify_add(r),
            "This addendum was changed after it was signed",
        )
    return checks


def _payload(data: dict, audit: list, meta: dict) -> str:
    """``canonical_json({"audit", "data", "meta"})`` assembled one record at a time, so each
    record's size is checked on the way (no second pass over a 100 MB file)."""
    parts = []
    for store in sorted(data):
        texts = [canonical_json(d) for d in data[store]]
        for d, text in zip(data[store], texts, strict=True):
            if len(text) > MAX_DOC_BYTES:
                raise BackupError(
                    "oversize",
                    f"This backup holds a {store} record larger than "
                    f"{MAX_DOC_BYTES // 1_000_000} MB ({d['id'][:40]}): refused as damaged or "
                    "unsafe. Nothing was restored.",
                )
        parts.append(f"{canonical_json(store)}:[{','.join(texts)}]")
    return (
        f'{{"audit":{canonical_json(audit)},"data":{{{",".join(parts)}}},'
        f'"meta":{canonical_json(meta)}}}'
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _field_of(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


class RecordChecker:
    """Upgrades one backup record to the current version and validates it through its pydantic
    model (and a signed record's own integrity check), collecting the first ``MAX_PROBLEMS``
    problems; shared by both file formats."""

    def __init__(self, registry: Migrations, today: date) -> None:
        self.registry = registry
        self.context = {"today": today}
        self.checks = _integrity_checks()
        self.problems: list[RecordProblem] = []
        self.problem_count = 0
        self.upgraded: dict[str, int] = {}  # documents upgraded per store
        self._adapters: dict[str, TypeAdapter[list[Any]] | None] = {}
        self._single: dict[str, type] = {}  # the record type of a store that holds one
        self._control_checked = False  # in _one_by_one after a part's control-character check
        # The records of the part ``check_part`` last validated together (None: one by one),
        # until ``take_records``: what the part's facts are read from.
        self._records: list[Any] | None = None

    def take_records(self) -> list[Any] | None:
        """The records ``check_part`` made of the part it just returned, whose JSON it is (None
        when it checked that part record by record); let go of here."""
        records, self._records = self._records, None
        return records

    def _problem(self, problem: RecordProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def check(self, store: str, doc: dict) -> dict | None:
        """The current-version document, or ``None`` (its problems noted)."""
        reg, record_id = self.registry, doc["id"][:80]
        try:
            current = reg.upgrade_document(store, doc)
            if current is not doc:
                self.upgraded[store] = self.upgraded.get(store, 0) + 1
            model = reg.model_for(store, current)
            stored = _stored_validator(model, many=False)
            try:
                record = stored.validate_python(content_of(current), context=self.context)
            except ValidationError as strict:
                self._control_problems(store, [doc], strict, many=False)
                record = model.model_validate(current, context=self.context)
            check = self.checks.get(store)
            if check is not None:
                intact, why = check(record)
                if not intact:
                    self._problem(RecordProblem(store, record_id, "signature", why))
            return record.model_dump(mode="json")
        except NewerVersionError as exc:
            raise BackupError("newer-records", str(exc)) from exc
        except UpgradeError as exc:
            self._problem(RecordProblem(store, record_id, "", str(exc)))
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
                self._problem(
                    RecordProblem(store, record_id, _field_of(err.get("loc", ())), message)
                )
        return None

    def check_part(self, store: str, docs: list[dict]) -> bytes:
        """A part's records upgraded and validated together: one pydantic call for the part
        (the loop runs in pydantic-core), then each signed record's own integrity check. The
        JSON text of the current-version documents (a JSON array). When any record fails, the
        part is checked again record by record, so each problem is named with its record."""
        adapter = self._adapter(store)
        if adapter is None or not docs:
            return self._one_by_one(store, docs)
        known = self.registry.current_version(store)
        try:
            current = [
                d
                if type(d.get("schema_version", 1)) is int and d.get("schema_version", 1) == known
                else self.registry.upgrade_document(store, d)
                for d in docs
            ]
        except NewerVersionError as exc:
            raise BackupError("newer-records", str(exc)) from exc
        except UpgradeError:
            return self._one_by_one(store, docs)
        # A document as this app stores it passes the stored-document validator: the record
        # type's own checks without a Python call per text field (see _stored_validator).
        stored = _stored_validator(self._single[store], many=True)
        try:
            records = stored.validate_python(
                [content_of(d) if _STORAGE_KEYS & d.keys() else d for d in current],
                context=self.context,
            )
        except ValidationError as strict:
            # Anything else (an id or a time written another way, a refusal): the record type
            # decides, record by record when it refuses; text it would change is refused.
            if self._control_problems(store, docs, strict, many=True):
                return self._one_by_one(store, docs, control_checked=True)
            try:
                records = adapter.validate_python(current, context=self.context)
            except ValidationError:
                return self._one_by_one(store, docs, control_checked=True)
        upgraded = sum(1 for now_doc, doc in zip(current, docs, strict=True) if now_doc is not doc)
        if upgraded:
            self.upgraded[store] = self.upgraded.get(store, 0) + upgraded
        check = self.checks.get(store)
        if check is not None:
            for record, doc in zip(records, docs, strict=True):
                intact, why = check(record)
                if not intact:
                    self._problem(RecordProblem(store, doc["id"][:80], "signature", why))
        self._records = records
        return adapter.dump_json(records)

    def _one_by_one(self, store: str, docs: list[dict], control_checked: bool = False) -> bytes:
        self._records = None
        self._control_checked = control_checked
        try:
            checked = [self.check(store, d) for d in docs]
        finally:
            self._control_checked = False
        return pydantic_core.to_json([d for d in checked if d is not None])

    def _control_problems(
        self, store: str, docs: list[dict], strict: ValidationError, *, many: bool
    ) -> bool:
        """Note each text of ``docs`` that holds a control character, from the stored-document
        validator's refusal ``strict``; whether there was any. The record types remove them
        from typed text, so a saved record never holds one: in a backup it means the file was
        edited or made by something else, and the record is refused rather than changed
        without a word."""
        if self._control_checked:
            return False
        found = False
        for err in strict.errors(include_url=False, include_input=False):
            if err.get("type") != "string_pattern_mismatch":
                continue
            if (err.get("ctx") or {}).get("pattern") != CONTROL_FREE:
                continue
            loc = tuple(err.get("loc", ()))
            index, where = (loc[0], loc[1:]) if many else (0, loc)
            if not isinstance(index, int) or not 0 <= index < len(docs):
                continue
            found = True
            self._problem(
                RecordProblem(
                    store,
                    str(docs[index].get("id", ""))[:80],
                    _field_of(where),
                    CONTROL_MESSAGE,
                )
            )
        return found

    def _adapter(self, store: str) -> TypeAdapter[list[Any]] | None:
        """The list validator of a store that holds one record type (a store shared by
        several types, such as the settings, picks the type record by record)."""
        if store not in self._adapters:
            models = self.registry.models().get(store, [])
            self._adapters[store] = _list_adapter(models[0]) if len(models) == 1 else None
            if len(models) == 1:
                self._single[store] = models[0]
        return self._adapters[store]


CONTROL_MESSAGE = (
    "This text holds an invisible control character that MedEx Practice never saves: the "
    "file was edited or damaged after it was made"
)
_STORAGE_KEYS = frozenset(STORAGE_FIELDS)
_STORED_VALIDATORS: dict[tuple[type, bool], SchemaValidator] = {}


def _stored_validator(model: type, *, many: bool) -> SchemaValidator:
    """The record type's validator for documents as stored (``list[model]`` when ``many``):
    ``records.stored_document_schema`` of its core schema, built once. It accepts exactly
    the documents the record type would keep unchanged (up to the storage fields, which the
    caller takes off), and makes the same records of them, with no Python call for text,
    ids or timestamps; a document it refuses goes to the record type itself."""
    key = (model, many)
    if key not in _STORED_VALIDATORS:
        adapter: TypeAdapter[Any] = _list_adapter(model) if many else TypeAdapter(model)
        adapter.rebuild()  # a record type builds its schema on first use (defer_build)
        schema = stored_document_schema(adapter.core_schema)
        # pydantic-core reuses the validator a complete model class already has for its
        # schema node (the record type's own one): built as incomplete, it uses this schema.
        classes = set(_model_classes(schema))
        complete = {cls: cls.__dict__.get("__pydantic_complete__") for cls in classes}
        try:
            for cls in classes:
                type.__setattr__(cls, "__pydantic_complete__", False)
            _STORED_VALIDATORS[key] = SchemaValidator(schema)
        finally:
            for cls, was in complete.items():
                if was is None:
                    type.__delattr__(cls, "__pydantic_complete__")
                else:
                    type.__setattr__(cls, "__pydantic_complete__", was)
    return _STORED_VALIDATORS[key]


def _model_classes(schema: Any) -> Iterator[type]:
    """The model classes a core schema builds."""
    if isinstance(schema, list):
        for item in schema:
            yield from _model_classes(item)
    elif isinstance(schema, dict):
        if schema.get("type") in ("model", "dataclass") and isinstance(schema.get("cls"), type):
            yield schema["cls"]
        for value in schema.values():
            if isinstance(value, dict | list):
                yield from _model_classes(value)


_LIST_ADAPTERS: dict[type, TypeAdapter[list[Any]]] = {}


def _list_adapter(model: type) -> TypeAdapter[list[Any]]:
    """``TypeAdapter(list[model])``, built once per record type (building one is slow)."""
    if model not in _LIST_ADAPTERS:
        _LIST_ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _LIST_ADAPTERS[model]


def iter_parse_backup(
    text: str | bytes,
    *,
    now: datetime | None = None,
    registry: Migrations | None = None,
) -> Generator[Progress, None, ValidatedBackup]:
    """``parse_backup`` as a generator yielding ``Progress`` every few hundred records, so the
    app can let the browser paint a progress bar between steps. The ``ValidatedBackup`` is the
    generator's return value (``StopIteration.value``)."""
    reg = registry or MIGRATIONS
    today = _now(now).date()
    yield Progress("reading", 0, 1)
    doc = _load(text)

    version = check_header(doc, FORMAT_VERSION)

    for key, kind in (
        ("data", dict),
        ("audit", list),
        ("meta", dict),
        ("counts", dict),
        ("checksum", str),
    ):
        if not isinstance(doc.get(key), kind):
            raise BackupError(
                "incomplete",
                f"This backup is incomplete or damaged: its {key} section is missing.",
            )
    data: dict = doc["data"]
    audit: list = doc["audit"]
    meta: dict = doc["meta"]
    counts: dict = doc["counts"]

    # Shape: {store: [ {id: str, ...}, ... ]}
    for store, docs in data.items():
        if not isinstance(docs, list) or not all(
            isinstance(d, dict) and isinstance(d.get("id"), str) for d in docs
        ):
            raise BackupError(
                "incomplete", f"This backup is damaged: its {store!r} records are malformed."
            )
    unknown = sorted(s for s, docs in data.items() if docs and not reg.is_known_store(s))
    if unknown:
        raise BackupError(
            "unknown-store",
            "This backup holds record types this app does not know "
            f"({', '.join(unknown)}): it was probably made by a newer version of MedEx "
            "Practice. Update the app first.",
        )

    # Counts, then checksum.
    for store in sorted(set(data) | set(counts)):
        expected = counts.get(store, 0)
        found = len(data.get(store, []))
        if expected != found:
            raise BackupError(
                "counts",
                f"This backup is damaged: it says it holds {expected} {store} records but "
                f"contains {found}. Nothing was restored.",
            )
    if doc.get("audit_count", len(audit)) != len(audit):
        raise BackupError(
            "counts",
            f"This backup is damaged: it says it holds {doc.get('audit_count')} audit "
            f"entries but contains {len(audit)}. Nothing was restored.",
        )
    try:
        payload = _payload(data, audit, meta)
    except BackupError:
        raise
    except (ValueError, TypeError) as exc:
        raise BackupError("not-json", "This backup file is damaged.") from exc
    if hashlib.sha256(payload.encode("ascii")).hexdigest() != doc["checksum"]:
        raise BackupError(
            "checksum",
            "This backup's checksum does not match its contents: the file was damaged or "
            "edited after it was made. Nothing was restored.",
        )
    yield Progress("checking", 1, 1)

    for store, docs in data.items():
        seen: set[str] = set()
        for d in docs:
            if d["id"] in seen:
                raise BackupError(
                    "duplicate-id",
                    f"This backup is damaged: two {store} records share the id {d['id'][:40]}.",
                )
            seen.add(d["id"])

    # Every record: upgrade to the current version, then through its pydantic model.
    total = sum(len(docs) for docs in data.values())
    done = 0
    out: dict[str, list[dict]] = {}
    checker = RecordChecker(reg, today)
    for store in sorted(data):
        docs = data[store]
        if not docs:
            if reg.is_known_store(store):
                out[store] = []
            continue
        result: list[dict] = []
        for d in docs:
            checked = checker.check(store, d)
            if checked is not None:
                result.append(checked)
            done += 1
            if done % PROGRESS_EVERY == 0:
                yield Progress("validating", done, total)
        out[store] = result
    if checker.problems:
        raise BackupError(
            "invalid-records",
            f"{_plural(checker.problem_count, 'problem')} found in this backup's records: "
            "nothing was restored.",
            checker.problems,
            checker.problem_count,
        )
    yield Progress("validating", total, total)

    ok, _bad_seq, message = audit_log.verify_chain(audit)
    if not ok:
        raise BackupError(
            "audit",
            f"This backup's audit log does not verify: {message} The file was edited or "
            "damaged. Nothing was restored.",
        )
    yield Progress("audit", 1, 1)

    return ValidatedBackup(
        format_version=version,
        app_version=str(doc.get("app_version", ""))[:40],
        created_at=str(doc.get("created_at", ""))[:40],
        counts={s: len(d) for s, d in out.items()},
        checksum=doc["checksum"],
        parts={s: parts_of(d) for s, d in out.items()},
        audit=[dict(e) for e in audit],
        meta=meta,
        upgraded=checker.upgraded,
        audit_message=message,
        practice_signature=_practice_signature(doc.get("practice_signature")),
    )


def parse_backup(
    text: str | bytes,
    *,
    now: datetime | None = None,
    registry: Migrations | None = None,
) -> ValidatedBackup:
    """Validate a whole backup file before anything is written; raise ``BackupError`` (with a
    plain ``reason``, and the first ``MAX_PROBLEMS`` record problems) if any check fails."""
    steps = iter_parse_backup(text, now=now, registry=registry)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


# ---------------------------------------------------------------------------------------------
# Preview and plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    store: str
    id: str
    kind: Literal["signed", "newer_here"]
    reason: str


@dataclass
class StorePreview:
    store: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    only_here: int = 0  # kept by a merge, deleted by a replace (unless signed)
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass
class RestorePreview:
    mode: Mode
    stores: dict[str, StorePreview]

    @property
    def conflicts(self) -> list[Conflict]:
        return [c for p in self.stores.values() for c in p.conflicts]

    def total(self, what: str) -> int:
        return sum(getattr(p, what) for p in self.stores.values())


@dataclass
class RestorePlan:
    mode: Mode
    preview: RestorePreview
    puts: list[tuple[str, dict]]  # (store, doc)
    deletes: list[tuple[str, str]]  # (store, id)
    kept_signed: list[tuple[str, str]]  # signed records only here, never deleted
    audit: list[dict]  # entries to append (the backup's missing ones, then "restore")
    audit_note: str = ""

    @property
    def skipped(self) -> list[Conflict]:
        return self.preview.conflicts

    def operations(self) -> list[dict]:
        """The writes in the shape ``store.js`` ``write()`` takes, for one transaction."""
        ops: list[dict] = [{"store": s, "doc": d} for s, d in self.puts]
        ops += [{"store": s, "delete": i} for s, i in self.deletes]
        ops += [{"store": "audit", "doc": e} for e in self.audit]
        return ops


def _same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal apart from ``updated_at`` (re-saving a signed record unchanged is allowed) and the
    storage's revision and signed marker."""
    skip = {"updated_at", *STORAGE_FIELDS}
    return {k: v for k, v in a.items() if k not in skip} == {
        k: v for k, v in b.items() if k not in skip
    }


def _equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """The same record content (the storage's revision and signed marker aside: a backup made
    before revisions existed holds the same records without them)."""
    return content_of(a) == content_of(b)


def _when(doc: Mapping[str, Any]) -> datetime | None:
    value = doc.get("updated_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _newer(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    """Whether this device's copy was updated after the backup's copy."""
    a, b = _when(mine), _when(theirs)
    return a is not None and b is not None and a > b


def _signed_reason(store: str) -> str:
    return (
        f"This signed {store.replace('_', ' ').rstrip('s')} differs from the one in the "
        "backup; signed records are never overwritten, so it was left as it is."
    )


# A restore's taker of whole parts: (store, part index, its documents, or None when the part
# has facts and was not decoded) → whether it took it.
NewPart = Callable[[str, int, list[dict] | None], bool]


def _docs_to_compare(
    backup: ValidatedBackup,
    store: str,
    here: Mapping[str, Any],
    incoming_ids: set[str],
    preview: StorePreview,
    new_part: NewPart | None,
    count_fresh: bool = False,
) -> Iterator[dict]:
    """The store's documents to compare one by one with this device's, a part at a time. With
    ``new_part``, a part none of whose records this device holds (nor an earlier part) is
    offered whole to ``new_part(store, index, docs)``: if it takes it (True), its records
    are counted as new and not compared. ``count_fresh`` (a preview, which keeps no
    documents): such a part is counted as new from its facts alone. A part with facts
    (``ValidatedBackup.facts``) is decoded only when its records are compared."""
    known = backup.facts.get(store)
    for index, part in enumerate(backup.parts.get(store, ())):
        facts = known[index] if known is not None and index < len(known) else None
        docs: list[dict] | None = (
            None if facts is not None else pydantic_core.from_json(part_bytes(part))
        )
        if new_part is not None or (count_fresh and facts is not None):
            ids = facts.ids if facts is not None else [d["id"] for d in docs or ()]
            unique = set(ids)
            fresh = len(unique) == len(ids) and not any(
                i in here or i in incoming_ids for i in unique
            )
            if fresh and (new_part is None or new_part(store, index, docs)):
                incoming_ids.update(unique)
                preview.new += len(ids)
                continue
        yield from docs if docs is not None else pydantic_core.from_json(part_bytes(part))


def _diff(
    current: Mapping[str, Iterable[Mapping[str, Any]]],
    backup: ValidatedBackup,
    mode: Mode,
    registry: Migrations,
    keep_signed_missing: bool = True,
    keep_puts: bool = True,
    new_part: NewPart | None = None,
) -> tuple[RestorePreview, list[tuple[str, dict]], list[tuple[str, str]], list[tuple[str, str]]]:
    """What restoring ``backup`` over ``current`` would do; ``keep_puts=False`` (a preview):
    the documents to write are counted, not kept, so each decoded part is let go in turn;
    ``new_part``: see ``_docs_to_compare`` (its documents are not in the puts)."""
    if mode not in ("merge", "replace"):
        raise ValueError("mode must be 'merge' or 'replace'")
    stores: dict[str, StorePreview] = {}
    puts: list[tuple[str, dict]] = []
    deletes: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    here_by_store = {s: {d["id"]: d for d in docs} for s, docs in current.items()}
    for store in sorted(set(backup.parts) | set(here_by_store)):
        preview = StorePreview(store)
        here = here_by_store.get(store, {})
        incoming_ids: set[str] = set()
        compare = _docs_to_compare(
            backup, store, here, incoming_ids, preview, new_part, count_fresh=not keep_puts
        )
        for doc in compare:
            incoming_ids.add(doc["id"])
            mine = here.get(doc["id"])
            if mine is None:
                preview.new += 1
                if keep_puts:
                    puts.append((store, doc))
                continue
            if _equal(mine, doc):
                preview.unchanged += 1
                continue
            if is_signed(store, mine, registry):
                if _same_content(mine, doc):  # a re-save of the same signed record
                    preview.unchanged += 1
                    continue
                preview.conflicts.append(
                    Conflict(store, doc["id"], "signed", _signed_reason(store))
                )
                continue
            if mode == "merge" and not is_signed(store, doc, registry) and _newer(mine, doc):
                preview.conflicts.append(
                    Conflict(
                        store,
                        doc["id"],
                        "newer_here",
                        "This device's copy was changed after the backup was made, so it was "
                        "kept (use Replace to take the backup's copy).",
                    )
                )
                continue
            preview.changed += 1
            if keep_puts:
                puts.append((store, doc))
        for record_id, mine in here.items():
            if record_id in incoming_ids:
                continue
            preview.only_here += 1
            if mode == "replace":
                if keep_signed_missing and is_signed(store, mine, registry):
                    kept.append((store, record_id))
                else:
                    deletes.append((store, record_id))
        stores[store] = preview
    return RestorePreview(mode, stores), puts, deletes, kept


def preview_restore(
    current: Mapping[str, Iterable[Mapping[str, Any]]],
    backup: ValidatedBackup,
    mode: Mode = "merge",
    *,
    registry: Migrations | None = None,
) -> RestorePreview:
    """Per store: how many records are new, changed, unchanged and only on this device, and
    the conflicts (signed records that differ; in a merge, records newer on this device)."""
    return _diff(current, backup, mode, registry or MIGRATIONS, keep_puts=False)[0]


def _audit_plan(
    current_audit: Sequence[Mapping[str, Any]],
    backup_audit: Sequence[Mapping[str, Any]],
    restore_fields: Mapping[str, Any],
) -> tuple[list[dict], str]:
    current_audit = [dict(e) for e in current_audit]
    if audit_log.is_prefix(current_audit, backup_audit):
        imported = [dict(e) for e in backup_audit[len(current_audit) :]]
        note = (
            f"{_plural(len(imported), 'audit entry')} from the backup added."
            if imported
            else "The audit log already holds the backup's entries."
        )
    elif audit_log.is_prefix(backup_audit, current_audit):
        imported, note = [], "The audit log already holds the backup's entries."
    else:
        imported = []
        note = (
            "The backup's audit log comes from another history; this device's log is kept "
            "and the backup file keeps its own."
        )
    chain = current_audit + imported
    entry = audit_log.append(chain, restore_fields)
    return [*imported, entry.to_doc()], note


def plan_restore(
    current: Mapping[str, Iterable[Mapping[str, Any]]],
    backup: ValidatedBackup,
    mode: Mode = "merge",
    *,
    current_audit: Sequence[Mapping[str, Any]] = (),
    actor: str = "practitioner",
    now: datetime | None = None,
    registry: Migrations | None = None,
    _action: str = "restore",
    _keep_signed_missing: bool = True,
    new_part: NewPart | None = None,
) -> RestorePlan:
    """The writes that restore ``backup`` over ``current`` (``{store: [doc]}``): puts, deletes
    (replace only), and the audit entries to append, all for ONE transaction. ``new_part``:
    each part of the backup none of whose records this device holds goes to
    ``new_part(store, part index, its documents)`` instead of into the puts (the caller
    writes it as a whole: ``services.restore``)."""
    reg = registry or MIGRATIONS
    preview, puts, deletes, kept = _diff(
        current, backup, mode, reg, _keep_signed_missing, new_part=new_part
    )
    entries, note = _audit_plan(
        current_audit,
        backup.audit,
        {
            "actor": actor,
            "action": _action,
            "record_type": "backup",
            "record_id": backup.checksum[:32],
            "at": _now(now),
        },
    )
    return RestorePlan(mode, preview, puts, deletes, kept, entries, note)


def _content(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored document without the storage layer's own ``_`` fields (``_rev``, ``_signed``):
    what the record says, whatever revision the store gave it."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if not str(k).startswith("_")}


def doc_fingerprint(doc: Mapping[str, Any] | None) -> str | None:
    """A short hash of a document's content (``None`` for no document): equal fingerprints, same
    record content, whatever revision the store gave it."""
    content = _content(doc)
    if content is None:
        return None
    return hashlib.sha256(canonical_json(content).encode("ascii")).hexdigest()[:32]


RestoreChanges = dict[str, dict[str, str | None]]


def restore_changes(plan: RestorePlan) -> RestoreChanges:
    """What a restore writes: ``{store: {id: fingerprint of the document it writes, or None
    for a delete}}``. Kept beside the pre-restore snapshot, it tells an undo which records are
    still exactly as the restore left them (see ``plan_undo``)."""
    changes: RestoreChanges = {}
    for store, doc in plan.puts:
        changes.setdefault(store, {})[doc["id"]] = doc_fingerprint(doc)
    for store, record_id in plan.deletes:
        changes.setdefault(store, {})[record_id] = None
    return changes


def _as_restored(doc: Mapping[str, Any] | None, written: str | None) -> bool:
    """Whether ``doc`` (None: none) is still what a restore wrote: ``written`` is the
    fingerprint of the content it wrote, None for a delete, or, for a record it wrote as part of
    a whole part of the backup (``services.restore.whole_part``), its revision
    (``<generation>-<hash>``; a fingerprint has no "-"), which any later write changes."""
    if written is not None and "-" in written:
        return doc is not None and doc.get("_rev") == written
    return doc_fingerprint(doc) == written


def _signed_doc(store: str, doc: Mapping[str, Any] | None, registry: Migrations) -> bool:
    if doc is None:
        return False
    return bool(doc.get("_signed")) or is_signed(store, _content(doc) or {}, registry)


Ref = tuple[str, str]  # (store, record id)


@dataclass
class UndoPlan:
    """What undoing a restore does, for ONE transaction, and what it leaves alone.

    Only records the restore wrote or deleted are looked at, and each is put back only when it
    is still exactly as the restore left it: everything written since is kept."""

    puts: list[tuple[str, dict]]  # (store, the pre-restore document)
    deletes: list[Ref]  # records the restore added
    audit: list[dict]  # the "undo-restore" entry
    put_back: list[Ref]  # changed or deleted by the restore: back as they were before it
    removed: list[Ref]  # added by the restore: removed
    kept_changed: list[Ref]  # written (or deleted) after the restore: kept as they are now
    kept_signed: list[Ref]  # signed: an undo never deletes or changes a signed record
    # The revision each write or delete found (``_rev``; "" for none): for a conditional write.
    expected: dict[Ref, str] = field(default_factory=dict)

    @property
    def nothing_to_do(self) -> bool:
        return not self.puts and not self.deletes

    def counts(self) -> dict[str, int]:
        return {
            "put_back": len(self.put_back),
            "removed": len(self.removed),
            "kept_changed": len(self.kept_changed),
            "kept_signed": len(self.kept_signed),
        }

    def digest(self) -> str:
        """One hash of everything this plan would do and keep: a plan made again over the same
        records has the same digest (so a confirmation can check nothing moved since)."""
        return hashlib.sha256(
            canonical_json(
                {
                    "puts": [[s, doc_fingerprint(d)] for s, d in self.puts],
                    "deletes": self.deletes,
                    "kept": [self.kept_changed, self.kept_signed],
                    "expected": sorted([s, i, r] for (s, i), r in self.expected.items()),
                }
            ).encode("ascii")
        ).hexdigest()

    def record_ops(self) -> list[dict]:
        """The record writes, each conditional: it states the revision it found (``expect``)
        and refuses a signed record (``guard``), so the transaction that writes them refuses the
        whole undo if any of these records changed since this plan was made."""
        ops: list[dict] = [
            {"store": s, "doc": d, "expect": self.expected[(s, d["id"])], "guard": True}
            for s, d in self.puts
        ]
        ops += [
            {"store": s, "delete": i, "expect": self.expected[(s, i)], "guard": True}
            for s, i in self.deletes
        ]
        return ops

    def operations(self) -> list[dict]:
        """The writes in the shape ``store.js`` ``write()`` takes, for one transaction."""
        return self.record_ops() + [{"store": "audit", "doc": e} for e in self.audit]


def _written_since(current_audit: Sequence[Mapping[str, Any]], since_seq: int | None) -> set[Ref]:
    """Records named by audit entries after the restore's own entry (seq ``since_seq``; when
    unknown, after the last ``restore`` entry, or the whole log if there is none)."""
    if since_seq is None:
        since_seq = 0
        for entry in current_audit:
            if entry.get("action") == "restore":
                since_seq = max(since_seq, int(entry.get("seq", 0)))
    return {
        (str(e.get("record_type", "")), str(e.get("record_id", "")))
        for e in current_audit
        if int(e.get("seq", 0)) > since_seq
    }


def plan_undo(
    current: Mapping[str, Iterable[Mapping[str, Any]]],
    snapshot: ValidatedBackup,
    *,
    changes: Mapping[str, Mapping[str, str | None]] | None = None,
    since_seq: int | None = None,
    current_audit: Sequence[Mapping[str, Any]] = (),
    actor: str = "practitioner",
    now: datetime | None = None,
    registry: Migrations | None = None,
) -> UndoPlan:
    """Undo a restore as a careful merge: put back what the restore changed, keep everything
    written since.

    ``snapshot`` is the parsed ``snapshot_for_undo`` text taken just before the restore;
    ``changes`` is ``restore_changes`` of that restore and ``since_seq`` the seq of its audit
    entry. Only the records the restore wrote or deleted are looked at; each goes back to its
    pre-restore version (or is removed, if the restore added it) only when it is still exactly
    as the restore left it: same content as the restore wrote (``changes``) and named by no
    audit entry after the restore. Anything else was written since and is kept as it is now,
    and a signed record is never deleted or changed. Without ``changes`` (a restore made before
    they were kept), every record that differs from the snapshot is a candidate and the audit
    log alone tells which were written since.
    """
    reg = registry or MIGRATIONS
    here = {s: {d["id"]: d for d in docs} for s, docs in current.items()}
    before = {s: {d["id"]: d for d in snapshot.iter_docs(s)} for s in snapshot.stores()}
    if changes is None:
        touched: dict[str, dict[str, str | None]] = {}
        for store in set(here) | set(before):
            mine, theirs = here.get(store, {}), before.get(store, {})
            for record_id in set(mine) | set(theirs):
                if _content(mine.get(record_id)) != _content(theirs.get(record_id)):
                    touched.setdefault(store, {})[record_id] = doc_fingerprint(mine.get(record_id))
    else:
        touched = {s: dict(ids) for s, ids in changes.items()}
    since = _written_since(current_audit, since_seq)
    plan = UndoPlan([], [], [], [], [], [], [])
    for store in sorted(touched):
        for record_id in sorted(touched[store]):
            now_doc = here.get(store, {}).get(record_id)
            old_doc = before.get(store, {}).get(record_id)
            ref = (store, record_id)
            if _content(now_doc) == _content(old_doc):
                continue  # already as it was before the restore
            if ref in since or not _as_restored(now_doc, touched[store][record_id]):
                plan.kept_changed.append(ref)
                continue
            if _signed_doc(store, now_doc, reg):
                plan.kept_signed.append(ref)
                continue
            plan.expected[ref] = str((now_doc or {}).get("_rev") or "")
            if old_doc is None:
                plan.deletes.append(ref)
                plan.removed.append(ref)
            else:
                plan.puts.append((store, dict(old_doc)))
                plan.put_back.append(ref)
    plan.audit = [
        audit_log.append(
            list(current_audit),
            {
                "actor": actor,
                "action": "undo-restore",
                "record_type": "backup",
                "record_id": snapshot.checksum[:32],
                "at": _now(now),
            },
        ).to_doc()
    ]
    return plan
