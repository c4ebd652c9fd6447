"""python-gammu dicts -> our Structs (no libgammu needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.modem.gammu_messages import incoming_of, report_of

WHEN = datetime(2024, 3, 15, 14, 30, 5, tzinfo=UTC)


def test_multipart_part_keeps_its_concat_fields() -> None:
    sms = incoming_of(
        {
            "Number": "+420777123456",
            "Text": "part two",
            "DateTime": WHEN,
            "SMSC": {"Number": "+420603052000"},
            "UDH": {"AllParts": 2, "PartNumber": 2, "ID8bit": 7, "ID16bit": -1},
            "Memory": "SM",
            "Location": 3,
        }
    )
    assert (sms.concat_reference, sms.concat_total, sms.concat_sequence, sms.concat_bits) == (
        7,
        2,
        2,
        8,
    )
    assert (sms.smsc, sms.index) == ("+420603052000", 3)


def test_single_message_has_no_concat() -> None:
    sms = incoming_of({"Number": "1", "Text": "x", "DateTime": WHEN, "UDH": {"AllParts": 0}})
    assert sms.concat_total is None and sms.concat_reference is None


def test_status_report_meaning_and_match() -> None:
    report = report_of(
        {
            "Number": "+420777123456",
            "DeliveryStatus": 0x46,
            "MessageReference": 9,
            "DateTime": WHEN,
        },
        ("m-1", 2),
    )
    assert report.mr == 9 and not report.delivered and report.final
    assert report.meaning == "SM validity period expired"
    assert (report.message_id, report.part) == ("m-1", 2)
