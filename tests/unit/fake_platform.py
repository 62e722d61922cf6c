"""The device for the CPython (and in-Pyodide) tests: every method of ``app.core.Platform``,
in memory. mypy checks it against the protocol (``tests/build/test_types.py``), so a method
added to the protocol must be added here too."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from medex.backup import FORMAT
from medex.stores import STORE_LABELS

from .fake_signer import FakeSigner

if TYPE_CHECKING:
    from app.core import Platform


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


if TYPE_CHECKING:

    def _is_a_platform(fake: FakePlatform) -> Platform:
        return fake  # mypy: the fake has every method of the protocol, with its types
