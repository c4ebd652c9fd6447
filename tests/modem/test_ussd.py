"""The USSD codec: request forms, the three answer forms, balance patterns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.modem.ussd import (
    USSDError,
    check_pattern,
    decode_text,
    encode_answer,
    parse_balance,
    parse_cusd,
    request_argument,
)


def test_packed_request_is_the_huawei_form() -> None:
    assert request_argument("*100#", packed=True) == "AA180C3602"  # ModemManager's example
    assert request_argument(" *101# ") == "*101#"


@pytest.mark.parametrize("code", ["", '*101#"', "AT", "*1;0#"])
def test_a_code_with_anything_but_digits_stars_hashes_is_refused(code: str) -> None:
    with pytest.raises(USSDError, match="only digits"):
        request_argument(code)


@pytest.mark.parametrize("form", ["text", "ucs2", "gsm7hex"])
def test_each_answer_form_decodes_back_even_unannounced(form: str) -> None:
    raw, dcs = encode_answer("Zustatek kreditu: 120,50 Kc", form)
    assert decode_text(raw, dcs) == "Zustatek kreditu: 120,50 Kc"  # auto
    assert decode_text(raw, 15, form=form) == "Zustatek kreditu: 120,50 Kc"


def test_a_short_numeric_answer_stays_as_it_is() -> None:
    assert parse_cusd(["0", "1234", "15"]).text == "1234"
    assert parse_cusd(["2"]).status_word == "ended by the network"
    with pytest.raises(USSDError, match="not a \\+CUSD answer"):
        parse_cusd(["x"])


@pytest.mark.parametrize(
    ("answer", "amount"),
    [
        ("Vas kredit je 153,47 Kc.", Decimal("153.47")),
        ("Zustatek kreditu: 120,50 Kc, platnost do 1.1.2027", Decimal("120.50")),
        ("Váš zůstatek je 80 Kč", Decimal("80")),
        ("Your balance is 12.30 EUR", Decimal("12.30")),
        ("Sluzba neni dostupna", None),
    ],
)
def test_the_default_pattern_reads_czech_operators_answers(answer: str, amount) -> None:
    assert parse_balance(answer) == amount


def test_a_pattern_without_a_group_or_broken_is_named() -> None:
    with pytest.raises(USSDError, match="no \\(group\\)"):
        check_pattern(r"kredit \d+")
    with pytest.raises(USSDError, match="balance_pattern"):
        check_pattern(r"kredit (\d+")
    assert parse_balance("Stav: 99 Kc", check_pattern(r"Stav: (\d+)")) == Decimal("99")
