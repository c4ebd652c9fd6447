"""Phone-number normalisation: E.164 for phone numbers, short codes and alphanumeric
senders kept where valid, everything else rejected with a reason."""

from __future__ import annotations

import enum
import re
import unicodedata

import msgspec
import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from . import gsm7

DEFAULT_REGION = "CZ"
ALPHANUMERIC_MAX = 11  # TP-OA holds at most 11 GSM characters
SHORT_CODE_MIN, SHORT_CODE_MAX = 3, 8

_SEPARATORS = re.compile(r"[\s\-./()]")
_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without area code",
}


class NumberKind(enum.StrEnum):
    E164 = "e164"
    SHORT_CODE = "short"
    ALPHANUMERIC = "alphanumeric"


class PhoneNumberError(ValueError):
    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r} is not a usable phone number: {reason}")
        self.raw = raw
        self.reason = reason


class Address(msgspec.Struct, frozen=True):
    """A normalised SMS address: '+420774884138', '9000' or 'Alza.cz'."""

    value: str
    kind: NumberKind


def _region_name(region: str) -> str:
    code = phonenumbers.country_code_for_region(region)
    return f"{region} (+{code})" if code else region


def normalize(raw: str, region: str = DEFAULT_REGION) -> Address:
    """Normalise a recipient or sender. `region` resolves national numbers."""
    text = raw.strip()
    if not text:
        raise PhoneNumberError(raw, "it is empty")
    # Any script's decimal digits (fullwidth ０, Arabic-Indic ٠...) count as the ASCII ones;
    # left alone they passed the digit check below and made phonenumbers raise.
    compact = "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in _SEPARATORS.sub("", text)
    )
    if compact.startswith("00"):
        compact = "+" + compact[2:]

    if not re.fullmatch(r"\+?\d+", compact):
        return _alphanumeric(raw, text)

    # Operator short codes ("9000", "90211"): digits only, too short to be a subscriber number.
    if not compact.startswith("+") and SHORT_CODE_MIN <= len(compact) <= SHORT_CODE_MAX:
        try:
            local = phonenumbers.parse(compact, region)
        except NumberParseException as exc:
            raise PhoneNumberError(raw, str(exc.args[0]).rstrip(".").lower()) from None
        if not phonenumbers.is_possible_number(local):
            return Address(compact, NumberKind.SHORT_CODE)
    try:
        number = phonenumbers.parse(compact, region)
    except NumberParseException as exc:
        raise PhoneNumberError(raw, str(exc.args[0]).rstrip(".").lower()) from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        where = "" if compact.startswith("+") else f" for {_region_name(region)}"
        raise PhoneNumberError(raw, f"{_REASONS.get(reason, 'not possible')}{where}")
    if not phonenumbers.is_valid_number(number):
        where = "" if compact.startswith("+") else f" in {_region_name(region)}"
        raise PhoneNumberError(raw, f"no such number range{where}")
    return Address(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), NumberKind.E164
    )


def _alphanumeric(raw: str, text: str) -> Address:
    if len(text) > ALPHANUMERIC_MAX:
        raise PhoneNumberError(
            raw, f"alphanumeric senders have at most {ALPHANUMERIC_MAX} characters"
        )
    if not any(ch.isalpha() for ch in text):
        raise PhoneNumberError(raw, "it contains characters that are not digits")
    if not gsm7.is_gsm7(text):
        raise PhoneNumberError(raw, "alphanumeric senders must use the GSM 7-bit alphabet")
    return Address(text, NumberKind.ALPHANUMERIC)
