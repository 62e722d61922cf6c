import pytest

from medex.forms import Refused
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository, StorageFullError
from medex.services.practice import SaveProfile, load_practice_profile, save_practice_profile
from tests.support.aio import run

GOOD = {
    "practitioner_name": "Dana Reyes",
    "credentials": "MS, ACSM-CEP",
    "business_name": "Reyes Medical Exercise",
    "address": "12 Elm St\nSpringfield, IL 62701",
    "phone": "(217) 555-0134",
    "email": "dana@reyes-medex.com",
    "npi": "",
}


def test_saving_a_valid_profile_stores_it():
    repo = InMemoryRepository()
    saved = run(save_practice_profile(repo, SaveProfile(**GOOD)))
    loaded = run(load_practice_profile(repo))
    assert loaded == saved
    assert loaded.npi is None


def test_invalid_profile_stores_nothing_and_names_the_fields():
    repo = InMemoryRepository()
    typed = {**GOOD, "email": "dana.reyes-medex.com", "business_name": ""}
    with pytest.raises(Refused) as exc:
        run(save_practice_profile(repo, SaveProfile(**typed)))
    assert set(exc.value.errors) == {"email", "business_name"}
    assert repo.writes == 0


def test_editing_keeps_the_same_record_and_its_logo():
    repo = InMemoryRepository()
    logo = "data:image/png;base64,iVBORw0KGgo="
    first = run(save_practice_profile(repo, SaveProfile(**GOOD, logo_data_url=logo)))
    second = run(save_practice_profile(repo, SaveProfile(**{**GOOD, "credentials": "MS"})))
    assert second.id == first.id and second.created_at == first.created_at
    assert second.logo_data_url == logo
    assert len(run(repo.list(PracticeProfile))) == 1


def test_remove_logo():
    repo = InMemoryRepository()
    logo = "data:image/png;base64,iVBORw0KGgo="
    run(save_practice_profile(repo, SaveProfile(**GOOD, logo_data_url=logo)))
    saved = run(save_practice_profile(repo, SaveProfile(**GOOD, logo_data_url="")))
    assert saved.logo_data_url is None


def test_full_storage_is_the_repository_s_refusal_and_nothing_is_stored():
    """Storage full is not a form error: the shell handles it for every write (read-only
    mode, what was typed kept)."""
    repo = InMemoryRepository()
    repo.fail_next_write = StorageFullError("QuotaExceededError")
    with pytest.raises(StorageFullError):
        run(save_practice_profile(repo, SaveProfile(**GOOD)))
    assert run(load_practice_profile(repo)) is None
