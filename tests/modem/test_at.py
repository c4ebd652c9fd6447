"""The AT engine: feed these bytes, expect these events (docs/at-modem.md §1)."""

from __future__ import annotations

import pytest

from agent.modem.at import (
    ATEngine,
    Discarded,
    Event,
    Final,
    Info,
    Prompt,
    Unsolicited,
    split_args,
)
from agent.modem.error_codes import ErrorClass


def run(command: str | None, data: bytes, engine: ATEngine | None = None) -> list[Event]:
    engine = engine or ATEngine()
    if command is not None:
        engine.send(command)
    return engine.receive_data(data)


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_send_appends_cr_only_and_adds_at() -> None:
    engine = ATEngine()
    assert engine.send("+CSQ") == b"AT+CSQ\r"


def test_second_command_while_one_is_in_flight_is_refused() -> None:
    engine = ATEngine()
    engine.send("AT")
    with pytest.raises(RuntimeError):
        engine.send("AT+CSQ")


def test_plain_ok() -> None:
    assert run("AT", b"\r\nOK\r\n") == [Final(ok=True, line="OK")]


def test_information_line_then_ok() -> None:
    assert run("AT+CSQ", b"\r\n+CSQ: 21,0\r\n\r\nOK\r\n") == [
        Info("+CSQ: 21,0"),
        Final(ok=True, line="OK"),
    ]


def test_echo_of_the_command_is_dropped() -> None:
    assert run("AT+CMGF=0", b"AT+CMGF=0\r\r\nOK\r\n") == [Final(ok=True, line="OK")]


def test_echo_of_ate0_itself_is_dropped() -> None:
    assert run("ATE0", b"ATE0\r\r\nOK\r\n") == [Final(ok=True, line="OK")]


def test_echo_is_compared_without_case() -> None:
    assert kinds(run("at+csq", b"AT+CSQ\r\r\n+CSQ: 5,99\r\n\r\nOK\r\n")) == ["Info", "Final"]


@pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n"])
def test_final_code_with_any_line_ending(ending: bytes) -> None:
    assert run("AT", b"OK" + ending) == [Final(ok=True, line="OK")]


def test_extra_empty_lines_after_the_final_code_are_ignored() -> None:
    engine = ATEngine()
    assert run("AT", b"\r\nOK\r\n\r\n\r\n", engine) == [Final(ok=True, line="OK")]
    assert engine.receive_data(b"\r\n\r\n") == []


def test_partial_line_waits_for_its_end() -> None:
    engine = ATEngine()
    engine.send("AT+CSQ")
    assert engine.receive_data(b"\r\n+CSQ: 2") == []
    assert engine.receive_data(b"1,0\r\n\r\nO") == [Info("+CSQ: 21,0")]
    assert engine.receive_data(b"K\r\n") == [Final(ok=True, line="OK")]


def test_plain_error() -> None:
    [final] = run("AT+FOO", b"\r\nERROR\r\n")
    assert isinstance(final, Final) and not final.ok and final.error is None


def test_huawei_command_not_support_is_an_error() -> None:
    [final] = run("AT^CURC=0", b"\r\nCOMMAND NOT SUPPORT\r\n")
    assert isinstance(final, Final) and not final.ok


def test_cms_error_has_code_meaning_and_class() -> None:
    [final] = run("AT+CMGS=20", b"\r\n+CMS ERROR: 304\r\n")
    assert isinstance(final, Final) and final.error is not None
    assert (final.error.kind, final.error.code) == ("CMS", 304)
    assert final.error.meaning == "invalid PDU mode parameter"
    assert final.error.error_class is ErrorClass.PERMANENT


def test_cme_error_with_leading_zeros() -> None:
    [final] = run("AT+CPIN?", b"\r\n+CME ERROR: 011\r\n")
    assert isinstance(final, Final) and final.error is not None
    assert final.error.code == 11
    assert "set 'pin' in the account" in final.describe()


def test_cme_error_as_text_under_cmee_2_is_mapped_back_to_its_code() -> None:
    [final] = run("AT+CMGF=0", b"\r\n+CME ERROR: SIM PIN required\r\n")
    assert isinstance(final, Final) and final.error is not None
    assert final.error.code == 11


def test_unknown_cme_text_keeps_the_text() -> None:
    [final] = run("AT+X", b"\r\n+CME ERROR: flux capacitor empty\r\n")
    assert isinstance(final, Final) and final.error is not None
    assert final.error.code is None and final.error.meaning == "flux capacitor empty"


def test_motorola_modem_error_ends_the_command() -> None:
    [final] = run("AT+CMGR=1", b"MODEM ERROR: 3\r\n")
    assert isinstance(final, Final) and not final.ok


def test_prompt_without_line_end_is_seen_at_once() -> None:
    engine = ATEngine()
    engine.send("AT+CMGS=32")
    assert engine.receive_data(b"\r\n> ") == [Prompt()]


def test_prompt_after_echo_of_the_cmgs_line() -> None:
    assert run("AT+CMGS=32", b"AT+CMGS=32\r\r\n> ") == [Prompt()]


def test_bare_prompt_line_of_sim7670g() -> None:
    assert run("AT+CMGS=32", b"\r\n>\r\n") == [Prompt()]


def test_error_instead_of_the_prompt() -> None:
    [final] = run("AT+CMGS=32", b"\r\n+CMS ERROR: 330\r\n")
    assert isinstance(final, Final) and final.error is not None and final.error.code == 330


def test_a_greater_than_sign_is_no_prompt_for_other_commands() -> None:
    assert run("AT+X", b"> \r\nOK\r\n") == [Info(">"), Final(ok=True, line="OK")]


def test_full_send_with_echo_of_the_pdu() -> None:
    engine = ATEngine()
    engine.send("AT+CMGS=10")
    assert engine.receive_data(b"AT+CMGS=10\r\r\n> ") == [Prompt()]
    assert engine.send_pdu("0011000b") == b"0011000B\x1a"
    events = engine.receive_data(b"0011000B\x1a\r\n+CMGS: 77\r\n\r\nOK\r\n")
    assert events == [Info("+CMGS: 77"), Final(ok=True, line="OK")]
    assert engine.pending is None


def test_pdu_is_refused_without_cmgs() -> None:
    engine = ATEngine()
    engine.send("AT")
    with pytest.raises(RuntimeError):
        engine.send_pdu("00")


def test_cmti_between_commands() -> None:
    assert run(None, b'\r\n+CMTI: "SM",3\r\n') == [
        Unsolicited("+CMTI", ["SM", "3"], '+CMTI: "SM",3')
    ]


def test_urc_inside_cmgr_response_is_kept_apart() -> None:
    data = b"^RSSI:3\r\n+CMGR: 0,,24\r\n0791AABB\r\n\r\nOK\r\n"
    assert run("AT+CMGR=1", data) == [
        Unsolicited("^RSSI", ["3"], "^RSSI:3"),
        Info("+CMGR: 0,,24"),
        Info("0791AABB"),
        Final(ok=True, line="OK"),
    ]


def test_urc_inside_cmgl_response_is_kept_apart() -> None:
    data = b'+CMGL: 0,1,,24\r\nAA\r\n+CMTI: "SM",1\r\n+CMGL: 1,0,,24\r\nBB\r\nOK\r\n'
    events = run("AT+CMGL=4", data)
    assert kinds(events) == ["Info", "Info", "Unsolicited", "Info", "Info", "Final"]


def test_cmt_consumes_its_pdu_line() -> None:
    assert run(None, b"\r\n+CMT: ,24\r\n07911234\r\n") == [
        Unsolicited("+CMT", ["", "24"], "+CMT: ,24", pdu="07911234")
    ]


def test_cds_consumes_its_pdu_line_even_inside_a_response() -> None:
    data = b"\r\n+CDS: 25\r\n064D0C91\r\n+CSQ: 9,9\r\nOK\r\n"
    assert run("AT+CSQ", data) == [
        Unsolicited("+CDS", ["25"], "+CDS: 25", pdu="064D0C91"),
        Info("+CSQ: 9,9"),
        Final(ok=True, line="OK"),
    ]


def test_two_line_urc_split_across_reads() -> None:
    engine = ATEngine()
    assert engine.receive_data(b"+CMT: ,24\r\n0791") == []
    assert engine.receive_data(b"1234\r\n") == [
        Unsolicited("+CMT", ["", "24"], "+CMT: ,24", pdu="07911234")
    ]


def test_creg_answers_the_creg_query() -> None:
    assert run("AT+CREG?", b"+CREG: 0,1\r\nOK\r\n") == [Info("+CREG: 0,1"), Final(True, "OK")]


def test_creg_during_another_command_is_a_urc() -> None:
    assert run("AT+CSQ", b"+CREG: 5\r\n+CSQ: 9,9\r\nOK\r\n") == [
        Unsolicited("+CREG", ["5"], "+CREG: 5"),
        Info("+CSQ: 9,9"),
        Final(True, "OK"),
    ]


def test_wavecom_creg_after_the_ok_of_creg_2_is_a_urc() -> None:
    engine = ATEngine()
    assert run("AT+CREG=2", b"OK\r\n", engine) == [Final(True, "OK")]
    assert engine.receive_data(b'+CREG: 1,"5E25","605F"\r\n') == [
        Unsolicited("+CREG", ["1", "5E25", "605F"], '+CREG: 1,"5E25","605F"')
    ]


def test_cpin_after_boot_is_a_urc() -> None:
    assert kinds(run(None, b"\r\n+CPIN: READY\r\n")) == ["Unsolicited"]


def test_cpin_without_ok_ends_on_expire() -> None:
    engine = ATEngine()
    assert run("AT+CPIN?", b"+CPIN: READY\r\n", engine) == [Info("+CPIN: READY")]
    assert engine.expire() == Final(ok=True, line="")
    assert engine.pending is None
    # The OK that some other modem might send late is not taken for another command.
    assert kinds(engine.receive_data(b"OK\r\n")) == ["Discarded"]


def test_expire_of_an_unanswered_command_is_a_failure() -> None:
    engine = ATEngine()
    engine.send("AT+CSQ")
    assert engine.expire() is None
    assert engine.pending is None


def test_boot_urcs_without_colon() -> None:
    events = run(None, b"RDY\r\n+CFUN: 1\r\n+CPIN: READY\r\nCall Ready\r\nSMS Ready\r\n")
    assert [e.name for e in events if isinstance(e, Unsolicited)] == [
        "RDY",
        "+CFUN",
        "+CPIN",
        "CALL READY",
        "SMS READY",
    ]


def test_ring_and_no_carrier_outside_a_call_are_urcs() -> None:
    assert kinds(run(None, b"RING\r\nNO CARRIER\r\n")) == ["Unsolicited", "Unsolicited"]


def test_no_carrier_ends_a_dial() -> None:
    [final] = run("ATD123;", b"NO CARRIER\r\n")
    assert isinstance(final, Final) and not final.ok


def test_late_cmgs_while_idle_is_reported() -> None:
    assert run(None, b"+CMGS: 12\r\n") == [Unsolicited("+CMGS", ["12"], "+CMGS: 12")]


def test_stray_ok_is_discarded() -> None:
    assert kinds(run(None, b"OK\r\n")) == ["Discarded"]


def test_unknown_line_outside_a_command_is_discarded_not_fatal() -> None:
    assert kinds(run(None, b"+FOO: bar\r\n")) == ["Discarded"]


def test_garbage_bytes_are_discarded() -> None:
    events = run("AT", b"\xff\x00\x80\x81garbage\x05\r\nOK\r\n")
    assert kinds(events) == ["Discarded", "Final"]


def test_nul_bytes_inside_lines_are_dropped() -> None:
    assert run("AT", b"\x00O\x00K\r\n") == [Final(True, "OK")]


def test_huge_line_without_end_is_dropped() -> None:
    engine = ATEngine()
    events = engine.receive_data(b"A" * 70_000)
    assert kinds(events) == ["Discarded"]


def test_split_args_handles_quotes_and_empty_fields() -> None:
    assert split_args('"SM",3,,"a,b"') == ["SM", "3", "", "a,b"]
    assert split_args("") == []
    assert split_args('2,1,"0B,"0100701",7') == ["2", "1", "0B,0100701,7"]


# --- recorded transcripts, fed split at every byte boundary ---------------------------

TRANSCRIPTS: list[tuple[str, str, bytes, list[Event]]] = [
    (
        "huawei E171 cmgr with rssi",
        "AT+CMGR=0",
        b"AT+CMGR=0\r\r\n^RSSI:3\r\n+CMGR: 0,,24\r\n0791AA\r\n\r\nOK\r\n\r\n",
        [Unsolicited("^RSSI", ["3"], "^RSSI:3"), Info("+CMGR: 0,,24"), Info("0791AA"),
         Final(True, "OK")],
    ),
    (
        "wavecom creg",
        "AT+CREG?",
        b"\r\n+CREG: 2,1,4CA,81DE445\r\n\r\nOK\r\n",
        [Info("+CREG: 2,1,4CA,81DE445"), Final(True, "OK")],
    ),
    (
        "simcom bare prompt",
        "AT+CMGS=9",
        b"AT+CMGS=9\r\n>\r\n",
        [Prompt()],
    ),
    (
        "motorola csq with leading zeros",
        "AT+CSQ",
        b"+CSQ: 018,099\r\nOK\r",
        [Info("+CSQ: 018,099"), Final(True, "OK")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "command", "data", "expected"), TRANSCRIPTS)
def test_transcript_at_every_split(
    name: str, command: str, data: bytes, expected: list[Event]
) -> None:
    for cut in range(len(data) + 1):
        engine = ATEngine()
        engine.send(command)
        events = engine.receive_data(data[:cut]) + engine.receive_data(data[cut:])
        assert events == expected, f"{name}: split at {cut}"


def test_transcript_byte_by_byte() -> None:
    engine = ATEngine()
    engine.send("AT+CMGL=4")
    data = b"AT+CMGL=4\r\r\n+CMGL: 0,1,,5\r\nAABB\r\n+CDS: 5\r\nCCDD\r\n^BOOT:1\r\nOK\r\n"
    events: list[Event] = []
    for byte in data:
        events += engine.receive_data(bytes([byte]))
    assert events == [
        Info("+CMGL: 0,1,,5"),
        Info("AABB"),
        Unsolicited("+CDS", ["5"], "+CDS: 5", pdu="CCDD"),
        Unsolicited("^BOOT", ["1"], "^BOOT:1"),
        Final(True, "OK"),
    ]


def test_discarded_is_an_event_type() -> None:
    assert Discarded("x", "y").line == "x"


def test_late_cmgs_inside_another_commands_answer_is_a_urc() -> None:
    assert run("AT+CMGL=4", b"\r\n+CMGS: 7\r\n\r\nOK\r\n") == [
        Unsolicited("+CMGS", ["7"], "+CMGS: 7"),
        Final(True, "OK"),
    ]
