"""PAR-Q+ page 1, the ACSM 2015 pre-participation algorithm, and clearance tracking."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from pydantic import ValidationError

from medex.forms import field_errors
from medex.screening import (
    DIABETES_NOTE,
    PARQ_PAGE1_LABELS,
    AcsmDecision,
    AcsmOutcome,
    AcsmScreeningInputs,
    Clearance,
    Intensity,
    ParqAnswers,
    ParqStatus,
    ScreeningRecord,
    SignOrSymptom,
    acsm_screening,
    cleared_within_12_months,
    diabetes_note,
    parq_outcome,
    session_logging_allowed,
)

# ---------------------------------------------------------------------------------------------
# PAR-Q+
# ---------------------------------------------------------------------------------------------

ALL_NO = dict.fromkeys(PARQ_PAGE1_LABELS, False)


def test_parq_page1_has_the_seven_questions_as_short_labels():
    """Seven page-1 items, each a short label (no question text: it is copyrighted)."""
    assert len(PARQ_PAGE1_LABELS) == 7
    answer_fields = set(ParqAnswers.model_fields) - {"follow_up_any_yes", "version_year"}
    assert set(PARQ_PAGE1_LABELS) == answer_fields
    for label in PARQ_PAGE1_LABELS.values():
        assert "?" not in label and len(label) <= 80
        assert "Has your doctor" not in label and "Do you" not in label


def test_parq_all_no_is_cleared_for_activity():
    """§2B: IF all 7 == NO: cleared_for_PA -> sign declaration (page 4); start slowly."""
    result = parq_outcome(ParqAnswers(**ALL_NO))
    assert result.status is ParqStatus.CLEARED
    assert "page 4" in result.guidance and "starts slowly" in result.guidance
    assert result.yes_answers == []


@pytest.mark.parametrize("question", list(PARQ_PAGE1_LABELS))
def test_parq_any_single_yes_needs_pages_2_and_3(question):
    """§2B: IF any == YES: complete pages 2–3 — for each of the 7 questions on its own."""
    result = parq_outcome(ParqAnswers(**{**ALL_NO, question: True}))
    assert result.status is ParqStatus.COMPLETE_FOLLOW_UP
    assert "pages 2–3" in result.guidance
    assert result.yes_answers == [PARQ_PAGE1_LABELS[question]]


def test_parq_follow_ups_all_no_is_ready_to_be_more_active():
    """§2B: all follow-ups NO -> ready to become more active; QEP advised; 20–60 min, 3–5 d/wk."""
    answers = ParqAnswers(**{**ALL_NO, "chest_pain": True}, follow_up_any_yes=False)
    result = parq_outcome(answers)
    assert result.status is ParqStatus.READY_TO_BE_MORE_ACTIVE
    assert "20–60 minutes" in result.guidance and "3–5 days a week" in result.guidance
    assert "Over 45" in result.guidance


def test_parq_any_follow_up_yes_seeks_further_information():
    """§2B: any follow-up YES -> seek further information; ePARmed-X+ and/or QEP."""
    answers = ParqAnswers(**{**ALL_NO, "chest_pain": True}, follow_up_any_yes=True)
    result = parq_outcome(answers)
    assert result.status is ParqStatus.SEEK_FURTHER_INFORMATION
    assert "ePARmed-X+" in result.guidance


def test_parq_follow_up_answer_without_a_page1_yes_is_refused():
    with pytest.raises(ValidationError) as exc:
        ParqAnswers(**ALL_NO, follow_up_any_yes=False)
    assert "only completed after a Yes on page 1" in field_errors(exc.value)["__all__"]


def test_parq_unanswered_question_is_required_not_assumed_no():
    data = {k: v for k, v in ALL_NO.items() if k != "chest_pain"}
    with pytest.raises(ValidationError) as exc:
        ParqAnswers(**data)
    assert field_errors(exc.value) == {"chest_pain": "This field is required"}


@pytest.mark.parametrize(("year", "ok"), [(2010, False), (2011, True), (2025, True)])
def test_parq_version_year_is_plausible(year, ok):
    """The form's version year is stored (it is revised yearly); the PAR-Q+ dates from 2011."""
    if ok:
        assert ParqAnswers(**ALL_NO, version_year=year).version_year == year
    else:
        with pytest.raises(ValidationError):
            ParqAnswers(**ALL_NO, version_year=year)


# ---------------------------------------------------------------------------------------------
# ACSM algorithm: every combination, expected results derived by hand from clinical.md §2A
# ---------------------------------------------------------------------------------------------

NOT, REC, DISC = (
    AcsmDecision.CLEARANCE_NOT_NECESSARY,
    AcsmDecision.CLEARANCE_RECOMMENDED,
    AcsmDecision.DISCONTINUE_AND_SEEK_CLEARANCE,
)
GUIDANCE = {
    "start": "Light-to-moderate intensity is recommended; the client may progress gradually to "
    "vigorous intensity following ACSM guidelines.",
    "after_lm": "After medical clearance: light-to-moderate intensity, progressing gradually as "
    "tolerated.",
    "cont_mv": "Continue at moderate or vigorous intensity, progressing gradually following ACSM "
    "guidelines.",
    "cont_mod": "Continue at moderate intensity or lighter. Medical clearance is recommended "
    "before moving up to vigorous intensity.",
    "vig_after": "After medical clearance: progress gradually to vigorous intensity as tolerated.",
    "vig_cleared": "Covered by the medical clearance from the last 12 months: progress gradually "
    "to vigorous intensity as tolerated.",
    "return": "Stop exercising until medically cleared. After clearance the client may return to "
    "exercise, progressing gradually as tolerated.",
}
L, M, V = Intensity.LIGHT, Intensity.MODERATE, Intensity.VIGOROUS
N, Y = False, True

# (exercises_regularly, known_cmr_disease, symptomatic, desired_intensity,
#  cleared_within_12_months) -> (decision, guidance)
ACSM_TABLE = [
    # Not exercising, no disease, no symptoms: NOT_NECESSARY, light-to-moderate, may progress.
    (N, N, N, L, N, NOT, "start"),
    (N, N, N, L, Y, NOT, "start"),
    (N, N, N, M, N, NOT, "start"),
    (N, N, N, M, Y, NOT, "start"),
    (N, N, N, V, N, NOT, "start"),
    (N, N, N, V, Y, NOT, "start"),
    # Not exercising, known disease, no symptoms: RECOMMENDED at any intensity.
    (N, Y, N, L, N, REC, "after_lm"),
    (N, Y, N, L, Y, REC, "after_lm"),
    (N, Y, N, M, N, REC, "after_lm"),
    (N, Y, N, M, Y, REC, "after_lm"),
    (N, Y, N, V, N, REC, "after_lm"),
    (N, Y, N, V, Y, REC, "after_lm"),
    # Not exercising, symptomatic (with or without disease): RECOMMENDED.
    (N, N, Y, L, N, REC, "after_lm"),
    (N, N, Y, L, Y, REC, "after_lm"),
    (N, N, Y, M, N, REC, "after_lm"),
    (N, N, Y, M, Y, REC, "after_lm"),
    (N, N, Y, V, N, REC, "after_lm"),
    (N, N, Y, V, Y, REC, "after_lm"),
    (N, Y, Y, L, N, REC, "after_lm"),
    (N, Y, Y, L, Y, REC, "after_lm"),
    (N, Y, Y, M, N, REC, "after_lm"),
    (N, Y, Y, M, Y, REC, "after_lm"),
    (N, Y, Y, V, N, REC, "after_lm"),
    (N, Y, Y, V, Y, REC, "after_lm"),
    # Exercising, no disease, no symptoms: NOT_NECESSARY, continue moderate or vigorous.
    (Y, N, N, L, N, NOT, "cont_mv"),
    (Y, N, N, L, Y, NOT, "cont_mv"),
    (Y, N, N, M, N, NOT, "cont_mv"),
    (Y, N, N, M, Y, NOT, "cont_mv"),
    (Y, N, N, V, N, NOT, "cont_mv"),
    (Y, N, N, V, Y, NOT, "cont_mv"),
    # Exercising, known disease, no symptoms: moderate (and light) NOT_NECESSARY; vigorous
    # RECOMMENDED unless cleared within the last 12 months.
    (Y, Y, N, L, N, NOT, "cont_mod"),
    (Y, Y, N, L, Y, NOT, "cont_mod"),
    (Y, Y, N, M, N, NOT, "cont_mod"),
    (Y, Y, N, M, Y, NOT, "cont_mod"),
    (Y, Y, N, V, N, REC, "vig_after"),
    (Y, Y, N, V, Y, NOT, "vig_cleared"),
    # Exercising, symptomatic (with or without disease): DISCONTINUE and seek clearance.
    (Y, N, Y, L, N, DISC, "return"),
    (Y, N, Y, L, Y, DISC, "return"),
    (Y, N, Y, M, N, DISC, "return"),
    (Y, N, Y, M, Y, DISC, "return"),
    (Y, N, Y, V, N, DISC, "return"),
    (Y, N, Y, V, Y, DISC, "return"),
    (Y, Y, Y, L, N, DISC, "return"),
    (Y, Y, Y, L, Y, DISC, "return"),
    (Y, Y, Y, M, N, DISC, "return"),
    (Y, Y, Y, M, Y, DISC, "return"),
    (Y, Y, Y, V, N, DISC, "return"),
    (Y, Y, Y, V, Y, DISC, "return"),
]


def _inputs(regular, disease, symptomatic, intensity, cleared, **extra) -> AcsmScreeningInputs:
    return AcsmScreeningInputs(
        exercises_regularly=regular,
        known_cmr_disease=disease,
        symptomatic=symptomatic,
        desired_intensity=intensity,
        cleared_within_12_months=cleared,
        **extra,
    )


def test_acsm_table_covers_the_full_cartesian_product_once():
    keys = [row[:5] for row in ACSM_TABLE]
    assert len(keys) == len(set(keys)) == 48
    assert set(keys) == set(itertools.product([N, Y], [N, Y], [N, Y], [L, M, V], [N, Y]))


@pytest.mark.parametrize(
    ("regular", "disease", "symptomatic", "intensity", "cleared", "decision", "guidance"),
    ACSM_TABLE,
)
def test_acsm_every_combination_matches_the_pseudo_code(
    regular, disease, symptomatic, intensity, cleared, decision, guidance
):
    """Each of the 48 input combinations gives the decision and guidance of §2A."""
    outcome = acsm_screening(_inputs(regular, disease, symptomatic, intensity, cleared))
    assert outcome.decision is decision
    assert outcome.guidance == GUIDANCE[guidance]
    assert outcome.needs_clearance is (decision is not NOT)
    assert ("Riebe" in outcome.citation) and ("2473" in outcome.citation)
    # The discontinue branch's verbatim wording is UNCONFIRMED: say so, only there.
    assert (outcome.wording_note is not None) is (decision is DISC)
    assert outcome.diabetes_note is None


@pytest.mark.parametrize(
    ("regular", "disease", "symptomatic", "phrases"),
    [
        (N, N, N, ["Not exercising regularly", "no known", "no signs or symptoms"]),
        (N, Y, N, ["Not exercising regularly", "has known", "no signs or symptoms"]),
        (Y, N, Y, ["Exercises regularly", "signs or symptoms suggestive", "whatever the disease"]),
    ],
)
def test_acsm_explanation_names_the_branch(regular, disease, symptomatic, phrases):
    explanation = acsm_screening(_inputs(regular, disease, symptomatic, M, N)).explanation
    for phrase in phrases:
        assert phrase in explanation


def test_acsm_explanation_lists_the_ticked_symptoms():
    inputs = _inputs(Y, N, Y, M, N, symptoms=[SignOrSymptom.INTERMITTENT_CLAUDICATION])
    assert "intermittent claudication" in acsm_screening(inputs).explanation


def test_acsm_explanation_for_vigorous_mentions_the_12_month_clearance():
    assert "last 12 months" in acsm_screening(_inputs(Y, Y, N, V, N)).explanation
    assert "light intensity" in acsm_screening(_inputs(Y, Y, N, L, N)).explanation


def test_acsm_all_nine_signs_and_symptoms_of_section_4a_are_offered():
    """§4A lists 9 signs/symptoms (GETP Table 2.2)."""
    assert len(SignOrSymptom) == 9


def test_acsm_ticked_symptom_with_symptomatic_no_is_refused():
    with pytest.raises(ValidationError) as exc:
        _inputs(N, N, N, L, N, symptoms=[SignOrSymptom.DIZZINESS_OR_SYNCOPE])
    assert "answer Yes to 'signs or symptoms" in field_errors(exc.value)["__all__"]


def test_acsm_diabetes_without_known_metabolic_disease_is_refused():
    """§2A: metabolic disease means type 1/2 diabetes, so diabetes implies known disease."""
    with pytest.raises(ValidationError) as exc:
        _inputs(N, N, N, L, N, has_diabetes=True)
    assert "known metabolic disease" in field_errors(exc.value)["__all__"]


def test_acsm_unknown_intensity_gives_a_plain_message():
    with pytest.raises(ValidationError) as exc:
        _inputs(N, N, N, "extreme", N)
    assert field_errors(exc.value) == {"desired_intensity": "Choose one of the options"}


def test_diabetes_note_surfaces_the_ada_vs_acsm_conflict():
    """§2A / gaps §6: ADA 2016 needs no clearance for asymptomatic low/moderate activity "not
    exceeding the demands of brisk walking"; ACSM requires it when not currently exercising."""
    note = diabetes_note(True)
    assert note == DIABETES_NOTE
    assert "brisk walking" in note and "ACSM" in note and "Colberg" in note
    assert diabetes_note(False) is None


def test_diabetes_note_is_attached_to_the_outcome_without_changing_the_decision():
    outcome = acsm_screening(_inputs(N, Y, N, L, N, has_diabetes=True))
    assert outcome.decision is REC
    assert outcome.diabetes_note == DIABETES_NOTE


# ---------------------------------------------------------------------------------------------
# Screening record
# ---------------------------------------------------------------------------------------------


def _record(**over) -> ScreeningRecord:
    data = {
        "client_id": "client-1",
        "screened_on": "2025-03-01",
        "acsm": {
            "exercises_regularly": False,
            "known_cmr_disease": True,
            "symptomatic": False,
            "desired_intensity": "moderate",
        },
    }
    return ScreeningRecord.model_validate({**data, **over})


def test_screening_record_computes_its_outcome_and_lives_in_screenings():
    record = _record(parq={**ALL_NO, "heart_condition_or_high_bp": True})
    assert ScreeningRecord.store == "screenings"
    assert record.outcome is not None and record.outcome.decision is REC
    assert record.outcome_is_current
    assert record.parq_result.status is ParqStatus.COMPLETE_FOLLOW_UP


def test_screening_record_round_trips_through_its_stored_document():
    record = _record()
    again = ScreeningRecord.model_validate(record.to_doc())
    assert again == record


def test_screening_record_keeps_the_outcome_shown_at_the_time_and_can_recompute():
    """A stored outcome is not silently rewritten; a stale one is detectable and re-computable."""
    stale = AcsmOutcome(decision=NOT, guidance="old rules", explanation="old rules")
    record = _record(outcome=stale.model_dump())
    assert record.outcome == stale
    assert not record.outcome_is_current
    fresh = record.recomputed()
    assert fresh.outcome.decision is REC and fresh.outcome_is_current
    assert fresh.id == record.id


def test_screening_record_with_bad_inputs_reports_field_errors():
    with pytest.raises(ValidationError) as exc:
        _record(acsm={"exercises_regularly": False}, client_id="")
    errors = field_errors(exc.value)
    assert errors["client_id"] == "This field is required"
    assert errors["acsm.known_cmr_disease"] == "This field is required"


# ---------------------------------------------------------------------------------------------
# Clearance tracking
# ---------------------------------------------------------------------------------------------


def _clearance(received_on=None, restrictions="") -> Clearance:
    return Clearance(
        client_id="client-1",
        requested_on=date(2025, 3, 1),
        received_on=received_on,
        restrictions=restrictions,
    )


@pytest.mark.parametrize(
    ("received", "ok"),
    [(date(2025, 2, 28), False), (date(2025, 3, 1), True), (date(2025, 3, 2), True)],
)
def test_clearance_cannot_be_received_before_it_was_requested(received, ok):
    if ok:
        assert _clearance(received).received_on == received
    else:
        with pytest.raises(ValidationError) as exc:
            _clearance(received)
        assert "before the date it was requested" in field_errors(exc.value)["__all__"]


def test_clearance_store_name():
    assert Clearance.store == "clearances"


@pytest.mark.parametrize(
    ("received", "today", "expected"),
    [
        (None, date(2025, 6, 1), False),
        (date(2024, 6, 1), date(2025, 6, 1), True),  # exactly 12 months ago
        (date(2024, 5, 31), date(2025, 6, 1), False),  # one day more
        (date(2025, 6, 1), date(2025, 6, 1), True),  # today
        (date(2025, 6, 2), date(2025, 6, 1), False),  # future-dated
        (date(2024, 2, 28), date(2025, 2, 28), True),
        (date(2023, 2, 28), date(2024, 2, 29), True),  # leap day: a year before is 28 Feb
        (date(2023, 2, 27), date(2024, 2, 29), False),
    ],
)
def test_cleared_within_12_months_boundaries(received, today, expected):
    clearance = (
        Clearance(client_id="c", requested_on=received, received_on=received) if received else None
    )
    assert cleared_within_12_months(clearance, today) is expected


def test_pending_clearance_is_not_within_12_months():
    assert cleared_within_12_months(_clearance(None), date(2025, 3, 2)) is False


def _outcome(decision) -> AcsmOutcome:
    return AcsmOutcome(decision=decision, guidance="g", explanation="e")


def test_session_logging_allowed_when_clearance_not_needed():
    allowed, message = session_logging_allowed(_outcome(NOT), None, None)
    assert allowed and "not needed" in message


@pytest.mark.parametrize("decision", [REC, DISC])
@pytest.mark.parametrize("clearance", [None, "pending"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_session_logging_blocked_without_clearance_or_reason(decision, clearance, reason):
    """Clearance recommended (or discontinue/seek) and not received: no log without a reason."""
    record = _clearance(None) if clearance else None
    allowed, message = session_logging_allowed(_outcome(decision), record, reason)
    assert not allowed
    assert "give a reason" in message


@pytest.mark.parametrize("decision", [REC, DISC])
def test_session_logging_allowed_with_an_explicit_override_reason(decision):
    allowed, message = session_logging_allowed(
        _outcome(decision), _clearance(None), "  Physician phoned: ok to start light walking  "
    )
    assert allowed
    assert message.endswith("Reason given: Physician phoned: ok to start light walking")


@pytest.mark.parametrize("decision", [REC, DISC])
def test_session_logging_allowed_once_clearance_received_and_shows_restrictions(decision):
    clearance = _clearance(date(2025, 3, 10), restrictions="No overhead lifting")
    allowed, message = session_logging_allowed(_outcome(decision), clearance, None)
    assert allowed
    assert "2025-03-10" in message and "No overhead lifting" in message


def test_session_clearance_with_no_screening_on_file_needs_a_reason():
    """No screening: the ACSM algorithm cannot be applied, so clearance is unknown and the
    session needs a reason (conservative); with a screening it is session_logging_allowed."""
    from medex.screening import NO_SCREENING_MESSAGE, session_clearance

    assert session_clearance(None, None) == (False, NO_SCREENING_MESSAGE)
    assert session_clearance(_outcome(NOT), None) == session_logging_allowed(
        _outcome(NOT), None, None
    )
