"""Session-log services: one save per write, the lock on every path, clearance look-up,
addenda, the client's timeline and the exercise library."""

from datetime import date, datetime, timedelta

import pytest

from medex.exercises import Exercise, ExerciseCategory, starter_library
from medex.forms import Refused
from medex.repository import InMemoryRepository, SignedRecordError
from medex.safety import FlagCode, SafetyOverride, Vitals
from medex.screening import Clearance
from medex.services.client_timeline import client_timeline
from medex.services.sessions import (
    AddAddendum,
    ClearanceContext,
    add_addendum,
    import_addendum,
    import_session_log,
    list_exercises,
    load_clearance_context,
    save_draft_log,
    save_exercise,
    seed_starter_exercises,
    sign_session_log,
    start_session,
    unsigned_logs_dashboard,
)
from medex.session_logs import (
    Attendance,
    LockedLogError,
    SessionLog,
    SigningRefused,
    verify_signature,
)
from tests.support.aio import run
from tests.support.seeders import CLIENT, T0, draft, repo_with_client, screened

OTHER = "9b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"
REASON = "Dr Lee cleared by phone at 10:20 today"


def test_save_draft_is_one_write_and_stores_current_flags():
    repo = repo_with_client()
    saved = run(
        save_draft_log(
            repo, draft(pre_vitals=Vitals(timing="pre", systolic_mmhg=210, diastolic_mmhg=100))
        )
    )
    assert repo.writes == 1
    stored = run(repo.get(SessionLog, saved.id))
    assert FlagCode.HYPERTENSIVE_CRISIS in {f.code for f in stored.safety_flags}
    assert not stored.is_signed


def test_save_draft_can_carry_an_extra_record_in_the_same_write():
    repo = repo_with_client()
    extra = Exercise(name="Audit stand-in", category=ExerciseCategory.STRENGTH)
    run(save_draft_log(repo, draft(), extra=[extra]))
    assert repo.writes == 1 and run(repo.get(Exercise, extra.id)) is not None


def test_sign_is_one_write_signs_as_the_practitioner_and_locks():
    repo = repo_with_client()
    log = run(save_draft_log(repo, draft()))
    signed = run(sign_session_log(repo, log, now=T0 + timedelta(hours=1)))
    assert repo.writes == 2
    stored = run(repo.get(SessionLog, log.id))
    assert stored == signed and verify_signature(stored)
    assert stored.signature.signed_by == "Dana Reyes"
    assert stored.signature.credentials == "MS, ACSM-CEP"
    assert stored.created_at == T0
    with pytest.raises(LockedLogError, match="is locked"):
        run(save_draft_log(repo, stored.model_copy(update={"pain": 5})))
    with pytest.raises(LockedLogError, match="already signed"):
        run(sign_session_log(repo, stored.model_copy(update={"signature": None, "pain": 5})))
    assert repo.writes == 2


def test_changing_a_signed_log_is_the_storage_s_signed_record_refusal():
    """The domain's lock and the storage's check are one refusal: the shell handles a
    ``SignedRecordError`` (what was typed kept and listed), whichever of the two refused."""
    repo = repo_with_client()
    signed = run(sign_session_log(repo, draft(), now=T0))
    with pytest.raises(SignedRecordError) as exc:
        run(save_draft_log(repo, signed.model_copy(update={"pain": 5})))
    assert (exc.value.store, exc.value.record_id) == (SessionLog.store, signed.id)
    assert issubclass(SigningRefused, Refused)


def test_an_identical_re_save_of_a_signed_log_writes_nothing():
    repo = repo_with_client()
    signed = run(sign_session_log(repo, draft(), now=T0))
    again = SessionLog.model_validate_json(signed.model_dump_json())
    assert run(save_draft_log(repo, again)) == signed
    assert run(import_session_log(repo, again)) is False
    assert repo.writes == 1


def test_import_cannot_change_or_plant_a_signed_log():
    repo = repo_with_client()
    signed = run(sign_session_log(repo, draft(), now=T0))
    with pytest.raises(LockedLogError, match="is locked"):
        run(import_session_log(repo, signed.model_copy(update={"plan_next": "changed"})))
    tampered_new = signed.model_copy(update={"id": "0b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"})
    with pytest.raises(LockedLogError, match="does not match its signature"):
        run(import_session_log(repo, tampered_new))
    assert run(import_session_log(InMemoryRepository(), signed)) is True


def test_a_refused_signature_stores_nothing():
    repo = repo_with_client()
    bad = draft(pre_vitals=Vitals(timing="pre", systolic_mmhg=210, diastolic_mmhg=100))
    with pytest.raises(SigningRefused) as exc:
        run(sign_session_log(repo, bad, now=T0))
    assert {"safety_override", "action_taken"} <= set(exc.value.errors)
    assert repo.writes == 0


def test_sign_with_a_hard_stop_override_and_action_taken():
    repo = repo_with_client()
    log = draft(
        pre_vitals=Vitals(timing="pre", systolic_mmhg=210, diastolic_mmhg=100),
        action_taken="Rechecked 150/90 after 10 min; physician called",
        safety_override=SafetyOverride(
            flag_codes=frozenset(
                {FlagCode.RESTING_BP_CONTRAINDICATION, FlagCode.HYPERTENSIVE_CRISIS}
            ),
            reason=REASON,
        ),
    )
    signed = run(sign_session_log(repo, log, now=T0))
    assert signed.hard_stops and signed.safety_override.reason == REASON


def test_clearance_is_looked_up_from_the_screening_and_clearance_records():
    repo = repo_with_client(needs_clearance=True)
    ctx = run(load_clearance_context(repo, CLIENT))
    assert ctx.outcome.needs_clearance and ctx.clearance is None
    with pytest.raises(SigningRefused) as exc:
        run(sign_session_log(repo, draft(), now=T0))
    assert "Medical clearance recommended" in exc.value.errors["clearance_override_reason"]
    run(
        repo.save(
            Clearance(
                client_id=CLIENT, requested_on=date(2025, 2, 2), received_on=date(2025, 2, 20)
            )
        )
    )
    signed = run(sign_session_log(repo, draft(), now=T0))
    assert "received on 2025-02-20" in signed.clearance_status


def test_clearance_context_can_be_passed_in():
    repo = repo_with_client(needs_clearance=True)
    signed = run(
        sign_session_log(
            repo,
            draft(clearance_override_reason=REASON),
            now=T0,
            clearance=ClearanceContext(outcome=None),
        )
    )
    assert signed.clearance_status.startswith("Logged with no screening on file")


def test_signing_without_a_profile_needs_a_name():
    repo = InMemoryRepository()
    screened(repo, False)
    with pytest.raises(SigningRefused) as exc:
        run(sign_session_log(repo, draft(), now=T0))
    assert exc.value.errors == {"signed_by": "Type your name to sign"}
    signed = run(sign_session_log(repo, draft(), now=T0, signed_by="Sam Cole", credentials="CEP"))
    assert signed.signature.text == "Signed by Sam Cole, CEP on 2025-03-10 15:00 UTC"


def test_addendum_is_one_write_and_leaves_the_log_untouched():
    repo = repo_with_client()
    signed = run(sign_session_log(repo, draft(), now=T0))
    before = repo.stores["session_logs"][signed.id]
    a = run(
        add_addendum(
            repo,
            AddAddendum(log_id=signed.id, text="Band row was 5 kg, not 4 kg."),
            now=T0 + timedelta(days=1),
        )
    )
    assert repo.writes == 2
    assert repo.stores["session_logs"][signed.id] == before
    assert a.author == "Dana Reyes" and a.client_id == CLIENT
    with pytest.raises(LockedLogError):
        run(import_addendum(repo, a.model_copy(update={"text": "Changed"})))
    assert run(import_addendum(repo, a)) is False


def test_addendum_refused_for_a_draft_or_a_missing_log():
    repo = repo_with_client()
    log = run(save_draft_log(repo, draft()))
    with pytest.raises(ValueError, match="not signed yet"):
        run(add_addendum(repo, AddAddendum(log_id=log.id, text="x")))
    with pytest.raises(ValueError, match="no longer exists"):
        run(
            add_addendum(repo, AddAddendum(log_id="0b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b", text="x"))
        )


def test_the_client_timeline_filters_and_totals():
    repo = repo_with_client()
    first = run(sign_session_log(repo, draft(day=3), now=T0))
    run(
        sign_session_log(
            repo,
            draft(day=5, exercises=[], attendance=Attendance.NO_SHOW, pre_vitals=None, pain=None),
            now=T0,
        )
    )
    third = run(save_draft_log(repo, draft(day=7)))
    run(save_draft_log(repo, draft(day=7, client_id=OTHER)))
    run(
        add_addendum(
            repo, AddAddendum(log_id=first.id, text="Second addendum"), now=T0 + timedelta(days=2)
        )
    )
    run(
        add_addendum(
            repo, AddAddendum(log_id=first.id, text="First addendum"), now=T0 + timedelta(days=1)
        )
    )

    t = run(client_timeline(repo, CLIENT))
    assert [e.log.session_date.day for e in t.entries] == [7, 5, 3]
    assert t.entries[0].log.id == third.id and not t.entries[0].log.is_signed
    # The two signed logs' signatures are to be checked, each with its content matching.
    assert sorted((c.record_id, c.hash_ok) for c in t.claims) == sorted(
        (e.log.id, True) for e in t.entries[1:]
    )
    assert [a.text for a in t.entries[2].addenda] == ["First addendum", "Second addendum"]
    assert (t.attendance.attended, t.attendance.no_show) == (2, 1)
    assert (t.total_sets, t.total_reps, t.volume_load_kg) == (8, 88, 192.0)  # 2×(2×12×4)
    assert (t.unsigned, t.hard_stops) == (1, 0)

    only = run(
        client_timeline(repo, CLIENT, date_from=date(2025, 3, 4), attendance=Attendance.ATTENDED)
    )
    assert [e.log.session_date.day for e in only.entries] == [7]
    assert only.claims == [] and only.total_sets == 4


def test_start_session_prefills_from_the_latest_attended_session_before_the_date():
    repo = InMemoryRepository()
    screened(repo, False, has_diabetes=True)
    run(save_draft_log(repo, draft(day=3, pain=4)))
    lib = starter_library()[:1]
    d = run(start_session(repo, CLIENT, date(2025, 3, 10), lib))
    assert d.pain_previous == 4 and d.has_diabetes
    assert [(e.exercise_name, e.sets, e.reps) for e in d.exercises] == [("Sit-to-stand", 2, 10)]
    assert d.session_date == date(2025, 3, 10) and repo.writes == 2  # nothing saved


def test_unsigned_dashboard_lists_old_drafts():
    repo = repo_with_client()
    run(save_draft_log(repo, draft()))  # the session: 10 March 10:00 (device time)
    local = datetime(2025, 3, 11, 10, 0)
    assert run(unsigned_logs_dashboard(repo, T0, local_now=local)) == []
    items = run(
        unsigned_logs_dashboard(
            repo, T0, {CLIENT: "Ana Lopez"}, local_now=local + timedelta(minutes=1)
        )
    )
    assert [i.title for i in items] == ["Unsigned session log: Ana Lopez, Mar 10, 2025"]


def test_renaming_a_library_exercise_leaves_signed_logs_unchanged():
    repo = repo_with_client()
    assert run(seed_starter_exercises(repo)) == len(starter_library())
    assert run(seed_starter_exercises(repo)) == 0
    signed = run(sign_session_log(repo, draft(), now=T0))
    sit = run(repo.get(Exercise, starter_library()[0].id))
    run(save_exercise(repo, sit.model_copy(update={"name": "Chair rise"})))
    stored = run(repo.get(SessionLog, signed.id))
    assert stored.exercises[0].exercise_name == "Sit-to-stand" and verify_signature(stored)
    assert "Chair rise" in {e.name for e in run(list_exercises(repo))}


def test_save_exercise_refuses_a_duplicate_name():
    repo = InMemoryRepository()
    run(seed_starter_exercises(repo))
    with pytest.raises(ValueError, match="already an exercise called"):
        run(save_exercise(repo, Exercise(name="band row", category=ExerciseCategory.STRENGTH)))
