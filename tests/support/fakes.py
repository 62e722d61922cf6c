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

from medex.backup import FORMAT
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


class FakePlatform(FakeSigner):
    def __init__(self, persisted: bool = False) -> None:
        super().__init__()
        self.persisted = persisted
        self.persist_requests = 0
        self.files: dict[str, str] = {}  # downloads: file name → text
        self.printed = 0
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

    async def request_persistent_storage(self) -> bool:
        self.persist_requests += 1
        return self.persisted

    # -- files ----------------------------------------------------------------------------------
    def download(self, filename: str, text: str, mime: str) -> None:
        self.files[filename] = text

    async def encrypt_backup(self, text: str, passphrase: str) -> str:
        return json.dumps({"format": FORMAT, "encrypted": True, "key": passphrase, "text": text})

    async def decrypt_backup(self, text: str, passphrase: str) -> str | None:
        envelope = json.loads(text)
        return envelope["text"] if envelope.get("key") == passphrase else None

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
