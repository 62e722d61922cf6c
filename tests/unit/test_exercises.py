"""Exercise library: parameters, plausibility checks, the starter set and idempotent seeding."""

import pytest
from pydantic import ValidationError

from medex.exercises import (
    KG_PER_LB,
    STARTER_EXERCISES,
    Dosage,
    Exercise,
    ExerciseCategory,
    LoadUnit,
    load_in_kg,
    name_clash,
    starter_id,
    starter_library,
)
from medex.forms import field_errors


def test_dosage_text_reads_like_a_log():
    assert Dosage(sets=2, reps=10, load=5, load_unit=LoadUnit.KG).text == "2 × 10 × 5 kg"
    assert Dosage(sets=3, duration_s=30).text == "3 × 30 s"
    assert Dosage(sets=1, duration_s=900, distance_m=2500).text == "15 min, 2.5 km"
    assert Dosage(sets=2, reps=12, resistance="red band").text == "2 × 12, red band"


def test_a_load_without_a_unit_is_refused():
    with pytest.raises(ValidationError, match="Choose the unit of the load"):
        Dosage(sets=1, reps=10, load=5)


@pytest.mark.parametrize(
    ("unit", "limit"), [(LoadUnit.KG, 500), (LoadUnit.LB, 1100), (LoadUnit.WATTS, 1000)]
)
def test_loads_above_the_plausible_limit_are_refused_and_the_limit_itself_accepted(unit, limit):
    assert Dosage(sets=1, reps=1, load=limit, load_unit=unit).load == limit
    with pytest.raises(ValidationError, match="is not possible here"):
        Dosage(sets=1, reps=1, load=limit + 0.5, load_unit=unit)


def test_reps_need_sets():
    with pytest.raises(ValidationError, match="number of sets"):
        Dosage(reps=10)


@pytest.mark.parametrize(
    ("field", "value"),
    [("sets", 0), ("sets", 31), ("reps", 0), ("reps", 501), ("duration_s", 0), ("load", -1)],
)
def test_impossible_counts_are_refused(field, value):
    data = {"sets": 1, "reps": 1, "load_unit": "kg", field: value}
    with pytest.raises(ValidationError) as exc:
        Dosage(**data)
    assert field in field_errors(exc.value)


def test_pounds_convert_to_kilograms_and_other_units_are_not_weights():
    assert load_in_kg(10, LoadUnit.LB) == pytest.approx(4.5359237)
    assert KG_PER_LB == 0.45359237
    assert load_in_kg(50, LoadUnit.WATTS) is None
    assert load_in_kg(None, LoadUnit.KG) is None


def test_an_exercise_needs_a_name():
    with pytest.raises(ValidationError) as exc:
        Exercise(name="  ", category=ExerciseCategory.STRENGTH)
    assert field_errors(exc.value)["name"] == "This field is required"


def test_starter_library_covers_the_brief_and_every_category():
    names = {t.name for t in STARTER_EXERCISES}
    for wanted in (
        "Sit-to-stand",
        "Wall push-up",
        "Step-up",
        "Heel raise",
        "Bridge",
        "Band row",
        "Marching in place",
        "Tandem stance",
        "Walking intervals",
        "Recumbent bike",
    ):
        assert wanted in names
    assert {t.category for t in STARTER_EXERCISES} == set(ExerciseCategory)
    assert len({t.key for t in STARTER_EXERCISES}) == len(STARTER_EXERCISES)
    assert all(not t.defaults.is_empty and t.cues for t in STARTER_EXERCISES)


def test_seeding_is_idempotent_and_skips_renamed_or_same_named_exercises():
    first = starter_library()
    assert len(first) == len(STARTER_EXERCISES)
    assert starter_library(first) == []
    renamed = first[0].model_copy(update={"name": "Chair rise"})
    own_bridge = Exercise(name="bridge", category=ExerciseCategory.STRENGTH)
    again = starter_library([renamed, own_bridge])
    assert first[0].id not in {e.id for e in again}
    assert "Bridge" not in {e.name for e in again}
    assert len(again) == len(STARTER_EXERCISES) - 2


def test_starter_ids_are_the_same_on_every_device():
    assert starter_id("sit_to_stand") == starter_library()[0].id == starter_id("sit_to_stand")


def test_name_clash_ignores_case_spacing_itself_and_retired_exercises():
    ex = Exercise(name="Band  Row", category=ExerciseCategory.STRENGTH)
    assert name_clash([ex], "band row")
    assert not name_clash([ex], "band row", exclude_id=ex.id)
    assert not name_clash([ex.model_copy(update={"archived": True})], "band row")
