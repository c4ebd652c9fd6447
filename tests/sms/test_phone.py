import pytest

from sms.phone import NumberKind, PhoneNumberError, normalize


@pytest.mark.parametrize(
    "raw",
    ["774884138", "774 884 138", "+420 774 884 138", "00420774884138", "(+420) 774-884-138"],
)
def test_czech_numbers_become_e164(raw):
    assert normalize(raw).value == "+420774884138"
    assert normalize(raw).kind is NumberKind.E164


def test_default_region_is_configurable():
    assert normalize("01512 3456789", region="DE").value == "+4915123456789"


def test_short_codes_are_kept():
    assert normalize("9000").kind is NumberKind.SHORT_CODE
    assert normalize("90211").value == "90211"


def test_alphanumeric_senders_are_kept_when_valid():
    assert normalize("Alza.cz").kind is NumberKind.ALPHANUMERIC
    with pytest.raises(PhoneNumberError, match="at most 11 characters"):
        normalize("Very long sender")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("12", "too short"),
        ("+420 12", "too short"),
        ("12345678901234567", "too long for CZ"),
        ("+420 123 456 789", "no such number range"),
        ("+999 123 456", "country calling code|could not interpret"),
    ],
)
def test_unusable_numbers_say_why(raw, reason):
    with pytest.raises(PhoneNumberError, match=reason):
        normalize(raw)
