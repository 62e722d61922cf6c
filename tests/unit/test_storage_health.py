"""Storage pressure is seen before the disk is full; every kind of refused write that means full
or failing storage is told apart from the app's own refusals (issue 10, item 5)."""

import doctest

import pytest

from medex import storage
from medex.storage import (
    MB,
    error_causes,
    is_storage_failure,
    low_storage_warning,
    persistence_answer,
    storage_left,
)

GB = 1000 * MB


def test_plenty_of_room_gives_no_warning():
    assert low_storage_warning(usage=2 * GB, quota=100 * GB) == ""


@pytest.mark.parametrize(
    ("usage", "quota", "left"),
    [
        (10 * GB - 150 * MB, 10 * GB, "150.0 MB"),  # under 200 MB left
        (95 * GB, 100 * GB, "5.0 GB"),  # under 10 % left, though gigabytes remain
        (10 * GB, 10 * GB, "0 bytes"),
        (11 * GB, 10 * GB, "0 bytes"),  # the browser can report more used than allowed
    ],
)
def test_little_headroom_warns_with_what_is_left_and_asks_for_a_backup(usage, quota, left):
    message = low_storage_warning(usage, quota)
    assert f"{left} left" in message
    assert "Back up your records now" in message


def test_the_thresholds_are_exclusive():
    assert low_storage_warning(usage=800 * MB, quota=1 * GB) == ""  # exactly 200 MB left
    assert low_storage_warning(usage=800 * MB + 1, quota=1 * GB) != ""
    assert low_storage_warning(usage=90 * GB, quota=100 * GB) == ""  # exactly 10 % left
    assert low_storage_warning(usage=90 * GB + 1, quota=100 * GB) != ""


@pytest.mark.parametrize(("usage", "quota"), [(None, 10 * GB), (5, None), (0, 0)])
def test_an_unknown_estimate_gives_no_warning(usage, quota):
    assert storage_left(usage, quota) is None
    assert low_storage_warning(usage, quota) == ""


@pytest.mark.parametrize(
    "text",
    [
        "QuotaExceededError: QuotaExceededError: The quota has been exceeded.",
        "AbortError: AbortError: QuotaExceededError  [causes: AbortError < QuotaExceededError]",
        "AbortError: Internal error [causes: AbortError < UnknownError]",
        "UnknownError: Internal error committing transaction.",
        "DatabaseClosedError: Database has been closed",
        "AbortError: The transaction was aborted",  # aborted by the browser, no cause of ours
        "AbortError: write failed [causes: AbortError < Error]",
    ],
)
def test_full_or_failing_storage_is_a_storage_failure(text):
    name = text.split(":", 1)[0]
    assert is_storage_failure(error_causes(name, text), text)


@pytest.mark.parametrize(
    "text",
    [
        "Error: MEDEX_AUDIT_MOVED: expected 3, found 4",
        "Error: MEDEX_STALE clients 1234",
        "ConstraintError: Key already exists in the object store.",
        "AbortError: Key already exists [causes: AbortError < ConstraintError]",
        "DataError: Failed to execute 'put'",
    ],
)
def test_the_apps_own_refusals_are_not_storage_failures(text):
    name = text.split(":", 1)[0]
    assert not is_storage_failure(error_causes(name, text), text)


def test_error_causes_reads_the_chain_store_js_writes():
    assert error_causes("AbortError", "x [causes: AbortError < QuotaExceededError]") == [
        "AbortError",
        "AbortError",
        "QuotaExceededError",
    ]
    assert error_causes("", "no causes") == []


def test_the_module_example_runs():
    assert doctest.testmod(storage).failed == 0


def test_the_persistence_answer_says_granted_refused_or_still_asking():
    assert "now persistent" in persistence_answer(True)
    assert "did not grant" in persistence_answer(False)
    # Firefox holds the answer until the person chooses in its prompt: never "did not grant"
    # while the prompt is still open.
    asking = persistence_answer(None)
    assert "choose Allow" in asking and "did not grant" not in asking
