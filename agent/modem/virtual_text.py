"""Text mode (AT+CMGF=1) for the virtual modem: what a program that never switches to
PDU mode sees. Our driver does not use it (docs/at-modem.md §4); other peers might."""

from __future__ import annotations

from datetime import datetime, timedelta

from .pdu import Deliver, StatusReport, decode, encode_submit

STAT_NAMES = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT", 4: "ALL"}
STAT_CODES = {name: code for code, name in STAT_NAMES.items()}


def submit_pdu(number: str, text: str) -> str:
    """The SUBMIT a modem builds from AT+CMGS="<number>" and the typed text (one part:
    text mode has no concatenation, the modem sends what fits)."""
    return encode_submit(number, text)[0].pdu


def scts(when: datetime) -> str:
    """27.005 text-mode time stamp: "yy/MM/dd,hh:mm:ss±zz" (zz in quarter hours)."""
    offset = when.utcoffset() or timedelta(0)
    quarters = int(offset.total_seconds() // 900)
    return when.strftime("%y/%m/%d,%H:%M:%S") + f"{quarters:+03d}"


def stored_lines(head: str, stat: int, pdu: str) -> list[str]:
    """`+CMGR: "REC UNREAD","+420…",,"24/03/15,14:30:05+12"` and the text; `head` is
    "+CMGR: " or "+CMGL: <index>,"."""
    message = decode(pdu)
    if isinstance(message, Deliver):
        header = f'{head}"{STAT_NAMES[stat]}","{message.sender}",,"{scts(message.timestamp)}"'
        return [header, message.text]
    if isinstance(message, StatusReport):
        header = (
            f'{head}"{STAT_NAMES[stat]}",6,{message.reference},"{message.recipient}",,'
            f'"{scts(message.sc_timestamp)}","{scts(message.discharge_time)}",{message.status}'
        )
        return [header]
    return [f'{head}"{STAT_NAMES[stat]}","{message.recipient}",,', message.text]


def wanted_stat(argument: str) -> int | None:
    """AT+CMGL="ALL" in text mode, AT+CMGL=4 in PDU mode."""
    value = argument.strip().strip('"').upper()
    if value.isdigit():
        return int(value)
    return STAT_CODES.get(value)
