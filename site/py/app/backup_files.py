"""Writing and reading backup files a part at a time, with progress (the Data screen's export
and restore check). What the lines are and how they are checked: ``medex.backup_stream``; the
device reads the records and the picked file (``Platform.backup_*``, ``open_lines``).

The export is one call to the device, which reports progress back every quarter second; the
check awaits the device once per part and paints progress in between. Either way the page stays
usable: the person may go to another screen and keep working while a backup is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medex import APP_VERSION
from medex.backup import (
    PRACTICE_SIGNATURE_KIND,
    BackupDecryptError,
    BackupError,
    ValidatedBackup,
    is_encrypted,
    iter_parse_backup,
    release_parts,
)
from medex.backup_stream import (
    CHUNK_CHARS,
    CHUNK_RECORDS,
    HEAD_CHARS,
    ChunkedParser,
    envelope_of,
    header_line,
    header_version,
    line_hash,
    trailer_line,
    with_trailer_signature,
)
from medex.services.data import DRAFT_PREFIX, NOT_BACKED_UP, backup_filename, progress_label
from medex.services.restore import part_projection
from medex.signing import SigningKeyError, signing_message
from medex.stores import DERIVED_STORES

from .core import App

WRONG_PASSPHRASE = "This passphrase does not open this backup. Nothing was changed."
NEEDS_PASSPHRASE = "This backup is encrypted: enter the passphrase it was made with."


@dataclass
class Exported:
    filename: str
    records: int
    checksum: str
    size: int


def _records_label(done: int, total: int) -> str:
    return f"Exporting… {done:,} of {total:,} records"


async def export_backup_file(app: App, passphrase: str, now: datetime) -> Exported:
    """Write every store, the audit log and the settings into a format-2 file (the device does
    it in one call and reports progress now and then), then its trailer, and hand it to the
    person."""
    header = header_line(APP_VERSION, now)
    await app.show_progress(_records_label(0, 0), 0, 0)

    def progress(done: int, total: int, audit: int) -> None:
        label = (
            f"Exporting the audit log… {audit:,} entries" if audit else _records_label(done, total)
        )
        _paint_progress(app, label, done, total)

    skip = {
        # computed from the other records: never in a backup
        "stores": sorted(DERIVED_STORES),
        "keys": sorted(NOT_BACKED_UP),
        "prefixes": [DRAFT_PREFIX],
    }
    written = await app.platform.backup_export(
        header, passphrase, app.repo, skip, CHUNK_RECORDS, CHUNK_CHARS, progress
    )
    writer = int(written["id"])
    try:
        counts = {str(s): int(n) for s, n in dict(written["counts"]).items()}
        audit_count = int(written["audit_count"])
        trailer = trailer_line(line_hash(header), list(written["hashes"]), counts, audit_count)
        checksum = json.loads(trailer)["checksum"]
        try:
            made = await app.platform.sign_message(
                signing_message(PRACTICE_SIGNATURE_KIND, checksum)
            )
            trailer = with_trailer_signature(trailer, made["key_id"], made["signature"])
        except SigningKeyError:
            pass  # a key that cannot be used does not stop the backup: it goes unsigned
        await app.platform.backup_line(writer, trailer)
        filename = backup_filename(now, bool(passphrase))
        size = app.platform.backup_finish(writer, filename)
    except BaseException:
        app.platform.backup_abort(writer)
        raise
    return Exported(filename, sum(counts.values()), checksum, size)


def _paint_progress(app: App, label: str, done: int, total: int) -> None:
    """Move the progress bar shown by ``App.show_progress`` (called from the device's loop,
    which cannot wait for a repaint)."""
    app.state.progress = {"label": label, "done": done, "total": total}
    if app.paint_progress is not None:
        app.paint_progress(app.state.progress)


@dataclass
class Refusal:
    """Why a picked file was not checked: ``field`` (next to which the message shows) or a
    ``BackupError`` for the refused-file box."""

    field: str = ""
    message: str = ""
    error: BackupError | None = None


async def _check_chunked(
    app: App, source: Any, head: str, passphrase: str
) -> ValidatedBackup | Refusal:
    encrypted = envelope_of(head) is not None
    if encrypted and not passphrase:
        return Refusal("backup_passphrase", NEEDS_PASSPHRASE)
    try:
        reader = await app.platform.open_lines(source, passphrase if encrypted else "")
    except BackupDecryptError:
        return Refusal("backup_passphrase", WRONG_PASSPHRASE)
    # Each part's facts are taken as it is checked (a restore decodes it no more) and its
    # text is kept by the device, not in Python's memory, until the restore writes it.
    parser = ChunkedParser(project=part_projection, keep=app.platform.keep_part)
    try:
        return await _read_parts(app, reader, parser)
    except BaseException:
        # A refused file's parts checked so far: the page lets go of them now (the error's
        # traceback would otherwise hold them until Python's cyclic collector runs).
        release_parts(parser.parts)
        raise


async def _read_parts(app: App, reader: Any, parser: ChunkedParser) -> ValidatedBackup | Refusal:
    await app.show_progress("Checking the backup", 0, 0)
    while True:
        try:
            line = await app.platform.next_line(reader)
        except BackupDecryptError as exc:
            if exc.line == 0:
                return Refusal("backup_passphrase", WRONG_PASSPHRASE)
            raise BackupError(
                "checksum",
                f"This backup's part {exc.line} does not decrypt: the file was damaged or "
                "edited after it was made (or its parts were moved). Nothing was restored.",
            ) from exc
        if line is None:
            break
        parser.feed(line)
        read, size = app.platform.read_progress(reader)
        await app.show_progress(
            f"Checking the backup… {parser.records:,} records checked", read, size
        )
    await app.show_progress("Verifying the checksum and the audit log", 1, 1)
    return parser.finish()


async def _check_whole(app: App, text: str, passphrase: str) -> ValidatedBackup | Refusal:
    """A format-1 file (one JSON document), read whole."""
    if is_encrypted(text):
        if not passphrase:
            return Refusal("backup_passphrase", NEEDS_PASSPHRASE)
        await app.show_progress("Decrypting the backup")
        plain = await app.platform.decrypt_backup(text, passphrase)
        if plain is None:
            return Refusal("backup_passphrase", WRONG_PASSPHRASE)
        text = plain
    steps = iter_parse_backup(text)
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        await app.show_progress(
            progress_label(step.stage, step.done, step.total), step.done, step.total
        )


async def check_backup_file(app: App, source: Any, passphrase: str) -> ValidatedBackup | Refusal:
    """Check a picked backup file of either format; nothing is written. A refused file gives a
    ``Refusal`` (a ``BackupError`` for the box that says why)."""
    try:
        head = await app.platform.file_head(source, HEAD_CHARS)
        if header_version(head) is not None:
            return await _check_chunked(app, source, head, passphrase)
        return await _check_whole(app, await app.platform.file_text(source), passphrase)
    except BackupError as exc:
        return Refusal(error=exc)
    finally:
        app.platform.release_file(source)
