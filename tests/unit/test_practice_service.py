from medex.records import PracticeProfile
from medex.repository import InMemoryRepository, StorageFullError
from medex.services.practice import load_practice_profile, save_practice_profile
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
    result, saved = run(save_practice_profile(repo, GOOD))
    assert result.ok and saved is not None
    loaded = run(load_practice_profile(repo))
    assert loaded == saved
    assert loaded.npi is None


def test_invalid_profile_stores_nothing_and_keeps_what_was_typed():
    repo = InMemoryRepository()
    typed = {**GOOD, "email": "dana.reyes-medex.com", "business_name": ""}
    result, saved = run(save_practice_profile(repo, typed))
    assert not result.ok and saved is None
    assert set(result.errors) == {"email", "business_name"}
    assert result.values["email"] == "dana.reyes-medex.com"
    assert result.values["address"] == GOOD["address"]
    assert repo.writes == 0


def test_editing_keeps_the_same_record_and_its_logo():
    repo = InMemoryRepository()
    logo = "data:image/png;base64,iVBORw0KGgo="
    _, first = run(save_practice_profile(repo, GOOD, logo_data_url=logo))
    _, second = run(save_practice_profile(repo, {**GOOD, "credentials": "MS"}))
    assert second.id == first.id and second.created_at == first.created_at
    assert second.logo_data_url == logo
    assert len(run(repo.list(PracticeProfile))) == 1


def test_remove_logo():
    repo = InMemoryRepository()
    run(save_practice_profile(repo, GOOD, logo_data_url="data:image/png;base64,iVBORw0KGgo="))
    _, saved = run(save_practice_profile(repo, {**GOOD, "remove_logo": "1"}, logo_data_url=""))
    assert saved.logo_data_url is None


def test_full_storage_is_reported_and_nothing_is_lost():
    repo = InMemoryRepository()
    repo.fail_next_write = StorageFullError("QuotaExceededError")
    result, saved = run(save_practice_profile(repo, GOOD))
    assert not result.ok and saved is None
    assert "storage is full" in result.errors["__all__"]
    assert result.values["business_name"] == GOOD["business_name"]
    assert run(load_practice_profile(repo)) is None
