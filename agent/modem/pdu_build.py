"""Build the PDUs a modem *receives* from the network: SMS-DELIVER and SMS-STATUS-REPORT.

The agent never sends these; the virtual modem and the tests need them to play the
network's part. Kept apart from pdu.py (the codec the agent uses) on purpose.

    encode_deliver("+420777123456", "Ahoj", timestamp=now)     -> ["0791...", ...]
    encode_status_report(77, "+447700900123", status=0, ...)  -> "0791..."
"""

from __future__ import annotations

from datetime import UTC, datetime

from sms import gsm7, ucs2
from sms.segment import Encoding, segment

from .pdu_fields import (
    Alphabet,
    concat_header,
    encode_address,
    encode_dcs,
    encode_smsc,
    encode_timestamp,
)


def tpdu_length(pdu_hex: str) -> int:
    """Octets after the SMSC field: what +CMGR/+CMGL/+CMT/+CDS announce."""
    data = bytes.fromhex(pdu_hex)
    return len(data) - 1 - data[0]


def encode_deliver(
    sender: str,
    text: str,
    *,
    timestamp: datetime | None = None,
    smsc: str | None = "+420603052000",
    encoding: Encoding | None = None,
    reference: int = 0x42,
    ref16: bool = False,
    report_indication: bool = False,
) -> list[str]:
    """One SMS-DELIVER hex PDU (SMSC field first) per part of `text` from `sender`."""
    when = timestamp or datetime.now(UTC).replace(microsecond=0)
    seg = segment(text, ref16=ref16, encoding=encoding)
    alphabet = Alphabet.GSM7 if seg.encoding is Encoding.GSM7 else Alphabet.UCS2
    total = len(seg.parts)
    pdus: list[str] = []
    for n, chunk in enumerate(seg.parts, 1):
        first = 0x04  # TP-MTI DELIVER, TP-MMS: no more messages waiting
        if report_indication:
            first |= 0x20
        udh = concat_header(reference, total, n, ref16) if total > 1 else b""
        if udh:
            first |= 0x40
        if alphabet is Alphabet.GSM7:
            septets = gsm7.encode(chunk)
            fill = gsm7.fill_bits_after_header(len(udh)) if udh else 0
            ud = udh + gsm7.pack(septets, fill)
            udl = (gsm7.header_septets(len(udh)) if udh else 0) + len(septets)
        else:
            body = ucs2.encode(chunk)
            ud, udl = udh + body, len(udh) + len(body)
        tpdu = (
            bytes([first])
            + encode_address(sender)
            + bytes([0x00, encode_dcs(alphabet)])
            + encode_timestamp(when)
            + bytes([udl])
            + ud
        )
        pdus.append((encode_smsc(smsc) + tpdu).hex().upper())
    return pdus


def encode_status_report(
    reference: int,
    recipient: str,
    *,
    status: int = 0x00,
    sc_timestamp: datetime | None = None,
    discharge_time: datetime | None = None,
    smsc: str | None = "+420603052000",
) -> str:
    """An SMS-STATUS-REPORT for the SUBMIT whose TP-MR was `reference`."""
    now = datetime.now(UTC).replace(microsecond=0)
    tpdu = (
        bytes([0x06, reference & 0xFF])  # TP-MTI STATUS-REPORT, TP-MMS, SRQ 0
        + encode_address(recipient)
        + encode_timestamp(sc_timestamp or now)
        + encode_timestamp(discharge_time or now)
        + bytes([status])
    )
    return (encode_smsc(smsc) + tpdu).hex().upper()
