import uuid

import pytest
from pydantic import ValidationError

from medex.forms import clean_form, field_errors
from medex.records import PracticeProfile, validate_npi


def profile(**kw):
    base = {"practitioner_name": "Dana Reyes", "business_name": "Reyes Medical Exercise"}
    return PracticeProfile(**{**base, **kw})


def test_profile_gets_uuid_schema_version_and_timestamps():
    p = profile()
    assert uuid.UUID(p.id).version == 4
    assert p.schema_version == 1
    assert p.created_at.tzinfo is not None and p.updated_at >= p.created_at


def test_profile_round_trips_through_json_document():
    p = profile(email="dana@example.com", npi="1234567893", phone="(555) 123-4567")
    assert PracticeProfile.model_validate(p.to_doc()) == p


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("business_name", "", "This field is required"),
        ("business_name", "   ", "This field is required"),
        ("practitioner_name", "", "This field is required"),
        ("email", "dana.example.com", "An e-mail address needs an @"),
        ("email", "dana@example", "does not look complete"),
        ("phone", "12", "at least 7 digits"),
        ("phone", "call me maybe", "at least 7 digits"),
        ("npi", "123456789", "exactly 10 digits"),
        ("npi", "1234567890", "check digit is wrong"),
        ("npi", "3234567893", "starts with 1 or 2"),
        ("logo_data_url", "data:text/html;base64,PHNjcmlwdD4=", "PNG, JPEG or WebP"),
    ],
)
def test_bad_profile_input_gets_a_plain_message_on_its_field(field, value, message):
    with pytest.raises(ValidationError) as exc:
        profile(**{field: value})
    errors = field_errors(exc.value)
    assert message in errors[field]


def test_npi_check_digit_uses_luhn_with_80840_prefix():
    # CMS worked example: NPI 123456789 + check digit 3 (Luhn over 80840123456789).
    assert validate_npi("1234567893") == "1234567893"
    assert validate_npi("1234-567-893") == "1234567893"
    with pytest.raises(ValueError):
        validate_npi("1234567894")


def test_blank_optional_fields_are_absent():
    p = profile(email="", npi="   ")
    assert p.email is None and p.npi is None


def test_control_characters_are_dropped_but_newlines_kept():
    p = profile(business_name="Reyes\x00 Medical\x1b", address="1 Main St\nSpringfield")
    assert p.business_name == "Reyes Medical"
    assert p.address == "1 Main St\nSpringfield"


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        PracticeProfile.model_validate({**profile().to_doc(), "surprise": 1})


def test_id_must_be_a_uuid():
    with pytest.raises(ValidationError):
        profile(id="1")


def test_clean_form_strips_and_drops_blank_strings():
    assert clean_form({"a": " x ", "b": "  ", "c": 3}) == {"a": "x", "c": 3}


def test_display_name_adds_credentials():
    assert profile(credentials="MS, ACSM-CEP").display_name == "Dana Reyes, MS, ACSM-CEP"
    assert profile().display_name == "Dana Reyes"
