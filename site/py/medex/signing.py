"""Practice signing keys: what a signature covers and what checking one concludes.

A signed record (a session log) carries the SHA-256 ``content_hash`` of its clinical content
(``session_logs.content_hash``). On its own that hash is tamper-EVIDENCE only: anyone who edits
the stored JSON can recompute it. So at signing the app also signs the hash with the
practice's signing key (WebCrypto ECDSA P-256, SHA-256; the private key is non-extractable and
never leaves this device: see ``site/js/signing.js``) and stores the signature and the key's
fingerprint (``key_id``) next to the hash.

Checking a signed record (every view of it) has two parts, and this module is the pure one:

1. the content hash is recomputed from the record's content (pure Python), and
2. the platform checks the key signature over ``signing_message(kind, content_hash)`` against
   the keys this device holds (``Signer.verify_signatures``: valid / invalid / not ours).

``conclude`` turns those two facts into one ``SignatureCheck``:

- VERIFIED: content matches its hash and the hash carries a valid signature by this
  practice's key;
- MISMATCH: the content does not match its hash, or the signature does not match the hash
  under this practice's key (red banner: "content does not match its signature");
- FOREIGN: the content matches its hash but the signing key is not one of this device's
  (a record from another practice's backup): "signed elsewhere, not verified here";
- UNKEYED: the content matches its hash but it carries no key signature (signed before
  signature keys existed, or stripped): "signed before signature keys, not verified".

Trust comes only from the keys on this device, never from a key named in a restored file: a
backup's practice profile carries its public key for reference, but a forger writes that too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

ALGORITHM = "ECDSA-P256-SHA256"
MESSAGE_VERSION = 1
KEY_ID_PATTERN = r"^[0-9a-f]{32,64}$"
# A P-256 signature in IEEE P1363 form (r‖s, 64 bytes) is 88 base64 characters.
SIGNATURE_PATTERN = r"^[A-Za-z0-9+/=_-]{40,200}$"

KeyVerdict = Literal["valid", "invalid", "unknown_key"]


class SignatureCheck(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    FOREIGN = "foreign"
    UNKEYED = "unkeyed"
    UNCHECKED = "unchecked"  # the device's keys could not be read: try again (never cached)


CHECK_LABELS = {
    SignatureCheck.VERIFIED: "Signed and locked",
    SignatureCheck.MISMATCH: "Content does not match its signature",
    SignatureCheck.FOREIGN: "Signed elsewhere, not verified here",
    SignatureCheck.UNKEYED: "Signed before signature keys, not verified",
    SignatureCheck.UNCHECKED: "Signature not checked",
}

CHECK_DETAILS = {
    SignatureCheck.VERIFIED: "",
    SignatureCheck.MISMATCH: (
        "This record's content does not match its signature: it was changed after it was "
        "signed (in the browser's storage or in a backup file). Do not rely on what it says; "
        "restore it from a backup you trust."
    ),
    SignatureCheck.FOREIGN: (
        "This record was signed elsewhere, not verified here: its signature was made with a "
        "key that is not this practice's signing key on this device (it came from a backup). "
        "Its content matches its own hash, but who signed it cannot be checked here."
    ),
    SignatureCheck.UNKEYED: (
        "This record was signed before signature keys, not verified: it carries only a "
        "content hash, which shows accidental changes but not a deliberate rewrite."
    ),
    SignatureCheck.UNCHECKED: (
        "This record's signature could not be checked just now (the signing keys on this "
        "device could not be read). Reload to try again."
    ),
}


class SigningPublicKey(BaseModel):
    """The practice's public signing key, kept in the practice profile (so it travels in
    backups, for reference: it is never trusted from a file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str = Field(pattern=KEY_ID_PATTERN)  # hex SHA-256 of the SPKI bytes
    algorithm: str = Field(default=ALGORITHM, max_length=40)
    spki: str = Field(max_length=400)  # base64 SubjectPublicKeyInfo (DER)


def _prune(value: Any) -> Any:
    """Drop empty values recursively (as ``session_logs`` does), so that an optional field
    added later with an empty default does not change the hash of what was signed before."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, False, "", [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


# Stored bookkeeping that a record's signature never covers.
NOT_SIGNED_FIELDS = frozenset(
    {"created_at", "updated_at", "schema_version", "key_id", "key_signature"}
)


def record_digest(kind: str, doc: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a record's content for records with no content hash of their own
    (consents): the JSON document without bookkeeping, empty values dropped, canonical JSON,
    tagged with the record kind and the hash version."""
    content = _prune({k: v for k, v in doc.items() if k not in NOT_SIGNED_FIELDS})
    payload = {"v": MESSAGE_VERSION, "kind": kind, "content": content}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signing_message(kind: str, content_hash: str) -> str:
    """What the practice key signs: the content hash, tagged with the record kind (so a
    signature cannot be moved to a record of another kind)."""
    if not re.fullmatch(r"[a-z_]{1,40}", kind) or not re.fullmatch(r"[0-9a-f]{64}", content_hash):
        raise ValueError("A signing message needs a record kind and a SHA-256 hex hash")
    return f"medex-practice:{kind}:v{MESSAGE_VERSION}:{content_hash}"


class Signer(Protocol):
    """The device's signing key (the browser platform; a fake in the CPython tests)."""

    async def sign_message(self, message: str) -> dict[str, Any]:
        """Sign with this practice's key (made on first use): ``{"key_id", "signature",
        "public_key": {"key_id", "algorithm", "spki"}}``."""
        ...

    async def verify_signatures(self, items: Sequence[dict[str, str]]) -> list[KeyVerdict]:
        """For each ``{"key_id", "message", "signature"}``: "valid", "invalid" (a key of this
        device, but the signature does not fit the message), or "unknown_key"."""
        ...


def conclude(hash_ok: bool, has_key_signature: bool, verdict: KeyVerdict | None) -> SignatureCheck:
    """The one verdict shown for a signed record. ``verdict`` is the platform's answer for the
    key signature (None when there is none to check)."""
    if not hash_ok:
        return SignatureCheck.MISMATCH
    if not has_key_signature:
        return SignatureCheck.UNKEYED
    if verdict == "valid":
        return SignatureCheck.VERIFIED
    if verdict == "unknown_key":
        return SignatureCheck.FOREIGN
    return SignatureCheck.MISMATCH


@dataclass(frozen=True)
class Claim:
    """One signed record to check: its id, whether its content matches its stored hash, and
    the key signature it carries (if any)."""

    record_id: str
    hash_ok: bool
    kind: str
    content_hash: str
    key_id: str | None = None
    signature: str | None = None

    @property
    def keyed(self) -> bool:
        return bool(self.key_id and self.signature)

    @property
    def cache_key(self) -> tuple:
        return (self.record_id, self.content_hash, self.key_id, self.signature)


class VerificationCache:
    """Key-signature verdicts by (record id, hash, key id, signature): a record is verified
    once per tab, however often it is shown (the hash itself is recomputed every time: it is
    cheap and it is what a rewrite changes)."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._verdicts: dict[tuple, KeyVerdict] = {}

    def clear(self) -> None:
        self._verdicts.clear()

    async def check(
        self, signer: Signer | None, claims: Iterable[Claim]
    ) -> dict[str, SignatureCheck]:
        claims = list(claims)
        todo = [c for c in claims if c.hash_ok and c.keyed and c.cache_key not in self._verdicts]
        failed: set[tuple] = set()
        if todo and signer is not None:
            try:
                verdicts = await signer.verify_signatures(
                    [
                        {
                            "key_id": str(c.key_id),
                            "message": signing_message(c.kind, c.content_hash),
                            "signature": str(c.signature),
                        }
                        for c in todo
                    ]
                )
            except Exception:  # a view must still render: shown as unchecked
                verdicts = None
                failed = {c.cache_key for c in todo}
            if verdicts is not None:
                if len(self._verdicts) + len(todo) > self.limit:
                    self._verdicts.clear()
                for c, v in zip(todo, verdicts, strict=True):
                    # Final: a key id is a fingerprint, so a key that is not this device's
                    # never becomes one (the keys this device makes are new).
                    self._verdicts[c.cache_key] = v
        out = {}
        for c in claims:
            verdict = self._verdicts.get(c.cache_key)
            if c.cache_key in failed:
                out[c.record_id] = SignatureCheck.UNCHECKED
                continue
            if verdict is None and c.keyed and c.hash_ok:
                verdict = "unknown_key"  # no signer to ask: nothing is verified
            out[c.record_id] = conclude(c.hash_ok, c.keyed, verdict)
        return out


class SigningKeyError(Exception):
    """The practice signing key could not be made or used: nothing was signed."""
