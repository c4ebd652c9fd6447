"""+CMS/+CME tables (docs/at-modem.md §9): meaning, class, and a hint for the person."""

from __future__ import annotations

from agent.modem.error_codes import (
    ErrorClass,
    cme_error,
    cme_error_from_text,
    cms_error,
)


def test_transient_cms_codes_of_the_retry_policy() -> None:
    for code in (38, 41, 42, 47, 192, 194, 331, 332, 500, 512, 513, 514, 515, 314):
        assert cms_error(code).error_class is ErrorClass.TRANSIENT, code


def test_permanent_cms_codes_of_the_retry_policy() -> None:
    for code in (1, 8, 10, 21, 29, 30, 50, 69, 96, 111, 127, 128, 143, 175, 193, 197, 304):
        assert cms_error(code).error_class is ErrorClass.PERMANENT, code


def test_device_cms_codes_stop_the_modem() -> None:
    for code in (300, 301, 302, 303, 310, 311, 313, 316, 320, 322, 330, 340):
        assert cms_error(code).error_class is ErrorClass.DEVICE, code


def test_invalid_memory_index_means_empty_slot() -> None:
    assert cms_error(321).error_class is ErrorClass.EMPTY


def test_siemens_vendor_codes_come_from_their_table() -> None:
    assert cms_error(515).meaning.startswith("please wait")
    siemens = cms_error(515, manufacturer="SIEMENS")
    assert siemens.meaning == "invalid character in address string"
    assert siemens.error_class is ErrorClass.PERMANENT


def test_unknown_vendor_code_is_retried_once_as_transient() -> None:
    assert cms_error(600).error_class is ErrorClass.TRANSIENT


def test_cme_pin_required_tells_what_to_do() -> None:
    assert cme_error(11).describe() == (
        "SIM PIN required (+CME ERROR 11): set 'pin' in the account"
    )


def test_cme_busy_is_transient_and_wrong_pin_is_device() -> None:
    assert cme_error(14).error_class is ErrorClass.TRANSIENT
    assert cme_error(16).error_class is ErrorClass.DEVICE


def test_text_errors_map_back_to_codes() -> None:
    assert cme_error_from_text("SIM PIN required").code == 11
    assert cme_error_from_text("sim busy").code == 14
    assert cme_error_from_text("Incorrect password").code == 16
    assert cme_error_from_text("SIM not inserted").code == 10
    assert cme_error_from_text("PH-SIM PIN required").code == 5
