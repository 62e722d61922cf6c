"""Backups signed with the practice key: the export signs the backup's checksum, the restore
preview says whether the file is exactly as this practice exported it (medex.signing)."""

from __future__ import annotations

from ..backup import (
    PRACTICE_SIGNATURE_KIND,
    ValidatedBackup,
    header_checksum,
    with_practice_signature,
)
from ..signing import (
    Claim,
    SignatureCheck,
    Signer,
    SigningKeyError,
    VerificationCache,
    signing_message,
)

BACKUP_CHECK_TEXTS = {
    SignatureCheck.VERIFIED: (
        "Signed with this practice's key on this device: the file is exactly as this practice "
        "exported it."
    ),
    SignatureCheck.MISMATCH: (
        "This backup's content does not match its signature: it was changed after this "
        "practice exported it (its records, audit log or settings were rewritten). Restore it "
        "only if you know why."
    ),
    SignatureCheck.FOREIGN: (
        "Signed elsewhere, not verified here: this backup was not signed with this device's "
        "practice key (another device or another practice). Signed records in it will show as "
        "signed elsewhere."
    ),
    SignatureCheck.UNKEYED: (
        "This backup carries no practice-key signature (made by an older version, or the "
        "signature was removed): who made it cannot be checked."
    ),
}


async def sign_backup(signer: Signer, text: str) -> tuple[str, bool]:
    """The backup text with the practice key's signature of its checksum, and whether it was
    signed (a key that cannot be used does not stop the backup: it is exported unsigned)."""
    checksum = header_checksum(text)
    try:
        made = await signer.sign_message(signing_message(PRACTICE_SIGNATURE_KIND, checksum))
    except SigningKeyError:
        return text, False
    return with_practice_signature(text, made["key_id"], made["signature"]), True


async def check_backup_signature(signer: Signer | None, backup: ValidatedBackup) -> SignatureCheck:
    """What the restore preview says about who made the file (its checksum was verified by
    the parser; here: whose key signed that checksum)."""
    sig = backup.practice_signature or {}
    claim = Claim(
        record_id="backup",
        hash_ok=True,
        kind=PRACTICE_SIGNATURE_KIND,
        content_hash=backup.checksum,
        key_id=sig.get("key_id"),
        signature=sig.get("signature"),
    )
    return (await VerificationCache().check(signer, [claim]))["backup"]
