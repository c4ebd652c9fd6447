from datetime import UTC, datetime, timedelta, timezone

import pytest

from agent.modem.pdu import Deliver, PDUError, StatusReport, Submit, decode, encode_submit
from agent.modem.pdu_fields import (
    Alphabet,
    Reader,
    encode_address,
    encode_timestamp,
    read_address,
    read_timestamp,
)

EXAMPLE_SUBMIT = "0031000C914477000910320000A714C834888E2ECBCB2CD0A65C036D78EFF5C607"
EXAMPLE_DELIVER = (
    "07919761989901F0440B919761214365F70008423051410350211F06080412340202041F04400438043204350442"
    "002C0020043C043804400021"
)
EXAMPLE_REPORT = "0791447758100650064D0C91447700091032423051410300004230514103700000"


def test_submit_with_extension_characters_matches_the_worked_example():
    (part,) = encode_submit(
        "+447700900123", "Hi there, €5 [ok]", report=True, validity_minutes=1440
    )
    assert part.pdu == EXAMPLE_SUBMIT
    assert part.tpdu_length == 32
    assert (part.part, part.parts, part.reference) == (1, 1, None)


def test_classic_hellohello_submit():
    (part,) = encode_submit("+46708251358", "hellohello", validity_minutes=4 * 1440)
    assert part.pdu == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"


def test_deliver_ucs2_part_two_of_two_with_16_bit_reference():
    msg = decode(EXAMPLE_DELIVER)
    assert isinstance(msg, Deliver)
    assert msg.smsc == "+79168999100"
    assert msg.sender == "+79161234567"
    assert msg.text == "Привет, мир!"
    assert msg.alphabet is Alphabet.UCS2
    assert msg.timestamp == datetime(2024, 3, 15, 14, 30, 5, tzinfo=timezone(timedelta(hours=3)))
    assert (msg.concat.reference, msg.concat.total, msg.concat.sequence, msg.concat.bits) == (
        0x1234,
        2,
        2,
        16,
    )
    assert not msg.more_messages


def test_status_report_delivered():
    rep = decode(EXAMPLE_REPORT)
    assert isinstance(rep, StatusReport)
    assert rep.reference == 77
    assert rep.recipient == "+447700900123"
    assert rep.discharge_time == datetime(2024, 3, 15, 14, 30, 7, tzinfo=UTC)
    assert (rep.status, rep.delivered, rep.final) == (0, True, True)
    assert rep.meaning == "short message received by the SME"


def test_status_report_without_smsc_field_is_found_when_asked_to_guess():
    bare = EXAMPLE_REPORT[16:]
    assert decode(bare, has_smsc=False).reference == 77
    assert decode(bare, has_smsc=None).reference == 77


@pytest.mark.parametrize(
    ("status", "delivered", "final", "words"),
    [
        (0x21, False, False, "SME busy, SC still trying"),
        (0x46, False, True, "validity period"),
        (0x62, False, True, "gave up"),
        (0x05, True, True, "completed"),
    ],
)
def test_status_codes_have_meanings(status, delivered, final, words):
    pdu = EXAMPLE_REPORT[:-2] + f"{status:02X}"
    rep = decode(pdu)
    assert (rep.delivered, rep.final) == (delivered, final)
    assert words in rep.meaning


def test_multipart_gsm7_parts_carry_one_reference_and_septet_aligned_text():
    text = "x" * 150 + "€" * 10
    parts = encode_submit("+420774884138", text, reference=0xA7, report=True)
    assert [p.part for p in parts] == [1, 2]
    assert {p.reference for p in parts} == {0xA7}
    first = decode(parts[0].pdu)
    assert isinstance(first, Submit)
    assert first.report_requested
    assert first.concat.reference == 0xA7
    assert "".join(decode(p.pdu).text for p in parts) == text
    # UDL of part 1: 7 header septets + 152 text septets (the € pair moved to part 2)
    raw = bytes.fromhex(parts[0].pdu)
    da_len = raw[3]  # after SMSC length 00, first octet, TP-MR
    udl = raw[5 + (da_len + 1) // 2 + 2]  # after TOA, the digits, TP-PID and TP-DCS
    assert udl == 7 + 152


def test_sixteen_bit_reference():
    parts = encode_submit("+420774884138", "y" * 200, reference=0x1234, ref16=True)
    assert decode(parts[1].pdu).concat.bits == 16
    assert decode(parts[1].pdu).concat.reference == 0x1234


def test_ucs2_with_emoji_round_trips():
    text = "Ahoj 😀 " * 20
    parts = encode_submit("+420774884138", text, reference=1)
    assert all(p.encoding == "ucs2" for p in parts)
    assert "".join(decode(p.pdu).text for p in parts) == text


def test_flash_sets_class_zero():
    (part,) = encode_submit("+420774884138", "flash", flash=True)
    assert decode(part.pdu).message_class == 0


def test_smsc_prefix_changes_the_pdu_but_not_the_tpdu_length():
    (plain,) = encode_submit("+420774884138", "hi")
    (with_smsc,) = encode_submit("+420774884138", "hi", smsc="+420603052000")
    assert with_smsc.pdu.startswith("07912460035000F2") or with_smsc.pdu.startswith("0791")
    assert with_smsc.tpdu_length == plain.tpdu_length
    assert decode(with_smsc.pdu).smsc == "+420603052000"


def test_national_and_alphanumeric_destinations():
    (national,) = encode_submit("774884138", "hi", toa=0xA1)
    assert decode(national.pdu).recipient_toa == 0xA1
    assert decode(national.pdu).recipient == "774884138"
    (alpha,) = encode_submit("Alza.cz", "hi")
    assert decode(alpha.pdu).recipient == "Alza.cz"


def test_alphanumeric_sender_round_trips_through_address_codec():
    raw = encode_address("InfoSMS")
    assert raw[1] == 0xD0
    assert read_address(Reader(raw), "TP-OA") == ("InfoSMS", 0xD0)


def test_eight_bit_data_is_returned_as_hex():
    (part,) = encode_submit("+420774884138", b"\x00\xff\x10")
    msg = decode(part.pdu)
    assert msg.alphabet is Alphabet.DATA8
    assert msg.data == "00FF10"


def test_negative_time_zone():
    ts = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-8)))
    raw = encode_timestamp(ts)
    assert raw[-1] == 0x2B
    assert read_timestamp(Reader(raw), "TP-SCTS") == ts


@pytest.mark.parametrize(
    ("pdu", "words"),
    [
        ("", "empty PDU"),
        ("0G", "not hexadecimal"),
        ("079", "odd number of digits"),
        ("07914477", "PDU ends early"),
        ("0003", "TP-MTI 11 is reserved"),
        ("0004" + "0B91" + "9761214365F7" + "00" + "24", "compressed"),
        ("00040B919761214365F7000042305141035021FF41", "exceeds 160 septets"),
        ("00040B919761214365F7000042305141035021" + "0A" + "E832", "TP-UDL 10 septets needs 9"),
        ("00040B919761214365F70000" + "42315141035021" + "01" + "41", "impossible time stamp"),
        ("00440B919761214365F7000842305141035021" + "04" + "0900", "UDH length 9 runs past"),
    ],
)
def test_malformed_pdus_raise_pdu_error_that_says_what_and_where(pdu, words):
    with pytest.raises(PDUError, match=words):
        decode(pdu)


def test_encoding_a_non_digit_number_is_a_clear_value_error():
    with pytest.raises(ValueError, match="must be digits"):
        encode_submit("+42077488413x", "hi")
