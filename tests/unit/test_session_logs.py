"""Session logs (clinical.md §5A): validation, flags snapshot, override rules, sign/lock
invariant, addenda, prefill, volume, attendance and the unsigned-log dashboard rule."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from medex.exercises import Dosage, Exercise, ExerciseCategory, LoadUnit
from medex.forms import field_errors
from medex.heart_rate import RpeRating, RpeScale
from medex.safety import (
    BpPosition,
    FlagCode,
    MskRedFlag,
    SafetyOverride,
    Severity,
    Symptom,
    Timing,
    Vitals,
    make_flag,
)
from medex.screening import AcsmDecision, AcsmOutcome, Clearance
from medex.session_logs import (
    Addendum,
    AssistanceLevel,
    Attendance,
    ExerciseEntry,
    LockedLogError,
    SessionLog,
    Signature,
    SigningRefused,
    Tolerance,
    attendance_summary,
    changed_fields,
    check_addendum_update_allowed,
    check_update_allowed,
    compute_flags,
    content_document,
    content_hash,
    filter_logs,
    make_addendum,
    override_needed,
    prefill_from_previous,
    session_volume,
    sign_log,
    signing_problems,
    unsigned_log_items,
    unsigned_older_than,
    verify_addendum,
    verify_signature,
)

CLIENT = "8a3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b"
SIT = "11111111-1111-4111-8111-111111111111"
ROW = "22222222-2222-4222-8222-222222222222"
BIKE = "33333333-3333-4333-8333-333333333333"
T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)

NOT_NEEDED = AcsmOutcome(
    decision=AcsmDecision.CLEARANCE_NOT_NECESSARY, guidance="g", explanation="e"
)
RECOMMENDED = AcsmOutcome(
    decision=AcsmDecision.CLEARANCE_RECOMMENDED, guidance="g", explanation="e"
)
REASON = "Dr Lee cleared by phone at 10:20 today"


def pre(sbp=128, dbp=78, hr=72, **kw) -> Vitals:
    return Vitals(
        timing=Timing.PRE,
        heart_rate_bpm=hr,
        systolic_mmhg=sbp,
        diastolic_mmhg=dbp,
        bp_position=BpPosition.SEATED,
        **kw,
    )


def entries() -> list[ExerciseEntry]:
    return [
        ExerciseEntry(
            exercise_id=SIT,
            exercise_name="Sit-to-stand",
            category=ExerciseCategory.FUNCTIONAL,
            sets=2,
            reps=10,
            assistance=AssistanceLevel.SUPERVISION,
            rpe=RpeRating(scale=RpeScale.BORG_6_20, value=12),
        ),
        ExerciseEntry(
            exercise_id=ROW,
            exercise_name="Band row",
            sets=3,
            reps=12,
            load=5,
            load_unit=LoadUnit.KG,
            modifications="seated",
        ),
        ExerciseEntry(
            exercise_id=BIKE,
            exercise_name="Recumbent bike",
            sets=1,
            duration_s=900,
            distance_m=4000,
            heart_rate_bpm=112,
            rpe=RpeRating(scale=RpeScale.CR10, value=3.5),
        ),
    ]


def full_log(**kw) -> SessionLog:
    data = dict(
        client_id=CLIENT,
        session_date=date(2025, 3, 10),
        start_time=time(10, 0),
        session_number=4,
        pre_vitals=pre(),
        pain=2,
        pain_previous=2,
        medication_changes="None reported",
        exercises=entries(),
        post_vitals=Vitals(
            timing=Timing.POST, heart_rate_bpm=84, systolic_mmhg=132, diastolic_mmhg=80
        ),
        recovery_notes="HR back to 84 bpm after 5 min seated",
        tolerance=Tolerance.WELL,
        response_notes="Completed all sets; steadier on sit-to-stand",
        plan_next="Progress band row to 6 kg",
        created_at=T0,
        updated_at=T0,
    )
    data.update(kw)
    return SessionLog(**data)


def signed(log=None, **kw) -> SessionLog:
    args = dict(
        signed_by="Dana Reyes",
        credentials="MS, ACSM-CEP",
        signed_at=T0 + timedelta(hours=1),
        screening_outcome=NOT_NEEDED,
        clearance=None,
    )
    args.update(kw)
    return sign_log(log or full_log(), **args)


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vitals", "field", "message"),
    [
        (
            {"systolic_mmhg": 300, "diastolic_mmhg": 20},
            "pre_vitals.diastolic_mmhg",
            "Diastolic pressure must be between 30 and 200 mmHg: check the reading",
        ),
        (
            {"systolic_mmhg": 310, "diastolic_mmhg": 90},
            "pre_vitals.systolic_mmhg",
            "Systolic pressure must be between 50 and 300 mmHg: check the reading",
        ),
        (
            {"heart_rate_bpm": 400},
            "pre_vitals.heart_rate_bpm",
            "Heart rate must be between 20 and 300 bpm: check the reading",
        ),
    ],
)
def test_physiologically_impossible_vitals_are_refused_with_a_plain_message(vitals, field, message):
    """BP 300/20 and HR 400 (issue 5 quality bar) cannot be stored in a log."""
    with pytest.raises(ValidationError) as exc:
        SessionLog.model_validate(
            {
                "client_id": CLIENT,
                "session_date": "2025-03-10",
                "pre_vitals": {"timing": "pre", **vitals},
            }
        )
    assert field_errors(exc.value)[field] == message


def test_heart_rate_400_in_an_exercise_entry_is_refused():
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry(
            exercise_id=BIKE, exercise_name="Bike", sets=1, duration_s=60, heart_rate_bpm=400
        )
    assert "between 20 and 300 bpm" in str(exc.value)


def test_bp_210_100_is_accepted_and_flagged_as_a_hard_stop():
    """Alarming but plausible: stored, and flagged (> 200 systolic, > 180 crisis)."""
    log = full_log(pre_vitals=pre(210, 100), exercises=[])
    flags = compute_flags(log)
    codes = {f.code for f in flags}
    assert {FlagCode.RESTING_BP_CONTRAINDICATION, FlagCode.HYPERTENSIVE_CRISIS} <= codes
    assert flags[0].severity is Severity.HARD_STOP
    assert "Do not exercise today" in flags[0].what_to_do


def test_pain_outside_0_to_10_is_refused():
    with pytest.raises(ValidationError) as exc:
        full_log(pain=11)
    assert field_errors(exc.value)["pain"] == "Pain must be a whole number from 0 (no pain) to 10"


def test_a_reading_entered_with_the_wrong_timing_is_refused():
    with pytest.raises(ValidationError, match="marked 'after exercise'"):
        full_log(pre_vitals=Vitals(timing=Timing.POST, heart_rate_bpm=80))


def test_an_exercise_entry_needs_reps_or_a_time_or_distance():
    with pytest.raises(ValidationError, match="Sit-to-stand: enter sets × reps"):
        ExerciseEntry(exercise_id=SIT, exercise_name="Sit-to-stand", sets=2)


def test_a_load_needs_its_unit():
    with pytest.raises(ValidationError, match="Choose the unit of the load"):
        ExerciseEntry(exercise_id=ROW, exercise_name="Row", sets=1, reps=10, load=5)


def test_rpe_is_stored_with_its_scale_and_range_checked():
    e = entries()[2]
    assert e.rpe.text == "RPE 3.5 (Borg CR10 (0–10))"
    with pytest.raises(ValidationError, match="Borg 6–20 scale"):
        ExerciseEntry(
            exercise_id=SIT,
            exercise_name="Sit",
            sets=1,
            reps=5,
            rpe={"scale": "borg_6_20", "value": 21},
        )


def test_a_cancelled_session_needs_a_reason_and_has_no_exercises():
    with pytest.raises(ValidationError) as exc:
        SessionLog(
            client_id=CLIENT, session_date=date(2025, 3, 10), attendance=Attendance.CANCELLED
        )
    assert "Give the reason for the cancellation" in str(exc.value)
    with pytest.raises(ValidationError, match="no vitals, exercises or tolerance"):
        full_log(attendance=Attendance.NO_SHOW)
    ok = SessionLog(
        client_id=CLIENT,
        session_date=date(2025, 3, 10),
        attendance=Attendance.NO_SHOW,
    )
    assert ok.attendance is Attendance.NO_SHOW


def test_symptom_lists_are_stored_as_sorted_sets():
    """Canonical order, so the same symptoms always hash the same."""
    log = full_log(symptoms=[Symptom.PALPITATIONS, Symptom.CHEST_PAIN, Symptom.PALPITATIONS])
    assert log.symptoms == [Symptom.CHEST_PAIN, Symptom.PALPITATIONS]


# --- signing: flags, overrides, clearance ---------------------------------------------


def test_signing_stores_flags_snapshot_signature_and_clearance_status():
    log = signed(full_log(pain=4, pain_previous=2))
    assert log.is_signed and verify_signature(log)
    assert [f.code for f in log.safety_flags] == [FlagCode.PAIN_WORSE]
    assert log.signature.signed_by == "Dana Reyes"
    assert log.signature.credentials == "MS, ACSM-CEP"
    assert log.signature.signed_at == T0 + timedelta(hours=1)
    assert log.clearance_status.startswith("Medical clearance is not needed")
    assert len(log.signature.content_hash) == 64


def test_signing_needs_a_name():
    with pytest.raises(SigningRefused) as exc:
        signed(signed_by="   ")
    assert exc.value.errors == {"signed_by": "Type your name to sign"}


def test_exercising_despite_a_pre_exercise_hard_stop_needs_a_recorded_reason():
    log = full_log(pre_vitals=pre(210, 100), action_taken="Rechecked after 5 min; called Dr Lee")
    assert override_needed(log)
    with pytest.raises(SigningRefused) as exc:
        signed(log)
    assert "needs a recorded reason" in exc.value.errors["safety_override"]
    codes = frozenset({FlagCode.RESTING_BP_CONTRAINDICATION, FlagCode.HYPERTENSIVE_CRISIS})
    ok = signed(
        log.model_copy(update={"safety_override": SafetyOverride(flag_codes=codes, reason=REASON)})
    )
    assert ok.safety_override.reason == REASON and verify_signature(ok)


def test_an_override_must_cover_every_pre_exercise_stop():
    log = full_log(
        pre_vitals=pre(210, 100),
        action_taken="Called Dr Lee's office",
        safety_override=SafetyOverride(
            flag_codes=frozenset({FlagCode.HYPERTENSIVE_CRISIS}), reason=REASON
        ),
    )
    with pytest.raises(SigningRefused) as exc:
        signed(log)
    assert "Resting blood pressure above the exercise limit" in exc.value.errors["safety_override"]


def test_an_override_reason_that_is_too_short_is_refused():
    with pytest.raises(ValidationError, match="at least 3 words"):
        SafetyOverride(flag_codes=frozenset({FlagCode.HYPERTENSIVE_CRISIS}), reason="ok")


def test_a_hard_stop_without_exercise_needs_no_override_but_needs_the_action_taken():
    """Client sent home with BP 210/100: nothing was acted against; the action is recorded."""
    log = full_log(pre_vitals=pre(210, 100), exercises=[], tolerance=None)
    assert not override_needed(log)
    with pytest.raises(SigningRefused) as exc:
        signed(log)
    assert set(exc.value.errors) == {"action_taken"}
    ok = signed(log.model_copy(update={"action_taken": "Sent home; called Dr Lee at 10:20"}))
    assert ok.hard_stops and ok.safety_override is None


def test_an_override_recorded_when_nothing_was_acted_against_is_refused():
    log = full_log(
        safety_override=SafetyOverride(
            flag_codes=frozenset({FlagCode.HYPERTENSIVE_CRISIS}), reason=REASON
        )
    )
    with pytest.raises(SigningRefused) as exc:
        signed(log)
    assert "clear it" in exc.value.errors["safety_override"]


def test_a_stop_during_exercise_needs_the_action_taken_not_an_override():
    """SBP falls 11 mmHg (> 10, §3B) during exercise: already exercising, so no override."""
    log = full_log(
        during_vitals=[Vitals(timing=Timing.DURING, systolic_mmhg=117, diastolic_mmhg=76)],
        tolerance=Tolerance.STOPPED_EARLY,
    )
    assert not override_needed(log)
    with pytest.raises(SigningRefused) as exc:
        signed(log)
    assert set(exc.value.errors) == {"action_taken"}
    ok = signed(log.model_copy(update={"action_taken": "Stopped; seated; BP 126/78 at 5 min"}))
    assert FlagCode.SBP_DROP_DURING_EXERCISE in {f.code for f in ok.safety_flags}


def test_clearance_recommended_and_not_received_needs_a_reason():
    with pytest.raises(SigningRefused) as exc:
        signed(screening_outcome=RECOMMENDED, clearance=None)
    assert "Medical clearance recommended" in exc.value.errors["clearance_override_reason"]
    with pytest.raises(SigningRefused) as exc:
        signed(full_log(clearance_override_reason="asked"), screening_outcome=RECOMMENDED)
    assert "at least 3 words" in exc.value.errors["clearance_override_reason"]
    ok = signed(full_log(clearance_override_reason=REASON), screening_outcome=RECOMMENDED)
    assert ok.clearance_status.endswith(f"Reason given: {REASON}")


def test_clearance_received_allows_signing_and_is_recorded():
    clearance = Clearance(
        client_id=CLIENT,
        requested_on=date(2025, 2, 1),
        received_on=date(2025, 2, 20),
        restrictions="No overhead lifting",
    )
    ok = signed(screening_outcome=RECOMMENDED, clearance=clearance)
    assert "received on 2025-02-20" in ok.clearance_status
    assert "No overhead lifting" in ok.clearance_status


def test_no_screening_on_file_needs_a_reason():
    with pytest.raises(SigningRefused) as exc:
        signed(screening_outcome=None)
    assert "No pre-participation screening" in exc.value.errors["clearance_override_reason"]


def test_a_clearance_reason_when_clearance_is_not_outstanding_is_refused():
    with pytest.raises(SigningRefused) as exc:
        signed(full_log(clearance_override_reason=REASON))
    assert "not outstanding" in exc.value.errors["clearance_override_reason"]


def test_a_no_show_needs_no_clearance():
    log = SessionLog(
        client_id=CLIENT, session_date=date(2025, 3, 10), attendance=Attendance.NO_SHOW
    )
    ok = signed(log, screening_outcome=RECOMMENDED)
    assert ok.is_signed and ok.clearance_status.startswith("Not applicable")


def test_signing_problems_reports_every_problem_at_once():
    log = full_log(pre_vitals=pre(210, 100))
    errors, flags, _, _ = signing_problems(log, RECOMMENDED, None)
    assert set(errors) == {"safety_override", "action_taken", "clearance_override_reason"}
    assert flags[0].is_hard_stop


def test_a_signed_log_cannot_be_signed_again():
    with pytest.raises(SigningRefused, match="already signed"):
        signed(signed())


# --- the lock invariant --------------------------------------------------------------

CHANGES = {
    "client_id": "9b3f0c1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b",
    "episode_id": "x",
    "session_date": date(2025, 3, 11),
    "start_time": time(11, 0),
    "session_number": 5,
    "attendance_reason": "late",
    "pre_vitals": pre(130, 78),
    "symptoms": [Symptom.UNUSUAL_FATIGUE],
    "msk_red_flags": [MskRedFlag.HISTORY_OF_CANCER],
    "has_diabetes": True,
    "bp_check_needed": True,
    "severe_hypo_last_24h": True,
    "pain": 3,
    "pain_previous": 1,
    "medication_changes": "Started lisinopril",
    "target_hr_text": "Use RPE",
    "exercises": entries()[:2],
    "during_vitals": [Vitals(timing=Timing.DURING, heart_rate_bpm=110)],
    "symptoms_during": [Symptom.LEG_CRAMPS],
    "post_vitals": None,
    "recovery_notes": "x",
    "tolerance": Tolerance.POORLY,
    "response_notes": "x",
    "adverse_events": "x",
    "action_taken": "x",
    "plan_next": "x",
    "home_program_days": 3,
    "safety_flags": [make_flag(FlagCode.PAIN_WORSE, "Pain 4/10 now, 2/10 last time")],
    "safety_override": SafetyOverride(
        flag_codes=frozenset({FlagCode.HYPERTENSIVE_CRISIS}), reason=REASON
    ),
    "clearance_status": "x",
    "clearance_override_reason": REASON,
    "package_use": "not_counted",
    "billing": "billed",
    "signature": None,
    "created_at": T0 - timedelta(days=1),
    "schema_version": 2,
}


def test_every_field_of_session_log_is_covered_by_the_lock_test():
    """A new field must be added to CHANGES, so the lock test covers it too."""
    assert set(CHANGES) | {"id", "updated_at", "attendance"} == set(SessionLog.model_fields)


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_any_field_change_on_a_signed_log_is_refused(field):
    original = signed()
    changed = original.model_copy(update={field: CHANGES[field]})
    assert changed_fields(original, changed) == [field]
    with pytest.raises(
        LockedLogError, match=f"is locked: it cannot be changed \\(changed: {field}\\)"
    ):
        check_update_allowed(original, changed)


def test_changing_attendance_of_a_signed_log_is_refused():
    original = signed(
        SessionLog(client_id=CLIENT, session_date=date(2025, 3, 10), attendance=Attendance.NO_SHOW)
    )
    changed = original.model_copy(
        update={"attendance": Attendance.CANCELLED, "attendance_reason": "ill"}
    )
    with pytest.raises(LockedLogError):
        check_update_allowed(original, changed)


def test_a_change_inside_a_nested_exercise_is_refused():
    original = signed()
    exercises = [e.model_copy() for e in original.exercises]
    exercises[1] = exercises[1].model_copy(update={"load": 6.0})
    with pytest.raises(LockedLogError, match="changed: exercises"):
        check_update_allowed(original, original.model_copy(update={"exercises": exercises}))


def test_re_signing_a_changed_log_with_a_fresh_hash_is_still_refused():
    """Even with a valid new signature, a signed log cannot be replaced."""
    original = signed()
    forged = signed(original.model_copy(update={"signature": None, "pain": 0}))
    assert verify_signature(forged)
    with pytest.raises(LockedLogError, match="locked"):
        check_update_allowed(original, forged)


def test_an_identical_re_save_is_allowed_even_with_a_new_updated_at():
    original = signed()
    again = SessionLog.model_validate_json(original.model_dump_json())
    check_update_allowed(original, again)
    check_update_allowed(original, again.model_copy(update={"updated_at": T0 + timedelta(days=3)}))


def test_drafts_can_be_edited_and_signed():
    draft = full_log()
    check_update_allowed(draft, draft.model_copy(update={"pain": 3}))
    check_update_allowed(draft, signed(draft))
    check_update_allowed(None, draft)


def test_verify_detects_tampering_with_content_signer_or_time():
    log = signed()
    assert verify_signature(log)
    assert not verify_signature(log.model_copy(update={"pain": 0}))
    sig = log.signature
    assert not verify_signature(
        log.model_copy(update={"signature": sig.model_copy(update={"signed_by": "Someone Else"})})
    )
    assert not verify_signature(
        log.model_copy(
            update={
                "signature": sig.model_copy(
                    update={"signed_at": sig.signed_at + timedelta(minutes=1)}
                )
            }
        )
    )
    assert not verify_signature(full_log())  # unsigned


def test_a_tampered_signed_log_cannot_be_imported():
    tampered = signed().model_copy(update={"plan_next": "Skip bike"})
    with pytest.raises(LockedLogError, match="does not match its signature"):
        check_update_allowed(None, tampered)


def test_a_signature_cannot_be_moved_to_another_log():
    log = signed()
    other = full_log()
    moved = other.model_copy(
        update={
            "signature": log.signature,
            "safety_flags": log.safety_flags,
            "clearance_status": log.clearance_status,
        }
    )
    assert not verify_signature(moved)


def test_the_hash_survives_a_json_round_trip():
    log = signed()
    restored = SessionLog.model_validate_json(log.model_dump_json())
    assert verify_signature(restored)


def test_the_hash_is_of_canonical_content_not_of_bookkeeping():
    log = signed()
    assert verify_signature(log.model_copy(update={"updated_at": T0 + timedelta(days=9)}))
    sig = log.signature
    assert content_hash(log, sig.signed_by, sig.credentials, sig.signed_at) == sig.content_hash


def test_override_flag_codes_are_hashed_in_a_fixed_order():
    """Sets dump in hash order, which differs between processes: the hash must not."""
    codes = [FlagCode.RESTING_BP_CONTRAINDICATION, FlagCode.HYPERTENSIVE_CRISIS]
    log = full_log(
        pre_vitals=pre(210, 100),
        action_taken="Called Dr Lee",
        safety_override=SafetyOverride(flag_codes=frozenset(codes), reason=REASON),
    )
    doc = content_document(log)
    assert doc["safety_override"]["flag_codes"] == sorted(c.value for c in codes)


def test_a_signature_time_without_time_zone_is_refused():
    with pytest.raises(ValidationError, match="time zone"):
        Signature(signed_by="A", signed_at=datetime(2025, 1, 1), content_hash="0" * 64)


# --- addenda --------------------------------------------------------------------------


def test_an_addendum_is_signed_and_never_touches_the_log():
    log = signed()
    before = log.model_dump_json()
    a = make_addendum(
        log,
        "Band row load was 6 kg, not 5 kg.",
        author="Dana Reyes",
        credentials="MS",
        signed_at=T0 + timedelta(days=1),
    )
    assert log.model_dump_json() == before
    assert a.session_log_id == log.id and a.client_id == log.client_id
    assert verify_addendum(a)
    assert not verify_addendum(a.model_copy(update={"text": "Band row load was 7 kg."}))


def test_an_addendum_needs_a_signed_log_and_text():
    with pytest.raises(ValueError, match="not signed yet"):
        make_addendum(full_log(), "x", author="Dana", signed_at=T0)
    with pytest.raises(ValidationError, match="Write the addendum"):
        make_addendum(signed(), "   ", author="Dana", signed_at=T0)


def test_an_addendum_cannot_be_changed_once_saved():
    a = make_addendum(
        signed(), "Late entry: client reported mild DOMS.", author="Dana", signed_at=T0
    )
    check_addendum_update_allowed(None, a)
    check_addendum_update_allowed(a, Addendum.model_validate_json(a.model_dump_json()))
    edited = a.model_copy(update={"text": "Changed"})
    with pytest.raises(LockedLogError):
        check_addendum_update_allowed(a, edited)


# --- prefill --------------------------------------------------------------------------


def library() -> list[Exercise]:
    return [
        Exercise(
            id=SIT,
            name="Chair stand",
            category=ExerciseCategory.FUNCTIONAL,
            defaults=Dosage(sets=1, reps=5),
        ),
        Exercise(
            id=ROW,
            name="Band row",
            category=ExerciseCategory.STRENGTH,
            defaults=Dosage(sets=2, reps=12),
            modality="band",
        ),
        Exercise(
            id="44444444-4444-4444-8444-444444444444",
            name="Heel raise",
            category=ExerciseCategory.STRENGTH,
            defaults=Dosage(sets=2, reps=12),
        ),
    ]


def test_prefill_uses_last_times_parameters_and_todays_names():
    """'Same as last time': sets/reps/load from the previous log, names from the library."""
    prev = signed(full_log(pain=3))
    draft = prefill_from_previous(prev, library(), session_date=date(2025, 3, 12))
    assert [e.exercise_name for e in draft.exercises] == ["Chair stand", "Band row", "Heel raise"]
    sit, row, heel = draft.exercises
    assert (sit.sets, sit.reps, sit.assistance) == (2, 10, AssistanceLevel.SUPERVISION)
    assert (row.sets, row.reps, row.load, row.load_unit) == (3, 12, 5.0, LoadUnit.KG)
    assert row.modifications == "seated"
    assert (heel.sets, heel.reps) == (2, 12)  # not done last time: library default
    assert draft.pain_previous == 3 and draft.session_number == 5
    assert draft.client_id == CLIENT and not draft.is_signed


def test_prefill_never_copies_measurements():
    """Vitals, symptoms, pain, RPE and HR are measured fresh each session."""
    prev = signed(full_log())
    draft = prefill_from_previous(prev, [], session_date=date(2025, 3, 12))
    assert draft.pre_vitals is None and draft.post_vitals is None and draft.during_vitals == []
    assert draft.symptoms == [] and draft.pain is None and draft.tolerance is None
    assert all(e.rpe is None and e.heart_rate_bpm is None for e in draft.exercises)
    assert [e.exercise_name for e in draft.exercises] == [
        "Sit-to-stand",
        "Band row",
        "Recumbent bike",
    ]
    assert draft.safety_flags == [] and draft.signature is None


def test_prefill_for_a_first_session_uses_the_program_defaults():
    draft = prefill_from_previous(None, library(), client_id=CLIENT, session_date=date(2025, 3, 1))
    assert [(e.sets, e.reps) for e in draft.exercises] == [(1, 5), (2, 12), (2, 12)]
    assert draft.exercises[1].modality == "band"
    with pytest.raises(ValueError, match="which client"):
        prefill_from_previous(None, library())


def test_prefill_after_a_no_show_keeps_the_program_defaults():
    prev = SessionLog(
        client_id=CLIENT, session_date=date(2025, 3, 10), attendance=Attendance.NO_SHOW
    )
    draft = prefill_from_previous(prev, library()[:1], session_date=date(2025, 3, 12))
    assert (draft.exercises[0].sets, draft.exercises[0].reps) == (1, 5)


def test_renaming_an_exercise_does_not_change_a_past_log():
    log = signed()
    renamed = library()[0].model_copy(update={"name": "Chair rise"})
    assert renamed.name == "Chair rise"
    assert log.exercises[0].exercise_name == "Sit-to-stand" and verify_signature(log)


# --- volume ---------------------------------------------------------------------------


def test_session_volume_per_exercise_and_overall():
    v = session_volume(full_log())
    per = {e.exercise_id: e for e in v.exercises}
    assert (per[SIT].sets, per[SIT].reps, per[SIT].volume_load) == (2, 20, None)
    assert (per[ROW].reps, per[ROW].volume_load, per[ROW].load_unit) == (36, 180.0, "kg")  # 3×12×5
    assert (per[BIKE].duration_s, per[BIKE].distance_m) == (900, 4000.0)
    assert (v.total_sets, v.total_reps, v.volume_load_kg) == (6, 56, 180.0)
    assert v.duration_s == 900


def test_volume_converts_pounds_for_the_overall_total_and_adds_repeated_exercises():
    log = full_log(
        exercises=[
            ExerciseEntry(
                exercise_id=ROW,
                exercise_name="Row",
                sets=2,
                reps=10,
                load=10,
                load_unit=LoadUnit.LB,
            ),
            ExerciseEntry(
                exercise_id=ROW,
                exercise_name="Row",
                sets=1,
                reps=10,
                load=10,
                load_unit=LoadUnit.LB,
            ),
            ExerciseEntry(
                exercise_id=BIKE,
                exercise_name="Bike",
                sets=1,
                reps=1,
                load=50,
                load_unit=LoadUnit.WATTS,
            ),
        ]
    )
    v = session_volume(log)
    row = next(e for e in v.exercises if e.exercise_id == ROW)
    assert row.volume_load == 300.0 and row.load_unit == "lb"
    assert v.volume_load_kg == pytest.approx(300 * 0.45359237)  # watts have no volume load


def test_a_cancelled_session_has_no_volume():
    log = SessionLog(
        client_id=CLIENT,
        session_date=date(2025, 3, 10),
        attendance=Attendance.CANCELLED,
        attendance_reason="ill",
    )
    assert session_volume(log).total_sets == 0


# --- attendance -----------------------------------------------------------------------


def _att(kind: Attendance, day: int) -> SessionLog:
    if kind is Attendance.ATTENDED:
        return full_log(session_date=date(2025, 3, day))
    return SessionLog(
        client_id=CLIENT, session_date=date(2025, 3, day), attendance=kind, attendance_reason="ill"
    )


def test_attendance_summary_counts_and_rate():
    logs = [_att(Attendance.ATTENDED, d) for d in (1, 3, 5, 8, 10, 12)]
    logs += [_att(Attendance.CANCELLED, 15), _att(Attendance.NO_SHOW, 17)]
    s = attendance_summary(logs, planned=10)
    assert (s.planned, s.attended, s.cancelled, s.no_show, s.logged) == (10, 6, 1, 1, 8)
    assert s.rate == 0.6
    assert s.text == "6 of 10 planned sessions attended (60%); 1 cancelled, 1 no-show"
    assert attendance_summary(logs).rate == 6 / 8  # planned unknown: logged sessions count
    assert attendance_summary([], planned=0).rate is None


def test_filter_logs_by_date_range_and_attendance_newest_first():
    logs = [_att(Attendance.ATTENDED, 1), _att(Attendance.NO_SHOW, 5), _att(Attendance.ATTENDED, 9)]
    out = filter_logs(logs, date_from=date(2025, 3, 1), date_to=date(2025, 3, 5))
    assert [lg.session_date.day for lg in out] == [5, 1]  # inclusive, newest first
    out = filter_logs(logs, attendance=Attendance.ATTENDED)
    assert [lg.session_date.day for lg in out] == [9, 1]


# --- unsigned > 24 h ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "listed"),
    [
        (timedelta(hours=24) - timedelta(seconds=1), False),
        (timedelta(hours=24), False),  # "older than 24 h": exactly 24 h is not yet late
        (timedelta(hours=24) + timedelta(seconds=1), True),
    ],
)
def test_unsigned_logs_are_listed_only_when_older_than_24_hours(age, listed):
    """24 h after the session (10 March, 10:00 on the device's clock), not after the draft."""
    log = full_log(created_at=T0)
    session = datetime(2025, 3, 10, 10, 0)
    assert (unsigned_older_than([log], T0 + age + timedelta(days=5), session + age) == [log]) is (
        listed
    )


def test_signed_logs_never_show_as_unsigned():
    assert unsigned_older_than([signed()], T0 + timedelta(days=30)) == []


def test_unsigned_dashboard_item_names_the_client():
    items = unsigned_log_items([full_log()], T0 + timedelta(days=2), {CLIENT: "Ana Lopez"})
    assert items[0].title == "Unsigned session log: Ana Lopez, Mar 10, 2025"
    assert items[0].since == T0 and items[0].kind == "unsigned_log"


def test_several_late_logs_of_one_client_are_one_item_on_their_sessions_list():
    """However many logs wait for a signature, the home screen lists each client once."""
    other = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
    logs = [
        full_log(session_date=date(2025, 3, 10), created_at=T0),
        full_log(session_date=date(2025, 3, 3), created_at=T0 - timedelta(days=7)),
        full_log(session_date=date(2025, 3, 5), created_at=T0 - timedelta(days=5)),
        full_log(client_id=other, session_date=date(2025, 3, 4), created_at=T0),
        signed(),
    ]
    items = unsigned_log_items(
        logs, T0 + timedelta(days=2), {CLIENT: "Ana Lopez", other: "Ben Ode"}
    )
    assert [i.title for i in items] == [
        "3 unsigned session logs: Ana Lopez",
        "Unsigned session log: Ben Ode, Mar 4, 2025",
    ]
    grouped, single = items
    assert grouped.detail.startswith("The oldest is from Mar 3, 2025.")
    assert grouped.since == T0 - timedelta(days=7)  # the oldest draft
    assert grouped.link == ("client-sessions", {"id": CLIENT})
    assert single.link == ("session", {"id": logs[3].id})
