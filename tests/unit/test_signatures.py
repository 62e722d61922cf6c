"""Issue 10 (7) "nothing forged": a signed log carries the practice key's signature of its
content hash, and every check concludes verified / mismatch / signed elsewhere / unkeyed.

The browser's ECDSA key (js/signing.js) is replaced by a deterministic HMAC fake with the same
contract (tests/support/fakes.py), so these run under CPython and inside Pyodide."""

from __future__ import annotations

import json

import pytest

from app import core
from medex.backup import checksum_of, make_backup, parse_backup
from medex.intake import Client, ConsentKind
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository
from medex.services.intake import SignConsent, check_consent_signatures, sign_consent
from medex.services.practice import SaveProfile, save_practice_profile
from medex.services.sessions import (
    AddAddendum,
    add_addendum,
    check_log_signatures,
    sign_session_log,
)
from medex.services.signatures import check_backup_signature, sign_backup
from medex.session_logs import (
    SIGNING_KIND,
    SessionLog,
    addendum_hash,
    content_hash,
    signature_claim,
    verify_signature,
)
from medex.signing import (
    SignatureCheck,
    SigningPublicKey,
    VerificationCache,
    conclude,
    signing_message,
)
from tests.support.aio import run
from tests.support.fakes import FakePlatform, FakeSigner
from tests.support.seeders import CLIENT, GOOD, T0, draft, repo_with_client


def signed_log(signer=None):
    repo = repo_with_client()
    signer = signer or FakeSigner()
    log = run(sign_session_log(repo, draft(), now=T0, signer=signer))
    return repo, signer, log


def rehashed(log: SessionLog, **changes) -> SessionLog:
    """The log rewritten with ``changes`` and its content hash recomputed the way the app
    computes it (what someone editing the stored JSON would do)."""
    changed = log.model_copy(update=changes)
    sig = changed.signature
    digest = content_hash(changed, sig.signed_by, sig.credentials, sig.signed_at)
    return changed.model_copy(update={"signature": sig.model_copy(update={"content_hash": digest})})


def check(signer, log) -> SignatureCheck:
    return run(check_log_signatures(signer, VerificationCache(), [log]))[log.id]


def test_signing_signs_the_content_hash_with_the_practice_key_in_the_same_save():
    repo, signer, log = signed_log()
    sig = log.signature
    assert sig.key_id == signer.current
    assert signer.signed == [signing_message(SIGNING_KIND, sig.content_hash)]
    assert sig.key_signature == FakeSigner.signature_of(
        signer.secrets[signer.current], signer.signed[0]
    )
    assert repo.writes == 1  # the log and the profile naming the key: one transaction
    (profile,) = run(repo.list(PracticeProfile))
    assert profile.signing_key.key_id == signer.current
    stored = run(repo.get(SessionLog, log.id))
    assert stored.signature == sig
    # The second signature does not write the profile again.
    run(sign_session_log(repo, draft(day=11), now=T0, signer=signer))
    assert repo.writes == 2
    assert run(repo.list(PracticeProfile))[0].updated_at == profile.updated_at


def test_an_untouched_signed_log_verifies():
    _, signer, log = signed_log()
    assert check(signer, log) is SignatureCheck.VERIFIED


def test_content_edited_without_rehashing_is_a_mismatch():
    _, signer, log = signed_log()
    edited = log.model_copy(update={"plan_next": "Forged plan"})
    assert not verify_signature(edited)
    assert check(signer, edited) is SignatureCheck.MISMATCH


def test_content_edited_and_rehashed_is_a_mismatch_under_this_practices_key():
    """The hash alone is recomputable; the key signature over the old hash is not."""
    _, signer, log = signed_log()
    forged = rehashed(log, plan_next="Forged plan")
    assert verify_signature(forged)  # the old tamper-evidence is fooled…
    assert check(signer, forged) is SignatureCheck.MISMATCH  # …the key signature is not


@pytest.mark.parametrize(
    "field, value",
    [
        ("response_notes", "Changed"),
        ("pain", 9),
        ("client_id", "9b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"),
    ],
)
def test_every_clinical_field_and_the_client_are_covered(field, value):
    _, signer, log = signed_log()
    assert check(signer, rehashed(log, **{field: value})) is SignatureCheck.MISMATCH


def test_a_log_signed_with_another_practices_key_is_signed_elsewhere():
    _, elsewhere, log = signed_log(FakeSigner(b"another practice"))
    here = FakeSigner(b"this practice")
    assert check(elsewhere, log) is SignatureCheck.VERIFIED
    assert check(here, log) is SignatureCheck.FOREIGN
    # A forger's fabricated log (rehashed, signed with their own key) is not "signed" here.
    forged = rehashed(log, plan_next="Forged")
    forger = FakeSigner(b"another practice")
    resigned = forged.model_copy(
        update={
            "signature": forged.signature.model_copy(
                update={
                    "key_signature": FakeSigner.signature_of(
                        b"another practice",
                        signing_message(SIGNING_KIND, forged.signature.content_hash),
                    )
                }
            )
        }
    )
    assert check(forger, resigned) is SignatureCheck.VERIFIED
    assert check(here, resigned) is SignatureCheck.FOREIGN


def test_claiming_this_practices_key_with_a_made_up_signature_is_a_mismatch():
    _, signer, log = signed_log()
    other = FakeSigner(b"forger")
    forged = rehashed(log, plan_next="Forged")
    sig = forged.signature.model_copy(
        update={
            "key_signature": FakeSigner.signature_of(
                b"forger", signing_message(SIGNING_KIND, forged.signature.content_hash)
            )
        }
    )
    assert check(other, forged.model_copy(update={"signature": sig})) is SignatureCheck.FOREIGN
    assert check(signer, forged.model_copy(update={"signature": sig})) is SignatureCheck.MISMATCH


def test_logs_signed_before_signature_keys_stay_readable_and_show_unkeyed():
    repo = repo_with_client()
    old = run(sign_session_log(repo, draft(), now=T0))  # no signer: the 0.1 behaviour
    doc = old.to_doc()
    assert "key_id" in doc["signature"] and doc["signature"]["key_id"] is None
    for key in ("key_id", "key_signature"):
        del doc["signature"][key]  # exactly as a 0.1 log is stored
    legacy = SessionLog.model_validate_json(json.dumps(doc))
    assert check(FakeSigner(), legacy) is SignatureCheck.UNKEYED
    assert check(FakeSigner(), rehashed(legacy, pain=9)) is SignatureCheck.UNKEYED
    assert check(FakeSigner(), legacy.model_copy(update={"pain": 9})) is SignatureCheck.MISMATCH


def test_the_key_signature_is_not_part_of_the_content_hash():
    """Adding the key signature after hashing leaves the hash valid (and old hashes stable)."""
    _, _, log = signed_log()
    assert verify_signature(log)
    bare = log.model_copy(
        update={
            "signature": log.signature.model_copy(update={"key_id": None, "key_signature": None})
        }
    )
    assert verify_signature(bare)


def test_conclusions_table():
    assert conclude(False, True, "valid") is SignatureCheck.MISMATCH
    assert conclude(False, False, None) is SignatureCheck.MISMATCH
    assert conclude(True, False, None) is SignatureCheck.UNKEYED
    assert conclude(True, True, "valid") is SignatureCheck.VERIFIED
    assert conclude(True, True, "invalid") is SignatureCheck.MISMATCH
    assert conclude(True, True, "unknown_key") is SignatureCheck.FOREIGN
    assert conclude(True, True, None) is SignatureCheck.MISMATCH


def test_signing_message_is_bound_to_the_record_kind_and_a_real_hash():
    h = "ab" * 32
    assert signing_message("session_log", h) != signing_message("addendum", h)
    with pytest.raises(ValueError):
        signing_message("session_log", "not a hash")
    with pytest.raises(ValueError):
        signing_message("Session Log", h)


class CountingSigner(FakeSigner):
    def __init__(self):
        super().__init__()
        self.verified = 0

    async def verify_signatures(self, items):
        self.verified += len(items)
        return await super().verify_signatures(items)


def test_verification_is_cached_by_record_and_hash_and_only_covers_what_is_shown():
    repo = repo_with_client()
    signer = CountingSigner()
    a = run(sign_session_log(repo, draft(day=3), now=T0, signer=signer))
    b = run(sign_session_log(repo, draft(day=4), now=T0, signer=signer))
    cache = VerificationCache()
    assert run(check_log_signatures(signer, cache, [a])) == {a.id: SignatureCheck.VERIFIED}
    assert signer.verified == 1
    run(check_log_signatures(signer, cache, [a, b]))
    assert signer.verified == 2  # only b was new
    run(check_log_signatures(signer, cache, [a, b]))
    assert signer.verified == 2
    # A rewrite (new hash) is checked again, never served from the cache.
    forged = rehashed(a, plan_next="Forged")
    assert run(check_log_signatures(signer, cache, [forged]))[a.id] is SignatureCheck.MISMATCH
    assert signer.verified == 3
    # An edit that leaves the hash is caught by the hash, with no key check at all.
    assert (
        run(check_log_signatures(signer, cache, [a.model_copy(update={"pain": 8})]))[a.id]
        is SignatureCheck.MISMATCH
    )
    assert signer.verified == 3
    assert signature_claim(a).cache_key != signature_claim(forged).cache_key


def test_saving_the_practice_profile_keeps_its_signing_key():
    repo, signer, _ = signed_log()
    profile = run(save_practice_profile(repo, SaveProfile(**{**GOOD, "phone": "555 123 4567"})))
    assert profile.signing_key == SigningPublicKey(
        key_id=signer.current,
        spki=run(signer.sign_message("x"))["public_key"]["spki"],
    )


# -- the screens ---------------------------------------------------------------------------


@pytest.fixture
def app():
    core.load_screens()
    a = core.App(repo_with_client(), FakePlatform())
    client = Client(
        id=CLIENT, first_name="Ana", last_name="López", date_of_birth="1958-03-10", sex="female"
    )
    run(a.repo.save(client))
    run(a.load())
    return a


def page(app, log):
    app.navigate(f"#/session?id={log.id}")
    return run(app.html())


def put_raw(app, log):
    """Write a log straight into the store (no service, no checks): a rewrite on disk."""
    app.repo.stores.setdefault("session_logs", {})[log.id] = json.dumps(log.to_doc())


def test_the_signed_view_verifies_and_shows_a_red_banner_for_a_rewritten_log(app):
    log = run(sign_session_log(app.repo, draft(), now=T0, signer=app.platform))
    html = page(app, log)
    assert ">Signed and locked<" in html
    assert 'id="signature-check"' not in html
    put_raw(app, rehashed(log, plan_next="Forged plan"))
    html = page(app, log)
    assert ">Signed and locked<" not in html
    assert 'role="alert" id="signature-check" data-check="mismatch"' in html
    assert "Content does not match its signature." in html
    # The client's timeline says it too.
    app.navigate(f"#/client-sessions?id={log.client_id}")
    assert "content does not match its signature" in run(app.html())


def test_the_signed_view_of_a_log_from_another_practice_says_signed_elsewhere(app):
    _, _, foreign = signed_log(FakeSigner(b"another practice"))
    put_raw(app, foreign)
    html = page(app, foreign)
    assert ">Signed and locked<" not in html
    assert "Signed elsewhere, not verified here" in html
    assert 'data-check="foreign"' in html


# -- addenda and consents ------------------------------------------------------------------


def test_addenda_are_signed_with_the_key_and_checked_like_the_log(app):
    log = run(sign_session_log(app.repo, draft(), now=T0, signer=app.platform))
    addendum = run(
        add_addendum(
            app.repo, AddAddendum(log_id=log.id, text="Knee sore that evening"), signer=app.platform
        )
    )
    assert addendum.key_id == app.platform.current
    html = page(app, log)
    assert 'data-check="verified"' in html
    # Rewritten with its hash recomputed: the key signature no longer fits.
    forged = addendum.model_copy(update={"text": "No problems reported"})
    forged = forged.model_copy(
        update={"content_hash": addendum_hash(forged.model_dump(mode="json"), forged.signed_at)}
    )
    app.repo.stores["addenda"][addendum.id] = json.dumps(forged.to_doc())
    html = page(app, log)
    assert '<li class="addendum" data-check="mismatch">' in html
    assert "This addendum was changed after it was signed" in html


def test_consents_are_signed_with_the_key_and_a_rewrite_shows_on_the_client_file(app):
    client = run(app.repo.get(Client, CLIENT))
    consent = run(
        sign_consent(
            app.repo,
            SignConsent(
                client_id=client.id,
                kind=ConsentKind.INFORMED_CONSENT,
                today=T0.date(),
                practice_name="Reyes",
                agree=True,
                signed_name="Ana López",
            ),
            signer=app.platform,
        )
    )
    assert consent.key_id == app.platform.current
    cache = VerificationCache()
    assert run(check_consent_signatures(app.platform, cache, [consent])) == {
        consent.id: SignatureCheck.VERIFIED
    }
    app.navigate(f"#/client?id={CLIENT}&section=consent")
    assert 'id="consent-check-informed_consent"' not in run(app.html())
    # The signed name rewritten in storage (the text hash still fits the text).
    forged = consent.model_copy(update={"signed_name": "Someone Else"})
    app.repo.stores["consents"][consent.id] = json.dumps(forged.to_doc())
    html = run(app.html())
    assert 'role="alert" id="consent-check-informed_consent" data-check="mismatch"' in html
    # A consent from another practice's backup; one from before signature keys.
    other = FakeSigner(b"another practice")
    elsewhere = InMemoryRepository()
    run(elsewhere.save(Client.model_validate(client.model_dump())))
    foreign = run(
        sign_consent(
            elsewhere,
            SignConsent(
                client_id=client.id,
                kind=ConsentKind.AUTHORISATION,
                today=T0.date(),
                practice_name="Reyes",
                agree=True,
                signed_name="Ana López",
            ),
            signer=other,
        )
    )
    app.repo.stores["consents"][foreign.id] = json.dumps(foreign.to_doc())
    html = run(app.html())
    assert 'id="consent-check-authorisation" data-check="foreign"' in html
    unkeyed = foreign.model_copy(update={"key_id": None, "key_signature": None})
    app.repo.stores["consents"][foreign.id] = json.dumps(unkeyed.to_doc())
    assert 'id="consent-check-authorisation" data-check="unkeyed"' in run(app.html())


# -- backups -------------------------------------------------------------------------------


def _backup_text(repo) -> str:
    stores = {s: [json.loads(t) for t in docs.values()] for s, docs in repo.stores.items()}
    return make_backup(stores, [], {}, "0.1.0", T0)


def _rewritten(text: str, **changes) -> str:
    """The backup with one signed log rewritten (hash recomputed) and the checksum recomputed:
    every check but the practice signature still passes."""
    doc = json.loads(text)
    (log_doc,) = doc["data"]["session_logs"]
    forged = rehashed(SessionLog.model_validate(log_doc), **changes)
    doc["data"]["session_logs"] = [forged.to_doc()]
    doc["checksum"] = checksum_of(doc["data"], doc["audit"], doc["meta"])
    return json.dumps(doc)


def test_a_backup_is_signed_with_the_practice_key_and_a_rewrite_is_told_on_restore():
    repo, signer, _ = signed_log()
    text, signed = run(sign_backup(signer, _backup_text(repo)))
    assert signed
    backup = parse_backup(text, now=T0)
    assert backup.practice_signature["key_id"] == signer.current
    assert run(check_backup_signature(signer, backup)) is SignatureCheck.VERIFIED
    assert run(check_backup_signature(FakeSigner(b"elsewhere"), backup)) is SignatureCheck.FOREIGN
    forged = parse_backup(_rewritten(text, plan_next="Forged"), now=T0)
    assert run(check_backup_signature(signer, forged)) is SignatureCheck.MISMATCH
    unsigned = parse_backup(_backup_text(repo), now=T0)
    assert unsigned.practice_signature is None
    assert run(check_backup_signature(signer, unsigned)) is SignatureCheck.UNKEYED


class BrokenSigner(FakeSigner):
    async def verify_signatures(self, items):
        raise OSError("the keys database could not be opened")


def test_a_view_still_renders_when_the_keys_cannot_be_read_and_says_unchecked():
    _, _, log = signed_log()
    cache = VerificationCache()
    assert run(check_log_signatures(BrokenSigner(), cache, [log])) == {
        log.id: SignatureCheck.UNCHECKED
    }
    signer = FakeSigner()
    assert run(check_log_signatures(signer, cache, [log]))[log.id] is SignatureCheck.VERIFIED
