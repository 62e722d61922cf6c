"""The chunked backup file (format 2): written and checked a part at a time, never as one text.

A format-1 file (``medex.backup``) is one JSON document: exporting 50,000 session logs built a
100 MB string, and checking one parsed it whole. Format 2 is newline-delimited JSON, one part a
line, so the browser writes it page by page (js/files.js, straight from IndexedDB into a file)
and this module checks it line by line, with progress between lines::

    {"app_version":"0.2.0","created_at":"…","encrypted":false,"format":"medex-practice-backup","format_version":2}
    {"records":[{…},{…}],"store":"clients"}        a part: up to CHUNK_RECORDS records of one
    {"records":[…],"store":"session_logs"}          store, or CHUNK_CHARS characters
    {"audit":[{…},…]}                               audit entries, in order
    {"meta":{…}}                                    the settings (exactly one such line)
    {"audit_count":2000,"checksum":"…","chunk_sha256":["…",…],"counts":{…},"end":true,…}

The last line (the trailer) lists the SHA-256 of every part line, in order, and ``checksum``:
the SHA-256 of the header line's SHA-256 and the parts' SHA-256 joined by newlines. So a changed
part is named ("part 7 of 52"), parts swapped, dropped or repeated are caught, and a file cut
off anywhere lacks its trailer. The practice key signs ``checksum`` (``practice_signature`` in
the trailer, outside the checksum), as it signs a format-1 file's checksum.

Encrypted (a passphrase at export): the first line is the envelope, in clear::

    {"encrypted":true,"envelope":{"kdf":"PBKDF2-SHA256","params":{…},"salt":"<b64>","v":2},
     "format":"medex-practice-backup","format_version":2}

and every following line is ``{"ct":"<b64>","iv":"<b64>"}``: one AES-GCM encryption of the plain
file's line with the same number (the header is line 0), with additional authenticated data
``medex-practice-backup/2/<salt>/<line number>``. A line moved to another place, or taken from
another file, does not decrypt; the decrypted lines then go through the same checks as a plain
file. Decryption is the browser's (WebCrypto, js/files.js); this module sees plain lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pydantic_core

from . import audit as audit_log
from .backup import (
    FORMAT,
    MAX_DOC_BYTES,
    MAX_PROBLEMS,
    BackupError,
    Part,
    PartFacts,
    ProjectPart,
    RecordChecker,
    ValidatedBackup,
    _now,
    _plural,
    _practice_signature,
    backup_header,
    canonical_json,
    check_header,
    part_facts,
)
from .migrations import MIGRATIONS, Migrations

CHUNKED_FORMAT_VERSION = 2
# A part holds at most this many records, or this many characters (a record bigger than that
# is a part of its own; no record may exceed MAX_DOC_BYTES).
CHUNK_RECORDS = 1000
CHUNK_CHARS = 2_000_000
MAX_LINE_CHARS = MAX_DOC_BYTES + CHUNK_CHARS + 1000
HEAD_CHARS = 65_536  # enough for any header line
BACKUP_AAD = "medex-practice-backup"

TRUNCATED = (
    "This backup is incomplete: the file was cut off (perhaps the download or copy did not "
    "finish). Nothing was restored."
)


def line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def chunked_checksum(header_hash: str, chunk_hashes: Iterable[str]) -> str:
    """The file's checksum: what the practice key signs and the audit log names."""
    return hashlib.sha256("\n".join([header_hash, *chunk_hashes]).encode("ascii")).hexdigest()


def header_line(app_version: str, now: datetime | None = None) -> str:
    return canonical_json(backup_header(CHUNKED_FORMAT_VERSION, app_version, now))


def records_line(store: str, docs: Iterable[Mapping[str, Any]]) -> str:
    return canonical_json({"store": store, "records": [dict(d) for d in docs]})


def audit_line(entries: Iterable[Mapping[str, Any]]) -> str:
    return canonical_json({"audit": [dict(e) for e in entries]})


def meta_line(meta: Mapping[str, Any]) -> str:
    return canonical_json({"meta": dict(meta)})


def trailer_line(
    header_hash: str,
    chunk_hashes: list[str],
    counts: Mapping[str, int],
    audit_count: int,
    practice_signature: Mapping[str, str] | None = None,
) -> str:
    trailer: dict[str, Any] = {
        "end": True,
        "chunks": len(chunk_hashes),
        "chunk_sha256": list(chunk_hashes),
        "counts": dict(sorted(counts.items())),
        "audit_count": audit_count,
        "checksum": chunked_checksum(header_hash, chunk_hashes),
    }
    if practice_signature:
        trailer["practice_signature"] = dict(practice_signature)
    return canonical_json(trailer)


def chunks_of(docs: list[dict[str, Any]], size: int = CHUNK_RECORDS) -> list[list[dict]]:
    return [docs[i : i + size] for i in range(0, len(docs), size)] if docs else []


def make_chunked_backup(
    stores: Mapping[str, Iterable[Mapping[str, Any]]],
    audit: Iterable[Mapping[str, Any]] = (),
    meta: Mapping[str, Any] | None = None,
    app_version: str = "",
    now: datetime | None = None,
    chunk_records: int = CHUNK_RECORDS,
) -> str:
    """A whole format-2 file as text (the browser writes the same lines page by page; this is
    for tests, tools and small files)."""
    header = header_line(app_version, now)
    lines: list[str] = []
    counts: dict[str, int] = {}
    for store, docs in sorted(stores.items()):
        ordered = sorted((dict(d) for d in docs), key=lambda d: str(d.get("id", "")))
        counts[store] = len(ordered)
        lines += [records_line(store, part) for part in chunks_of(ordered, chunk_records)]
    entries = [dict(e) for e in audit]
    lines += [audit_line(part) for part in chunks_of(entries, chunk_records)]
    lines.append(meta_line(meta or {}))
    trailer = trailer_line(line_hash(header), [line_hash(x) for x in lines], counts, len(entries))
    return "\n".join([header, *lines, trailer]) + "\n"


def with_trailer_signature(trailer: str, key_id: str, signature: str) -> str:
    """A trailer line with the practice key's signature of its checksum added."""
    doc = json.loads(trailer)
    doc["practice_signature"] = {"key_id": key_id, "signature": signature}
    return canonical_json(doc)


def _json(line: str) -> Any:
    try:
        return pydantic_core.from_json(line, allow_inf_nan=False)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            raise BackupError(
                "hostile", "This file is not a MedEx Practice backup (it is nested too deeply)."
            ) from exc
        raise BackupError(
            "not-json", "This backup file is damaged (it is not valid JSON)."
        ) from exc


def header_version(head: str) -> int | None:
    """The format version when ``head`` (the start of a file) is a chunked backup's header or
    envelope line, else ``None`` (a format-1 file, or not a backup at all)."""
    first = head.removeprefix("\ufeff").split("\n", 1)[0].strip()
    if not first.startswith("{") or len(first) > HEAD_CHARS:
        return None
    try:
        doc = pydantic_core.from_json(first, allow_inf_nan=False)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        return None
    return version if version >= CHUNKED_FORMAT_VERSION else None


def envelope_of(head: str) -> dict[str, Any] | None:
    """The encryption envelope of an encrypted chunked file's first line, else ``None``."""
    first = head.removeprefix("\ufeff").split("\n", 1)[0].strip()
    try:
        doc = pydantic_core.from_json(first, allow_inf_nan=False)
    except ValueError:
        return None
    if isinstance(doc, dict) and doc.get("encrypted") is True:
        envelope = doc.get("envelope")
        return envelope if isinstance(envelope, dict) else {}
    return None


class ChunkedParser:
    """Checks a format-2 file one line at a time: ``feed`` each line (in order, without its
    newline), then ``finish`` for the ``ValidatedBackup``. Every record is upgraded and
    validated through its pydantic model as its part arrives; integrity (every part's SHA-256,
    their order and number, the checksum, the counts, the audit chain) is decided at the end.
    Any failure raises ``BackupError``; nothing here writes. Each checked part's facts
    (``backup.part_facts``, with ``project``'s projection of its records) are taken as it
    is checked, so a preview and a restore need not decode it again; ``keep(text)`` says
    where its text is kept until then (the browser: outside Python's memory, which never
    shrinks)."""

    def __init__(
        self,
        *,
        now: datetime | None = None,
        registry: Migrations | None = None,
        project: ProjectPart | None = None,
        keep: Callable[[bytes], Part] | None = None,
    ):
        self.registry = registry or MIGRATIONS
        self.project = project
        self.keep = keep
        self.facts: dict[str, list[PartFacts]] = {}
        self.checker = RecordChecker(self.registry, _now(now).date())
        self.header: dict[str, Any] | None = None
        self.header_hash = ""
        self.hashes: list[str] = []
        self.trailer: dict[str, Any] | None = None
        self.parts: dict[str, list[Part]] = {}  # validated parts (JSON text) by store
        self.seen: dict[str, set[str]] = {}
        self.audit: list[dict] = []
        self.meta: dict[str, Any] | None = None
        self.records = 0  # checked so far
        # A line that is not JSON: the file was cut off if it is the last one, else damaged.
        self.unreadable: BackupError | None = None
        self.expected = 0  # records in the file, when the header or progress knows it

    def feed(self, line: str) -> None:
        line = line.rstrip("\r")
        if self.trailer is not None:
            if line.strip():
                raise BackupError(
                    "not-json",
                    "This backup file is damaged: it goes on after its last part. Nothing was "
                    "restored.",
                )
            return
        if self.unreadable is not None:
            raise self.unreadable  # a damaged line in the middle (at the end: cut off)
        if len(line) > MAX_LINE_CHARS:
            raise BackupError(
                "oversize",
                "This backup holds a part larger than any backup of MedEx Practice writes: "
                "refused as damaged or unsafe. Nothing was restored.",
            )
        if self.header is None:
            self._header(line.removeprefix("\ufeff"))
            return
        try:
            doc = _json(line)
        except BackupError as exc:
            if exc.code != "not-json":
                raise
            self.unreadable = exc
            return
        if not isinstance(doc, dict):
            raise BackupError("not-json", "This backup file is damaged (a part is not valid).")
        if doc.get("end") is True:
            self.trailer = doc
            return
        self.hashes.append(line_hash(line))
        if "records" in doc:
            self._records(doc, len(line))
        elif "audit" in doc:
            entries = doc["audit"]
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise BackupError(
                    "incomplete", "This backup is damaged: its audit log is malformed."
                )
            self.audit += entries
        elif "meta" in doc and isinstance(doc["meta"], dict) and self.meta is None:
            self.meta = doc["meta"]
        else:
            raise BackupError(
                "not-json", f"This backup file is damaged: part {len(self.hashes)} is not valid."
            )

    def _header(self, line: str) -> None:
        doc = _json(line) if line.strip() else None
        if check_header(doc, CHUNKED_FORMAT_VERSION) != CHUNKED_FORMAT_VERSION:
            raise BackupError("foreign", "This file is not a MedEx Practice backup we can read.")
        self.header = doc
        self.header_hash = line_hash(line)

    def _records(self, doc: dict, size: int) -> None:
        store, docs = doc.get("store"), doc.get("records")
        if not isinstance(store, str) or not isinstance(docs, list):
            raise BackupError(
                "incomplete", f"This backup is damaged: part {len(self.hashes)} is malformed."
            )
        if not all(isinstance(d, dict) and isinstance(d.get("id"), str) for d in docs):
            raise BackupError(
                "incomplete", f"This backup is damaged: its {store!r} records are malformed."
            )
        if docs and not self.registry.is_known_store(store):
            raise BackupError(
                "unknown-store",
                f"This backup holds record types this app does not know ({store}): it was "
                "probably made by a newer version of MedEx Practice. Update the app first.",
            )
        seen = self.seen.setdefault(store, set())
        for d in docs:
            if d["id"] in seen:
                raise BackupError(
                    "duplicate-id",
                    f"This backup is damaged: two {store} records share the id {d['id'][:40]}.",
                )
            seen.add(d["id"])
            if size > MAX_DOC_BYTES and len(canonical_json(d)) > MAX_DOC_BYTES:
                raise BackupError(
                    "oversize",
                    f"This backup holds a {store} record larger than "
                    f"{MAX_DOC_BYTES // 1_000_000} MB ({d['id'][:40]}): refused as damaged or "
                    "unsafe. Nothing was restored.",
                )
        if docs:
            text = self.checker.check_part(store, docs)
            records = self.checker.take_records()  # the facts read from them: no decode
            facts = part_facts(store, text, self.project, records)
            del records
            self.facts.setdefault(store, []).append(facts)
            self.parts.setdefault(store, []).append(self.keep(text) if self.keep else text)
        self.records += len(docs)

    def finish(self) -> ValidatedBackup:
        if self.header is None:
            raise BackupError("empty", "This file is empty: it is not a backup.")
        trailer = self.trailer
        if trailer is None:
            raise BackupError("truncated", TRUNCATED)  # also when the last line was cut
        listed = trailer.get("chunk_sha256")
        if not isinstance(listed, list) or trailer.get("chunks") != len(listed):
            raise BackupError("incomplete", "This backup is damaged: its list of parts is missing.")
        for number, (found_hash, listed_hash) in enumerate(
            zip(self.hashes, listed, strict=False), 1
        ):
            if found_hash != listed_hash:
                raise BackupError(
                    "checksum",
                    f"This backup's checksum does not match its contents (part {number} of "
                    f"{len(listed)}): the file was damaged or edited after it was made, or its "
                    "parts were moved. Nothing was restored.",
                )
        if len(self.hashes) != len(listed):
            raise BackupError(
                "truncated" if len(self.hashes) < len(listed) else "checksum",
                TRUNCATED
                if len(self.hashes) < len(listed)
                else "This backup's checksum does not match its contents: it holds parts that "
                "were added after it was made. Nothing was restored.",
            )
        checksum = chunked_checksum(self.header_hash, self.hashes)
        if trailer.get("checksum") != checksum:
            raise BackupError(
                "checksum",
                "This backup's checksum does not match its contents: the file was damaged or "
                "edited after it was made. Nothing was restored.",
            )
        if self.meta is None:
            raise BackupError(
                "incomplete", "This backup is incomplete or damaged: its meta section is missing."
            )
        counts = trailer.get("counts")
        if not isinstance(counts, dict):
            raise BackupError("incomplete", "This backup is damaged: its counts are missing.")
        for store in sorted(set(self.seen) | set(counts)):
            expected, found = counts.get(store, 0), len(self.seen.get(store, ()))
            if expected != found:
                raise BackupError(
                    "counts",
                    f"This backup is damaged: it says it holds {expected} {store} records but "
                    f"contains {found}. Nothing was restored.",
                )
        if trailer.get("audit_count") != len(self.audit):
            raise BackupError(
                "counts",
                f"This backup is damaged: it says it holds {trailer.get('audit_count')} audit "
                f"entries but contains {len(self.audit)}. Nothing was restored.",
            )
        problems = self.checker.problems
        if problems:
            raise BackupError(
                "invalid-records",
                f"{_plural(self.checker.problem_count, 'problem')} found in this backup's "
                "records: nothing was restored.",
                problems[:MAX_PROBLEMS],
                self.checker.problem_count,
            )
        ok, _bad_seq, message = audit_log.verify_chain(self.audit)
        if not ok:
            raise BackupError(
                "audit",
                f"This backup's audit log does not verify: {message} The file was edited or "
                "damaged. Nothing was restored.",
            )
        for store in counts:
            if self.registry.is_known_store(store):
                self.parts.setdefault(store, [])
        return ValidatedBackup(
            format_version=CHUNKED_FORMAT_VERSION,
            app_version=str(self.header.get("app_version", ""))[:40],
            created_at=str(self.header.get("created_at", ""))[:40],
            counts={s: len(self.seen.get(s, ())) for s in self.parts},
            checksum=checksum,
            parts=self.parts,
            audit=self.audit,
            meta=self.meta,
            upgraded=dict(self.checker.upgraded),
            audit_message=message,
            practice_signature=_practice_signature(trailer.get("practice_signature")),
            facts=self.facts,
        )


def parse_chunked(
    text: str, *, now: datetime | None = None, registry: Migrations | None = None
) -> ValidatedBackup:
    """A whole format-2 text checked (the app feeds the lines as it reads the file)."""
    parser = ChunkedParser(now=now, registry=registry)
    for line in text.split("\n"):
        if line or parser.header is None:
            parser.feed(line)
    return parser.finish()


def sections(text: str) -> dict[str, Any]:
    """A format-2 text's lines as ``{"header", "data": {store: [doc]}, "audit", "meta",
    "trailer"}``, unchecked (for tests and tools that look inside a file)."""
    lines = [json.loads(x) for x in text.split("\n") if x.strip()]
    out: dict[str, Any] = {"header": lines[0], "data": {}, "audit": [], "meta": {}, "trailer": {}}
    for doc in lines[1:]:
        if doc.get("end") is True:
            out["trailer"] = doc
        elif "records" in doc:
            out["data"].setdefault(doc["store"], []).extend(doc["records"])
        elif "audit" in doc:
            out["audit"] += doc["audit"]
        elif "meta" in doc:
            out["meta"] = doc["meta"]
    return out


def parse_any(
    text: str, *, now: datetime | None = None, registry: Migrations | None = None
) -> ValidatedBackup:
    """A backup of either format, as text (the undo snapshot, tests)."""
    from .backup import parse_backup

    if header_version(text[:HEAD_CHARS]) is not None:
        return parse_chunked(text, now=now, registry=registry)
    return parse_backup(text, now=now, registry=registry)
