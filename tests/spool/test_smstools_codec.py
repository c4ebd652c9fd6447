"""The smstools3 file codec, against the documented examples (docs/smstools3.md §11)
and files written by the real smsd 3.1.21 (tests/spool/data/*.smsd, produced in its
modem_disabled test mode)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.spool.events import classify_fail_reason
from agent.spool.smstools_codec import (
    IncomingSms,
    MissedCall,
    Outgoing,
    SpoolFileError,
    StatusReportFile,
    encode_outgoing,
    parse_failed,
    parse_incoming,
    parse_sent,
    split_file,
)

DATA = Path(__file__).parent / "data"


def smsd_file(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- outgoing ---------------------------------------------------------------------------


def test_minimal_outgoing_file_has_to_alphabet_and_body_without_trailing_newline() -> None:
    data = encode_outgoing(Outgoing(to="+420 777-123 456", text="Ahoj světe\n"))
    assert data == "To: 420777123456\nAlphabet: UTF-8\n\nAhoj světe".encode()


def test_outgoing_file_carries_every_option_and_the_job_id() -> None:
    msg = Outgoing(
        to="00420777123456",
        text="Hello",
        job_id="7f3c9a1e",
        queue="GSM1",
        report=True,
        flash=True,
        validity="2 days",
        priority_high=True,
    )
    assert encode_outgoing(msg) == (
        b"To: 420777123456\nQueue: GSM1\nAlphabet: UTF-8\nReport: yes\nFlash: yes\n"
        b"Validity: 2 days\nPriority: high\nX-Smsbridge-Id: 7f3c9a1e\n\nHello"
    )


def test_report_no_is_written_when_asked_and_omitted_when_left_to_the_modem() -> None:
    assert b"Report: no\n" in encode_outgoing(Outgoing(to="1", text="x", report=False))
    assert b"Report" not in encode_outgoing(Outgoing(to="1", text="x"))


def test_ucs2_body_is_utf16_big_endian_without_bom() -> None:
    data = encode_outgoing(Outgoing(to="491721234567", text="Привет", alphabet="UCS2"))
    assert data.split(b"\n\n", 1)[1] == "Привет".encode("utf-16-be")
    assert b"Alphabet: UCS2\n" in data


def test_iso_body_is_iso_8859_15_and_refuses_what_it_cannot_hold() -> None:
    data = encode_outgoing(Outgoing(to="1", text="Prix: 5€", alphabet="ISO"))
    assert data.endswith("Prix: 5€".encode("iso-8859-15"))
    with pytest.raises(SpoolFileError, match="ISO-8859-15"):
        encode_outgoing(Outgoing(to="1", text="Привет", alphabet="ISO"))


def test_short_number_keeps_its_s_prefix() -> None:
    assert encode_outgoing(Outgoing(to="s1234", text="x")).startswith(b"To: s1234\n")


@pytest.mark.parametrize("to", ["", "s", "+", "abc", "42O777"])
def test_bad_destination_is_refused_before_reaching_smsd(to: str) -> None:
    with pytest.raises(SpoolFileError, match="'To'"):
        encode_outgoing(Outgoing(to=to, text="x"))


def test_empty_text_is_refused_like_smsd_would() -> None:
    with pytest.raises(SpoolFileError, match="empty"):
        encode_outgoing(Outgoing(to="1", text=""))


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("job_id", "a b", "job id"),
        ("job_id", "x\nTo: 666", "job id"),
        ("queue", "GSM1\nTo: 666", "queue"),
        ("validity", 256, "validity"),
        ("validity", "forever", "validity"),
    ],
)
def test_values_that_would_inject_or_break_headers_are_refused(
    field: str, value: object, match: str
) -> None:
    with pytest.raises(SpoolFileError, match=match):
        encode_outgoing(Outgoing(to="1", text="x", **{field: value}))  # type: ignore[arg-type]


@given(st.text(min_size=1).filter(lambda t: t.rstrip("\n")))
def test_utf8_body_round_trips_through_the_sent_parser(text: str) -> None:
    data = encode_outgoing(Outgoing(to="1", text=text, alphabet="UTF-8", job_id="j"))
    sent = parse_sent(data.replace(b"\n\n", b"\nModem: GSM1\nSent: 24-01-02 03:04:05\n\n", 1))
    assert sent.text == text.rstrip("\n")
    assert sent.job_id == "j"


# --- headers ------------------------------------------------------------------------------


def test_headers_are_case_sensitive_and_keep_order_and_repeats() -> None:
    headers, body = split_file(b"To: 1\nPDU: AA\nPDU: BB\nto: 2\n\nbody\n\nmore")
    assert headers.get("To") == "1"
    assert headers.get("to") == "2"
    assert headers.all("PDU") == ("AA", "BB")
    assert body == b"body\n\nmore"


def test_utf8_bom_is_ignored_and_crlf_files_are_read() -> None:
    headers, body = split_file(b"\xef\xbb\xbfTo: 1\r\nAlphabet: UTF-8\r\n\r\nx")
    assert headers.get("To") == "1"
    assert headers.get("Alphabet") == "UTF-8"
    assert body == b"x"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"From: 123\nSent: 24-", "no empty line"),
        (b"From: 123\nnot a header\n\nbody", "line 2: 'not a header'"),
    ],
)
def test_malformed_files_say_what_is_wrong(data: bytes, match: str) -> None:
    with pytest.raises(SpoolFileError, match=match):
        parse_incoming(data)


# --- sent and failed ---------------------------------------------------------------------


def test_sent_file_from_real_smsd_gives_modem_time_message_id_and_job_id() -> None:
    sent = parse_sent(smsd_file("sent-report.smsd"))
    assert sent.to == "491721234567"
    assert sent.job_id == "job-1"
    assert sent.modem == "GSM1"
    assert sent.sent == datetime(2026, 11, 26, 3, 37, 42)
    assert sent.sending_time == 11
    assert sent.message_ids == (1,)
    assert sent.imsi is None  # "IMSI: " with nothing after it in test mode
    assert sent.text == "Hello"


SPEC_S2 = (
    "To: +49 172 1234567\nAlphabet: UTF-8\nReport: yes\nFlash: no\nPriority: high\n"
    "Modem: GSM1\nSent: 26-11-26 01:17:58\nSending_time: 13\nMessage_id: 1\n"
    "IMSI: \nIMEI: \nPDU: 0031000C919471123254760008FF32041F\n"
    "NOTICE: Cannot convert 1. character (D09F)П to GSM.\n"
    "NOTICE: 6 characters outside the GSM alphabet, converting to UCS2\n"
    "\nПривет! Température 21°C\n"
).encode()


def test_sent_file_with_pdus_and_notices_from_the_spec() -> None:
    sent = parse_sent(SPEC_S2)
    assert sent.pdus == ("0031000C919471123254760008FF32041F",)
    assert len(sent.notices) == 2
    assert sent.notices[0].endswith("П to GSM.")
    assert sent.text == "Привет! Température 21°C\n"
    assert sent.job_id is None


def test_all_message_ids_of_a_multipart_are_read() -> None:
    sent = parse_sent(b"To: 1\nModem: G\nSent: 24-01-01 00:00:00\nMessage_id: 17 18 19 .\n\nx")
    assert sent.message_ids == (17, 18, 19)


def test_sent_file_without_sent_header_is_malformed() -> None:
    with pytest.raises(SpoolFileError, match="'Sent:'"):
        parse_sent(b"To: 1\nModem: GSM1\n\nx")


def test_failed_file_rejected_by_main_process_from_real_smsd() -> None:
    failed = parse_failed(smsd_file("failed-no-destination.smsd"))
    assert failed.fail_reason == "No destination"
    assert failed.job_id == "job-2"
    assert failed.modem is None
    assert failed.failed == datetime(2026, 11, 26, 3, 37, 31)


def test_failed_file_after_modem_error_from_the_spec() -> None:
    failed = parse_failed(
        b"To: 420777123456\nAlphabet: UTF-8\nX-Smsbridge-Id: 7f3c9a1e\nModem: GSM1\n"
        b"IMSI: 230011234567890\nIMEI: 867962041234567\nFail_reason: +CMS ERROR: 38\n"
        b"Failed: 24-05-02 10:16:41\nPDU: 0011000C9124\n\nHello world"
    )
    assert failed.fail_reason == "+CMS ERROR: 38"
    assert failed.modem == "GSM1"
    assert failed.imsi == "230011234567890"
    assert failed.pdus == ("0011000C9124",)
    assert failed.failed == datetime(2024, 5, 2, 10, 16, 41)


def test_failed_file_without_a_reason_is_malformed() -> None:
    with pytest.raises(SpoolFileError, match="Fail_reason"):
        parse_failed(b"To: 1\n\nx")


def test_timestamps_in_another_datetime_format_are_read_with_that_format() -> None:
    data = b"To: 1\nModem: G\nSent: 2024-01-02T03:04:05\n\nx"
    assert parse_sent(data).sent is None  # not the default format: no guess
    assert parse_sent(data, datetime_format="%Y-%m-%dT%H:%M:%S").sent == datetime(
        2024, 1, 2, 3, 4, 5
    )


# --- incoming ------------------------------------------------------------------------------


def test_incoming_gsm_text_from_real_smsd() -> None:
    sms = parse_incoming(smsd_file("incoming-gsm.smsd"))
    assert isinstance(sms, IncomingSms)
    assert sms.sender == "491721234567"
    assert sms.sender_toa == "91 international, ISDN/telephone"
    assert sms.smsc == "491722270333"
    assert sms.sent == datetime(2024, 3, 15, 9, 41, 12)
    assert sms.modem == "GSM1"
    assert sms.alphabet == "ISO"
    assert sms.text == "Hello from the field, battery at 85%."
    assert not sms.incomplete
    assert not sms.report_requested


def test_incoming_ucs2_body_is_raw_utf16_from_real_smsd() -> None:
    sms = parse_incoming(smsd_file("incoming-ucs2.smsd"))
    assert isinstance(sms, IncomingSms)
    assert sms.alphabet == "UCS2"
    assert sms.text == "Привет, мир!"
    assert len(sms.data) == 24


def test_incoming_utf8_body() -> None:
    data = "From: 491721234567\nModem: GSM1\nAlphabet: UTF-8\nLength: 21\n\nПривет, мир!"
    sms = parse_incoming(data.encode())
    assert isinstance(sms, IncomingSms)
    assert sms.text == "Привет, мир!"


def test_incoming_utf8_body_that_is_not_utf8_is_malformed() -> None:
    with pytest.raises(SpoolFileError, match="not UTF-8"):
        parse_incoming(b"From: 1\nAlphabet: UTF-8\n\n\xff\xfe")


def test_incoming_part_purged_as_incomplete_keeps_its_udh() -> None:
    data = (
        b"From: 491721234567\nSent: 24-03-15 09:43:31\nModem: GSM1\nReport: no\n"
        b"Incomplete: yes\nAlphabet: ISO\nUDH-DATA: 05 00 03 A7 02 02 \n"
        b"UDH-Type: Length=6, [00]Concatenated short messages, 8-bit reference number\n"
        b"Length: 12\nPDU: 0791947122723033440C91\n\nre and ends."
    )
    sms = parse_incoming(data)
    assert isinstance(sms, IncomingSms)
    assert sms.incomplete
    assert sms.udh_data == "05 00 03 A7 02 02"
    assert sms.pdus == ("0791947122723033440C91",)
    assert sms.text == "re and ends."


def test_incoming_binary_has_data_and_no_text() -> None:
    sms = parse_incoming(b"From: 1\nAlphabet: binary\n\n\x00\x01\n\n\x02")
    assert isinstance(sms, IncomingSms)
    assert sms.text is None
    assert sms.data == b"\x00\x01\n\n\x02"


def test_undecodable_pdu_keeps_smsd_error() -> None:
    data = b"Error: Cannot decode PDU, see text part for details.\nFrom: 1\n\nPDU: 07...\n"
    sms = parse_incoming(data)
    assert isinstance(sms, IncomingSms)
    assert sms.error == "Cannot decode PDU, see text part for details."


def test_incoming_without_from_is_malformed() -> None:
    with pytest.raises(SpoolFileError, match="'From:'"):
        parse_incoming(b"Modem: GSM1\n\nhello")


# --- status reports and calls --------------------------------------------------------------


def test_delivered_status_report_from_real_smsd() -> None:
    report = parse_incoming(smsd_file("report-delivered.smsd"))
    assert isinstance(report, StatusReportFile)
    assert report.recipient == "447700900123"
    assert report.message_id == 77
    assert report.status == 0
    assert report.status_text == "Ok,short message received by the SME"
    assert report.discharge == datetime(2024, 3, 15, 14, 30, 7)
    assert report.delivered
    assert report.final


def test_expired_status_report_is_a_final_failure() -> None:
    data = (
        b"From: 447700900123\nModem: GSM1\nAlphabet: UTF-8\nUDH: no\n\nSMS STATUS REPORT\n"
        b"Message_id: 78\nDischarge_timestamp: 24-03-22 14:31:02\n"
        b"Status: 70,Error,SM validity period expired"
    )
    report = parse_incoming(data)
    assert isinstance(report, StatusReportFile)
    assert (report.status, report.delivered, report.final) == (70, False, True)
    assert report.status_text == "Error,SM validity period expired"


def test_still_trying_status_report_is_not_final() -> None:
    data = b"From: 1\n\nSMS STATUS REPORT\nMessage_id: 5\nStatus: 33,Still trying,SME busy"
    report = parse_incoming(data)
    assert isinstance(report, StatusReportFile)
    assert (report.delivered, report.final) == (False, False)


def test_status_report_without_message_id_is_malformed() -> None:
    with pytest.raises(SpoolFileError, match="Message_id"):
        parse_incoming(b"From: 1\n\nSMS STATUS REPORT\nStatus: 0,Ok,x")


def test_missed_call_file() -> None:
    data = (
        b"From: 420777123456\nFrom_TOA: 91 international, ISDN/telephone\nSubject: GSM1\n"
        b"Modem: GSM1\nCall_type: missed\nReceived: 24-05-02 10:20:11\n\nCALL MISSED\n"
    )
    call = parse_incoming(data)
    assert isinstance(call, MissedCall)
    assert call.caller == "420777123456"
    assert call.received == datetime(2024, 5, 2, 10, 20, 11)


@given(st.binary(max_size=200))
def test_any_bytes_either_parse_or_raise_spool_file_error(data: bytes) -> None:
    for parse in (parse_incoming, parse_sent, parse_failed):
        with contextlib.suppress(SpoolFileError):
            parse(data)


def test_failed_file_from_real_smsd_after_cms_error_has_smsd_explanation() -> None:
    # Reality (3.1.21) vs docs/smstools3.md §4.2: smsd appends "(explanation)" to the
    # modem's answer.
    failed = parse_failed(smsd_file("failed-cms-error.smsd"))
    assert failed.fail_reason == "+CMS ERROR: 38 (Network out of order)"
    assert failed.modem == "GSM1"
    assert failed.imsi == "230011234567890"
    assert failed.job_id == "bad"
    assert failed.pdus == ("0011000C912470772143650000FF0AC8329BFD0699C36936",)
    assert classify_fail_reason(failed.fail_reason) == "cms-error:38"


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("+CMS ERROR: 500", "cms-error:500"),
        ("+CME ERROR: 10 (SIM not inserted)", "cme-error:10"),
        ("ERROR", "modem-error"),
        ("Modem initialization failed", "modem-unavailable"),
        ("Unknown", "unknown"),
        ("No destination", "rejected"),
        ("Rejected by checkhandler", "rejected"),
    ],
)
def test_fail_reasons_get_a_machine_code(reason: str, code: str) -> None:
    assert classify_fail_reason(reason) == code


def test_sent_file_from_real_smsd_on_a_modem_has_imsi_and_imei() -> None:
    sent = parse_sent(smsd_file("sent-real-modem.smsd"))
    assert (sent.imsi, sent.imei) == ("230011234567890", "867962041234567")
    assert sent.message_ids == ()  # no Report: asked, so no Message_id
    assert sent.text == "Hello ok"


@given(st.text(min_size=1).filter(lambda t: t.rstrip("\n")))
def test_ucs2_body_round_trips_through_the_sent_parser(text: str) -> None:
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    data = encode_outgoing(Outgoing(to="1", text=text, alphabet="UCS2"))
    sent = parse_sent(data.replace(b"\n\n", b"\nModem: G\nSent: 24-01-02 03:04:05\n\n", 1))
    assert sent.text == text.rstrip("\n")


ISO_TEXT = st.text(
    alphabet=st.characters(codec="iso-8859-15", exclude_characters="\n"), min_size=1
).filter(lambda t: not _valid_utf8_non_ascii(t.encode("iso-8859-15")))


def _valid_utf8_non_ascii(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data.isascii()


@given(ISO_TEXT)
def test_iso_body_round_trips_unless_it_looks_like_utf8(text: str) -> None:
    data = encode_outgoing(Outgoing(to="1", text=text, alphabet="ISO"))
    sent = parse_sent(data.replace(b"\n\n", b"\nModem: G\nSent: 24-01-02 03:04:05\n\n", 1))
    assert sent.text == text
