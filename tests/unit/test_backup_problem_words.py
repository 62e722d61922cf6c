"""A backup's record problems are shown in the practitioner's words, not store and field names."""

from medex.backup import RecordProblem
from medex.services.data import problem_in_words


def test_a_record_problem_names_the_kind_of_record_and_the_field_in_words():
    problem = RecordProblem(
        "session_logs", "a5486896-9825-4fd7-8da8-20896845ccea", "response_notes", "Too long"
    )
    assert problem_in_words(problem) == "Session logs, record a5486896: response notes: Too long"
    assert "session_logs" not in problem_in_words(problem)


def test_a_nested_field_counts_from_one():
    problem = RecordProblem("session_logs", "a5486896", "exercises.0.load_kg", "Too heavy")
    assert (
        problem_in_words(problem)
        == "Session logs, record a5486896: exercises › 1 › load kg: Too heavy"
    )


def test_a_problem_without_record_or_field_is_the_kind_and_the_message():
    assert problem_in_words(RecordProblem("clients", "", "", "Unreadable")) == "Clients: Unreadable"
    assert problem_in_words(RecordProblem("new_store", "", "", "x")) == "New store: x"
