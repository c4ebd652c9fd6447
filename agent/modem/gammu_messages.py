"""python-gammu's message and network dicts -> the Structs of interface.py. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .interface import DeliveryReport, IncomingSMS
from .pdu import status_meaning

# libgammu's network states -> 27.007 +CREG <stat>.
REGISTRATION_OF_STATE = {
    "HomeNetwork": 1,
    "RoamingNetwork": 5,
    "RequestingNetwork": 2,
    "NoNetwork": 0,
    "RegistrationDenied": 3,
    "Unknown": 4,
    "NetworkStatusUnknown": 4,
}


def incoming_of(message: dict[str, Any]) -> IncomingSMS:
    udh = message.get("UDH") or {}
    parts = udh.get("AllParts") or 0
    multipart = parts > 1
    reference = udh.get("ID16bit", -1) if udh.get("ID16bit", -1) >= 0 else udh.get("ID8bit", -1)
    return IncomingSMS(
        sender=message["Number"],
        text=message["Text"],
        timestamp=message["DateTime"] or datetime.now(UTC),
        smsc=(message.get("SMSC") or {}).get("Number") or None,
        pdu="",  # libgammu does not hand out the raw PDU
        concat_reference=reference if multipart and reference >= 0 else None,
        concat_total=parts if multipart else None,
        concat_sequence=udh.get("PartNumber") if multipart else None,
        concat_bits=(16 if udh.get("ID16bit", -1) >= 0 else 8) if multipart else None,
        memory=message.get("Memory"),
        index=message.get("Location"),
    )


def report_of(message: dict[str, Any], sent: tuple[str | None, int] | None) -> DeliveryReport:
    """A Status_Report dict; `sent` is (message id, part) of the send it matches."""
    status = int(message.get("DeliveryStatus") or 0)
    meaning, delivered, final = status_meaning(status)
    return DeliveryReport(
        mr=int(message.get("MessageReference") or 0),
        recipient=message["Number"],
        status=status,
        meaning=meaning,
        delivered=delivered,
        final=final,
        discharge_time=message.get("DateTime") or datetime.now(UTC),
        message_id=sent[0] if sent else None,
        part=sent[1] if sent else None,
    )
