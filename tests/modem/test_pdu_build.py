"""SMS-DELIVER and SMS-STATUS-REPORT builders decode back with the agent's codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from agent.modem.pdu import Deliver, StatusReport, decode
from agent.modem.pdu_build import encode_deliver, encode_status_report, tpdu_length

WHEN = datetime(2024, 3, 15, 14, 30, 5, tzinfo=timezone(timedelta(hours=3)))


def test_deliver_gsm7_round_trip() -> None:
    [pdu] = encode_deliver("+420777123456", "Hi there, €5 [ok]", timestamp=WHEN)
    message = decode(pdu)
    assert isinstance(message, Deliver)
    assert (message.sender, message.text, message.timestamp) == (
        "+420777123456",
        "Hi there, €5 [ok]",
        WHEN,
    )
    assert message.smsc == "+420603052000"


def test_deliver_multipart_ucs2_carries_concat_headers() -> None:
    text = "Příliš žluťoučký kůň " * 5
    pdus = encode_deliver("+420777123456", text, timestamp=WHEN, reference=7)
    decoded = [decode(p) for p in pdus]
    assert all(isinstance(m, Deliver) for m in decoded)
    assert [m.concat.sequence for m in decoded if isinstance(m, Deliver) and m.concat] == [1, 2]
    assert "".join(m.text for m in decoded if isinstance(m, Deliver)) == text


def test_status_report_matches_spec_example() -> None:
    pdu = encode_status_report(
        77,
        "+447700900123",
        sc_timestamp=datetime(2024, 3, 15, 14, 30, 0, tzinfo=UTC),
        discharge_time=datetime(2024, 3, 15, 14, 30, 7, tzinfo=UTC),
        smsc="+447785016005",
    )
    assert pdu == "0791447758100650064D0C91447700091032423051410300004230514103700000"
    report = decode(pdu)
    assert isinstance(report, StatusReport) and report.delivered and report.reference == 77


def test_tpdu_length_skips_the_smsc_field() -> None:
    assert tpdu_length("0791447758100650064D0C91447700091032423051410300004230514103700000") == 25
