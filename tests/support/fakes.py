"""The fakes the tests use, one per boundary of the app:

- ``FakeSigner``: a deterministic stand-in for the browser's practice signing key
  (js/signing.js): HMAC-SHA256 under a per-practice secret instead of ECDSA, with the same
  contract as ``medex.signing.Signer`` (key ids are hex fingerprints; only the keys this
  "device" holds verify).
- ``FakePlatform``: the device, every method of ``app.core.Platform``, in memory. mypy checks it
  against the protocol (``tests/build/test_types.py``), so a method added to the protocol must
  be added here too.
- ``FilePlatform`` and ``DataRepo``: the set-up the Data-screen tests name (persistent storage
  granted; the in-memory repository with an actor).

They run under CPython and inside Pyodide (the in-browser test runner ships this package).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from medex.backup import FORMAT, BackupDecryptError
from medex.repository import InMemoryRepository, MemoryStore
from medex.signing import KeyVerdict
from medex.stores import STORE_LABELS

if TYPE_CHECKING:
    from app.core import Platform


class FakeSigner:
    def __init__(self, secret: bytes = b"this practice") -> None:
        self.secrets: dict[str, bytes] = {}
        self.current = self.add_key(secret)
        self.signed: list[str] = []

    def add_key(self, secret: bytes) -> str:
        key_id = hashlib.sha256(b"spki:" + secret).hexdigest()
        self.secrets[key_id] = secret
        return key_id

    @staticmethod
    def signature_of(secret: bytes, message: str) -> str:
        return base64.b64encode(hmac.new(secret, message.encode(), "sha256").digest()).decode()

    async def sign_message(self, message: str) -> dict[str, Any]:
        self.signed.append(message)
        secret = self.secrets[self.current]
        return {
            "key_id": self.current,
            "signature": self.signature_of(secret, message),
            "public_key": {
                "key_id": self.current,
                "algorithm": "ECDSA-P256-SHA256",
                "spki": base64.b64encode(b"public:" + secret).decode(),
            },
        }

    async def verify_signatures(self, items: Sequence[dict[str, str]]) -> list[KeyVerdict]:
        out: list[KeyVerdict] = []
        for item in items:
            secret = self.secrets.get(item["key_id"])
            if secret is None:
                out.append("unknown_key")
            elif hmac.compare_digest(self.signature_of(secret, item["message"]), item["signature"]):
                out.append("valid")
            else:
                out.append("invalid")
        return out

    async def reseal_signing_key(self) -> bool:
        return False


class KeptByDevice:
    """A checked backup part kept by the fake device, as ``app.browser.KeptPart`` keeps it
    in the page: let go of when this object goes."""

    _next = 1

    def __init__(self, kept: dict[int, bytes], text: bytes) -> None:
        self.kept, self.number = kept, KeptByDevice._next
        KeptByDevice._next += 1
        kept[self.number] = bytes(text)

    def read(self) -> bytes:
        return self.kept[self.number]

    def release(self) -> None:
        self.kept.pop(self.number, None)

    def __del__(self) -> None:
        self.release()


class FakePlatform(FakeSigner):
    def __init__(self, persisted: bool | None = False) -> None:
        super().__init__()
        self.persisted = persisted  # None: a browser without persistent storage
        self.persist_requests = 0
        # What asking answers; None: the browser is still asking the person (Firefox).
        self.persist_answer: bool | None = bool(persisted)
        self.files: dict[str, str] = {}  # downloads: file name → text
        self._writers: list[dict[str, Any]] = []  # backup files being written (format 2)
        self._readers: list[dict[str, Any]] = []  # picked backup files being read
        self.released = 0  # picked files let go
        self.printed = 0
        # Checked backup parts kept by the device (keep_part): number → text, as js/storage.js.
        self.kept: dict[int, bytes] = {}
        # Encryption at rest, as js/store.js keeps it (no real cryptography here).
        self.state = "off"  # "off", "on", "encrypting", "decrypting"
        self.locked = False
        self.passphrase = ""
        self.recovery_key = ""
        self.idle_minutes: int | None = None
        # The demo practice (open_practice): the repository whose database is switched.
        self.repo: InMemoryRepository | None = None
        self.practice_db: MemoryStore | None = None
        self.demo_db: MemoryStore | None = None

    # -- storage of this browser ----------------------------------------------------------------
    async def storage_info(self) -> dict[str, Any]:
        return {
            "persisted": self.persisted,
            "usage": 12_345,
            "quota": 1_000_000_000,
            "supported": True,
        }

    async def request_persistent_storage(self) -> bool | None:
        self.persist_requests += 1
        return self.persist_answer

    # -- files ----------------------------------------------------------------------------------
    def download(self, filename: str, text: str, mime: str) -> None:
        self.files[filename] = text

    async def encrypt_backup(self, text: str, passphrase: str) -> str:
        return json.dumps({"format": FORMAT, "encrypted": True, "key": passphrase, "text": text})

    async def decrypt_backup(self, text: str, passphrase: str) -> str | None:
        envelope = json.loads(text)
        return envelope["text"] if envelope.get("key") == passphrase else None

    # -- backup files of format 2, a part at a time (js/backupfile.js; the "encryption" here is
    # the passphrase written beside each line, as encrypt_backup above does) ---------------------
    async def backup_start(self, header: str, passphrase: str, source: Any) -> dict[str, Any]:
        writer = {"lines": [], "passphrase": passphrase, "source": source}
        if passphrase:
            envelope = {"v": 2, "kdf": "fake"}
            writer["lines"].append(
                json.dumps(
                    {"encrypted": True, "envelope": envelope, "format": FORMAT, "format_version": 2}
                )
            )
        self._writers.append(writer)
        await self.backup_line(len(self._writers) - 1, header)
        counts = {s: len(docs) for s, docs in source.stores.items()}
        return {"id": len(self._writers) - 1, "counts": counts}

    async def backup_line(self, writer: int, line: str) -> str:
        w = self._writers[writer]
        w["lines"].append(
            json.dumps({"ct": line, "key": w["passphrase"]}) if w["passphrase"] else line
        )
        return hashlib.sha256(line.encode("utf-8")).hexdigest()

    async def backup_page(
        self, writer: int, store: str, after: Any, max_records: int, max_chars: int
    ) -> dict[str, Any]:
        source = self._writers[writer]["source"]
        if store == "audit":
            docs = [e for e in await source.audit_log() if after is None or e["seq"] > after]
            key = "seq"
        else:
            docs = sorted(await source.documents(store), key=lambda d: d["id"])
            docs = [d for d in docs if after is None or d["id"] > after]
            key = "id"
        page = docs[:max_records]
        hashes: list[str] = []
        part: list[str] = []
        size = 0
        for doc in [*page, None]:
            text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) if doc else ""
            if part and (doc is None or size + len(text) > max_chars):
                body = ",".join(part)
                line = (
                    f'{{"audit":[{body}]}}'
                    if store == "audit"
                    else (f'{{"records":[{body}],"store":{json.dumps(store)}}}')
                )
                hashes.append(await self.backup_line(writer, line))
                part, size = [], 0
            if doc is not None:
                part.append(text)
                size += len(text) + 1
        done = len(page) == max_records
        return {"hashes": hashes, "count": len(page), "next": page[-1][key] if done else None}

    async def backup_export(
        self,
        header: str,
        passphrase: str,
        source: Any,
        skip: dict[str, list[str]],
        max_records: int,
        max_chars: int,
        progress: Any,
    ) -> dict[str, Any]:
        """js/backupfile.js backupExport: every store but the skipped ones by name, the audit
        log, the settings; progress reported after every part."""
        started = await self.backup_start(header, passphrase, source)
        writer = started["id"]
        stores = sorted(s for s in started["counts"] if s not in skip["stores"])
        total = sum(started["counts"][s] for s in stores)
        hashes: list[str] = []
        counts: dict[str, int] = {}
        done = audit = 0
        progress(0, total, 0)
        for store in [*stores, "audit"]:
            after: Any = None
            while True:
                page = await self.backup_page(writer, store, after, max_records, max_chars)
                hashes += page["hashes"]
                if store == "audit":
                    audit += page["count"]
                else:
                    counts[store] = counts.get(store, 0) + page["count"]
                    done += page["count"]
                progress(done, max(done, total), audit)
                if page["next"] is None:
                    break
                after = page["next"]
        hashes.append(await self.backup_meta(writer, skip["keys"], skip["prefixes"]))
        return {"id": writer, "hashes": hashes, "counts": counts, "audit_count": audit}

    async def backup_meta(self, writer: int, skip_keys: list[str], skip_prefixes: list[str]) -> str:
        source = self._writers[writer]["source"]
        meta = {
            k: json.loads(v)
            for k, v in source.meta.items()
            if k not in skip_keys and not any(k.startswith(p) for p in skip_prefixes)
        }
        return await self.backup_line(writer, json.dumps({"meta": meta}, separators=(",", ":")))

    def backup_finish(self, writer: int, filename: str) -> int:
        text = "\n".join(self._writers[writer]["lines"]) + "\n"
        self.files[filename] = text
        return len(text.encode("utf-8"))

    def backup_abort(self, writer: int) -> None:
        self._writers[writer] = {}

    async def file_head(self, source: Any, chars: int) -> str:
        return str(source)[:chars]

    async def file_text(self, source: Any) -> str:
        return str(source)

    async def open_lines(self, source: Any, passphrase: str) -> int:
        lines = str(source).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if passphrase:
            envelope = json.loads(lines.pop(0)).get("envelope") or {}
            if envelope.get("kdf") != "fake":
                raise BackupDecryptError(0)
        self._readers.append({"lines": lines, "at": 0, "passphrase": passphrase})
        return len(self._readers) - 1

    async def next_line(self, reader: int) -> str | None:
        r = self._readers[reader]
        if r["at"] >= len(r["lines"]):
            return None
        line, r["at"] = r["lines"][r["at"]], r["at"] + 1
        if not r["passphrase"]:
            return line
        try:
            box = json.loads(line)
        except ValueError:
            raise BackupDecryptError(r["at"] - 1) from None
        if not isinstance(box, dict) or box.get("key") != r["passphrase"]:
            raise BackupDecryptError(r["at"] - 1)
        return str(box["ct"])

    def read_progress(self, reader: int) -> tuple[int, int]:
        r = self._readers[reader]
        return r["at"], len(r["lines"])

    def release_file(self, source: Any) -> None:
        self.released += 1

    def keep_part(self, text: bytes) -> KeptByDevice:
        return KeptByDevice(self.kept, text)

    def print_page(self) -> None:
        self.printed += 1

    # -- encryption at rest ---------------------------------------------------------------------
    def crypto_status(self) -> dict[str, Any]:
        return {"enabled": self.state != "off", "locked": self.locked, "state": self.state}

    async def setup_encryption(self, passphrase: str) -> str:
        self.state, self.passphrase = "encrypting", passphrase
        self.recovery_key = "RECOVERY-" + FakeSigner.signature_of(b"recovery", passphrase)[:16]
        return self.recovery_key

    async def start_decryption(self) -> None:
        self.state = "decrypting"

    def migration_stores(self) -> list[str]:
        return ["meta", *STORE_LABELS]

    async def migrate_store(self, store: str) -> int:
        return 0

    async def finish_migration(self) -> str:
        self.state = "on" if self.state == "encrypting" else "off"
        if self.state == "off":
            self.passphrase = self.recovery_key = ""
        return self.state

    async def unlock(self, secret: str) -> bool:
        if self.state != "off" and secret not in (self.passphrase, self.recovery_key):
            return False
        self.locked = False
        return True

    async def change_passphrase(self, old: str, new: str) -> bool:
        if old != self.passphrase:
            return False
        self.passphrase = new
        return True

    def lock(self) -> bool:
        if self.state == "off":
            return False
        self.locked = True
        return True

    def set_idle_lock(self, minutes: int) -> None:
        self.idle_minutes = minutes

    # -- which practice is open -----------------------------------------------------------------
    async def open_practice(self, demo: bool) -> None:
        """As js/store.js: the demo has a database of its own; leaving it deletes that one.
        ``repo`` (an InMemoryRepository) must be attached to follow the switch."""
        if self.repo is None:
            raise AssertionError("attach the repository: platform.repo = repo")
        if self.practice_db is None:
            self.practice_db = self.repo.db
        if demo:
            self.demo_db = self.demo_db or MemoryStore()
            self.repo.db = self.demo_db
        else:
            self.repo.db = self.practice_db
            self.demo_db = None
        self.repo.forget()


if TYPE_CHECKING:

    def _is_a_platform(fake: FakePlatform) -> Platform:
        return fake  # mypy: the fake has every method of the protocol, with its types


class FilePlatform(FakePlatform):
    """The device with persistent storage granted; downloads land in ``files``."""

    def __init__(self) -> None:
        super().__init__(persisted=True)


class DataRepo(InMemoryRepository):
    """The one in-memory repository (audited like the IndexedDB one), named for the Data screen."""

    def __init__(self) -> None:
        super().__init__()
        self.actor = "Dana Reyes"
