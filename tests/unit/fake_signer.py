"""A deterministic stand-in for the browser's practice signing key (js/signing.js), for the
CPython (and in-Pyodide) tests: HMAC-SHA256 under a per-practice secret instead of ECDSA, with
the same contract as ``medex.signing.Signer`` (key ids are hex fingerprints; only the keys this
"device" holds verify)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from medex.signing import KeyVerdict


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
