"""Parsing status answers of real modems (docs/at-modem.md §7) and judging health."""

from __future__ import annotations

import pytest

from agent.modem.status import (
    ModemStatus,
    best_registration,
    identity_digits,
    judge,
    parse_cops,
    parse_cpms,
    parse_csca,
    parse_csq,
    parse_registration,
    rssi_bars,
    rssi_dbm,
    strip_prefix,
)


@pytest.mark.parametrize(
    ("line", "rssi"),
    [("+CSQ: 21,0", 21), ("+CSQ: 018,099", 18), ("+CSQ: 99,99", None), ("+CSQ: ", None)],
)
def test_csq(line: str, rssi: int | None) -> None:
    assert parse_csq(line) == rssi


def test_dbm_and_bars() -> None:
    assert [rssi_dbm(r) for r in (0, 1, 21, 31)] == [-113, -111, -71, -51]
    assert [rssi_bars(r) for r in (None, 0, 5, 10, 15, 21, 31)] == [0, 0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("line", "stat"),
    [
        ("+CREG: 0,1", 1),
        ('+CREG: 0,1,"5E25","605F"', 1),
        ('+CREG: 2,5,"2AF5","0B88E350",2', 5),
        ("+CREG: 2,1,4CA,81DE445", 1),
        ('+CREG: 2,1,"","605F"', 1),
        ('+CREG: 2,1,"0B,"0100701",7', 1),
        ('+CREG: 2,1,"5E25', 1),
        ("+CREG: ", None),
    ],
)
def test_registration_from_gammu_test_dumps(line: str, stat: int | None) -> None:
    assert parse_registration(line) == stat


def test_registration_urc_has_one_field_less() -> None:
    assert parse_registration("+CREG: 5", query=False) == 5


def test_lte_only_modem_counts_as_registered_by_cereg() -> None:
    assert best_registration([0, None, 1]) == 1
    assert best_registration([2, 2]) == 2
    assert best_registration([]) is None


def test_identity_prefixes_and_quotes() -> None:
    assert strip_prefix('+CGMI: "huawei"') == "huawei"
    assert strip_prefix("QUALCOMM INCORPORATED") == "QUALCOMM INCORPORATED"
    assert identity_digits('+CGSN: "356938035643809"') == "356938035643809"
    assert identity_digits("ERROR") is None


def test_cops_csca_cpms() -> None:
    assert parse_cops('+COPS: 0,0,"T-Mobile CZ",7') == "T-Mobile CZ"
    assert parse_cops("+COPS: 0") is None
    assert parse_csca('+CSCA: "+420603052000",145') == "+420603052000"
    assert parse_csca('+CSCA: "002B003900370031",145') == "+971"
    assert parse_csca('+CSCA: "",129') is None
    assert parse_cpms('+CPMS: "SM",3,20,"SM",3,20,"SM",3,20') == ("SM", 3, 20)
    assert parse_cpms("+CPMS: 3,20,3,20,3,20") == (None, 3, 20)


def test_judge_names_what_is_wrong_in_plain_words() -> None:
    status = ModemStatus(
        device="/dev/x", sim="SIM PIN", registration=3, rssi=2, storage_used=20, storage_total=20
    )
    problems = judge(status)
    assert problems[0] == "SIM PIN required (set 'pin' in the account)"
    assert "not registered: registration denied" in problems
    assert any("very weak signal" in p for p in problems)
    assert any("storage full" in p for p in problems)
    ok = ModemStatus(device="/dev/x", sim="READY", imei="1", registration=1, rssi=20)
    assert judge(ok) == []


async def test_query_status_of_a_modem_without_sim() -> None:
    from agent.modem.status import query_status

    answers = {
        "AT+CPIN?": "+CPIN: SIM not inserted",
        "AT+CSQ": "+CSQ: 99,99",
        "AT+CREG?": "+CREG: 0,0",
        "AT+CGMI": "huawei",
        "AT+CGSN": "356938035643809",
    }

    async def ask(command: str) -> str | None:
        return answers.get(command)

    status = await query_status("/dev/x", ask)
    assert status.manufacturer == "huawei" and status.imsi is None
    assert status.problems[0] == "no SIM card inserted"
    assert "not registered: not registered, not searching" in status.problems
