"""The PDU codec (3GPP TS 23.040), pure: SMS-SUBMIT out, SMS-DELIVER, SMS-SUBMIT and
SMS-STATUS-REPORT in.

    parts = encode_submit("+420774884138", "Ahoj", report=True)
    parts[0].pdu, parts[0].tpdu_length        # for AT+CMGS=<tpdu_length>
    decode("07919761...")                     # -> Deliver | Submit | StatusReport

Malformed input raises PDUError (what is wrong and at which octet), nothing else.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Literal

import msgspec

from sms import gsm7, ucs2
from sms.segment import Encoding, gsm7_parts, ucs2_parts

from .pdu_fields import (
    _CODINGS,
    _NIBBLE_SWAP,
    Alphabet,
    Concat,
    InformationElement,
    PDUError,
    Ports,
    Reader,
    concat_header,
    concat_of,
    decode_dcs,
    decode_relative_validity,
    encode_address,
    encode_dcs,
    encode_relative_validity,
    encode_smsc,
    parse_udh,
    ports_of,
    read_address,
    read_smsc,
    read_timestamp,
    timestamp_or_none,
)

__all__ = [
    "Alphabet",
    "Concat",
    "Deliver",
    "EncodedPart",
    "PDUError",
    "Ports",
    "StatusReport",
    "Submit",
    "decode",
    "encode_submit",
    "status_meaning",
]

MAX_PARTS = 255
_DATA8_SINGLE, _DATA8_PART, _DATA8_PART16 = 140, 134, 133


class EncodedPart(msgspec.Struct, frozen=True):
    """One AT+CMGS: the hex PDU (SMSC field first) and the TPDU length to announce."""

    pdu: str
    tpdu_length: int
    part: int
    parts: int
    reference: int | None
    encoding: str
    text: str


class Deliver(msgspec.Struct, frozen=True, tag="deliver"):
    smsc: str | None
    sender: str
    sender_toa: int
    timestamp: datetime
    pid: int
    dcs: int
    alphabet: Alphabet
    message_class: int | None
    text: str
    data: str | None = None  # hex, for 8-bit data
    concat: Concat | None = None
    ports: Ports | None = None
    udh: list[InformationElement] = []
    more_messages: bool = False
    status_report_indication: bool = False
    reply_path: bool = False


class Submit(msgspec.Struct, frozen=True, tag="submit"):
    smsc: str | None
    reference: int
    recipient: str
    recipient_toa: int
    pid: int
    dcs: int
    alphabet: Alphabet
    message_class: int | None
    text: str
    data: str | None = None
    validity_minutes: int | None = None
    concat: Concat | None = None
    ports: Ports | None = None
    udh: list[InformationElement] = []
    report_requested: bool = False
    reject_duplicates: bool = False


class StatusReport(msgspec.Struct, frozen=True, tag="status-report"):
    smsc: str | None
    reference: int
    recipient: str
    recipient_toa: int
    sc_timestamp: datetime
    discharge_time: datetime
    status: int
    meaning: str
    delivered: bool
    final: bool


# --- status (TP-ST) ------------------------------------------------------------------

_STATUS = {
    0x00: "short message received by the SME",
    0x01: "forwarded by the SC to the SME, delivery not confirmed",
    0x02: "replaced by the SC",
    0x20: "congestion, SC still trying",
    0x21: "SME busy, SC still trying",
    0x22: "no response from SME, SC still trying",
    0x23: "service rejected, SC still trying",
    0x24: "quality of service not available, SC still trying",
    0x25: "error in SME, SC still trying",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by SME",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "SM validity period expired",
    0x47: "SM deleted by originating SME",
    0x48: "SM deleted by SC administration",
    0x49: "SM does not exist",
    0x60: "congestion, SC gave up",
    0x61: "SME busy, SC gave up",
    0x62: "no response from SME, SC gave up",
    0x63: "service rejected, SC gave up",
    0x64: "quality of service not available, SC gave up",
    0x65: "error in SME, SC gave up",
}


def status_meaning(status: int) -> tuple[str, bool, bool]:
    """(meaning, delivered, final) for a TP-ST value (TS 23.040 §9.2.3.15)."""
    if status in _STATUS:
        text = _STATUS[status]
    elif status < 0x20:
        text = "completed (SC-specific status)"
    elif status < 0x40:
        text = "temporary error, SC still trying (SC-specific status)"
    elif status < 0x60:
        text = "permanent error (SC-specific status)"
    else:
        text = "temporary error, SC gave up (SC-specific status)"
    return text, status < 0x20, not 0x20 <= status < 0x40


# --- encoding ------------------------------------------------------------------------


def _auto_reference(to: str, text: str) -> int:
    # Callers with state (a modem driver) pass a per-modem counter; this keeps the pure
    # function deterministic when they do not.
    return zlib.crc32(f"{to}\x00{text}".encode()) & 0xFFFF


def encode_submit(
    to: str,
    text: str | bytes,
    *,
    report: bool = False,
    encoding: Encoding | Literal["8bit"] | None = None,
    validity_minutes: int | None = None,
    flash: bool = False,
    smsc: str | None = None,
    reference: int | None = None,
    ref16: bool = False,
    reject_duplicates: bool = False,
    toa: int | None = None,
) -> list[EncodedPart]:
    """Encode `text` (or 8-bit `bytes`) for `to` as one SMS-SUBMIT per part.

    `to` is '+' and digits (international), digits (unknown/national; set `toa` for
    A1) or an alphanumeric address. `reference` is the concatenation reference, 8-bit
    unless `ref16`. Raises ValueError for text that cannot be encoded as asked.
    """
    if isinstance(text, bytes) or encoding == "8bit":
        data = text if isinstance(text, bytes) else text.encode("latin-1")
        alphabet = Alphabet.DATA8
        single, per_part = _DATA8_SINGLE, _DATA8_PART16 if ref16 else _DATA8_PART
        bodies = (
            [data]
            if len(data) <= single
            else [data[i : i + per_part] for i in range(0, len(data), per_part)]
        )
        shown = [body.hex() for body in bodies]
    else:
        gsm = None if encoding is Encoding.UCS2 else gsm7_parts(text, ref16=ref16)
        if gsm is not None:
            alphabet = Alphabet.GSM7
            shown, bodies = gsm  # bodies: each part's septets, one per byte
        elif encoding is Encoding.GSM7:
            raise gsm7.first_foreign(text)  # names the character with no GSM 7-bit form
        else:
            alphabet = Alphabet.UCS2
            shown, bodies = ucs2_parts(text, ref16=ref16)
    total = len(bodies)
    if total > MAX_PARTS:
        raise ValueError(f"message needs {total} parts, more than {MAX_PARTS}")
    if reference is None and total > 1:
        reference = _auto_reference(to, text if isinstance(text, str) else text.hex())
    if reference is not None:
        reference &= 0xFFFF if ref16 else 0xFF

    first = 0x01  # TP-MTI SUBMIT
    if reject_duplicates:
        first |= 0x04
    if validity_minutes is not None:
        first |= 0x10  # TP-VPF relative
    if report:
        first |= 0x20
    if total > 1:
        first |= 0x40  # TP-UDHI
    tpdu_head = (
        bytes([first, 0x00])
        + encode_address(to, toa)
        + bytes([0x00, encode_dcs(alphabet, flash)])
        + (
            bytes([encode_relative_validity(validity_minutes)])
            if validity_minutes is not None
            else b""
        )
    )
    smsc_field = encode_smsc(smsc)
    head = smsc_field + tpdu_head  # every octet up to TP-UDL: the same in every part
    tpdu_start = len(smsc_field)
    encoding_name = str(alphabet)

    if total == 1:
        body = bodies[0]
        if alphabet is Alphabet.GSM7:
            udl, ud = len(body), gsm7.pack(body)
        else:
            udl, ud = len(body), body
        pdu = head + bytes([udl]) + ud
        return [
            EncodedPart(
                pdu.hex().upper(), len(pdu) - tpdu_start, 1, 1, None, encoding_name, shown[0]
            )
        ]

    parts: list[EncodedPart] = []
    for n, body in enumerate(bodies, 1):
        udh = concat_header(reference or 0, total, n, ref16)
        if alphabet is Alphabet.GSM7:
            ud = udh + gsm7.pack(body, gsm7.fill_bits_after_header(len(udh)))
            udl = gsm7.header_septets(len(udh)) + len(body)
        else:
            ud = udh + body
            udl = len(ud)
        pdu = head + bytes([udl]) + ud
        parts.append(
            EncodedPart(
                pdu.hex().upper(),
                len(pdu) - tpdu_start,
                n,
                total,
                reference,
                encoding_name,
                shown[n - 1],
            )
        )
    return parts


# --- decoding ------------------------------------------------------------------------


def _to_bytes(pdu: str | bytes) -> bytes:
    if isinstance(pdu, bytes):
        return pdu
    try:
        return bytes.fromhex(pdu)  # the common case; the checks below name what is wrong
    except ValueError:
        pass
    text = pdu.strip()
    if len(text) % 2:
        raise PDUError(f"hex PDU has an odd number of digits ({len(text)})", offset=len(text) // 2)
    try:
        return bytes.fromhex(text)
    except ValueError:
        bad = next((i for i, c in enumerate(text) if c not in "0123456789abcdefABCDEF"), 0)
        raise PDUError(f"not hexadecimal: {text[bad]!r} at character {bad}") from None


# (text, data as hex for 8-bit messages, the UDH's elements)
_UserData = tuple[str, str | None, list[InformationElement]]


def _read_user_data(r: Reader, alphabet: Alphabet, has_udh: bool) -> _UserData:
    start = r.pos
    udl = r.octet("TP-UDL")
    ud = r.rest()
    elements: list[InformationElement] = []
    header_len = 0
    if has_udh:
        if not ud:
            raise PDUError("TP-UDHI set but the user data is empty", offset=start + 1, field="UDH")
        header_len = ud[0] + 1
        if header_len > len(ud):
            raise PDUError(
                f"UDH length {ud[0]} runs past the user data ({len(ud)} octets)",
                offset=start + 1,
                field="UDH",
            )
        elements = parse_udh(ud[1:header_len], start + 2)
    if alphabet is Alphabet.GSM7:
        if udl > 160:
            raise PDUError(f"TP-UDL {udl} exceeds 160 septets", offset=start, field="TP-UDL")
        need = (udl * 7 + 7) // 8
        if len(ud) < need:
            raise PDUError(
                f"user data has {len(ud)} octets, TP-UDL {udl} septets needs {need}",
                offset=start,
                field="TP-UD",
            )
        skip = gsm7.header_septets(header_len) if header_len else 0
        if skip > udl:
            raise PDUError("UDH is longer than TP-UDL", offset=start, field="TP-UDL")
        fill = gsm7.fill_bits_after_header(header_len) if header_len else 0
        septets = gsm7.unpack_bytes(ud[header_len:], udl - skip, fill)
        return gsm7.decode(septets), None, elements
    if udl > 140:
        raise PDUError(f"TP-UDL {udl} exceeds 140 octets", offset=start, field="TP-UDL")
    if len(ud) < udl:
        raise PDUError(
            f"user data has {len(ud)} octets, TP-UDL says {udl}", offset=start, field="TP-UD"
        )
    if header_len > udl:
        raise PDUError("UDH is longer than TP-UDL", offset=start, field="TP-UDL")
    body = ud[header_len:udl]
    if alphabet is Alphabet.UCS2:
        # Some SMSCs pad with NULs; they are never part of the text.
        return ucs2.decode(body).rstrip("\x00"), None, elements
    return body.decode("latin-1"), body.hex().upper(), elements


def _decode_deliver(r: Reader, smsc: str | None, first: int) -> Deliver:
    sender, sender_toa = read_address(r, "TP-OA")
    dcs_at = r.pos + 1
    pid, dcs = r.take(2, "TP-PID, TP-DCS")
    coding = decode_dcs(dcs, dcs_at)
    ts = read_timestamp(r, "TP-SCTS")
    text, data, udh = _read_user_data(r, coding.alphabet, bool(first & 0x40))
    return Deliver(
        smsc=smsc,
        sender=sender,
        sender_toa=sender_toa,
        timestamp=ts,
        pid=pid,
        dcs=dcs,
        alphabet=coding.alphabet,
        message_class=coding.message_class,
        text=text,
        data=data,
        concat=concat_of(udh) if udh else None,
        ports=ports_of(udh) if udh else None,
        udh=udh,
        more_messages=not first & 0x04,
        status_report_indication=bool(first & 0x20),
        reply_path=bool(first & 0x80),
    )


def _decode_submit(r: Reader, smsc: str | None, first: int) -> Submit:
    mr = r.octet("TP-MR")
    recipient, toa = read_address(r, "TP-DA")
    dcs_at = r.pos + 1
    pid, dcs = r.take(2, "TP-PID, TP-DCS")
    coding = decode_dcs(dcs, dcs_at)
    vpf = (first >> 3) & 0x03
    validity = None
    if vpf == 0b10:
        validity = decode_relative_validity(r.octet("TP-VP"))
    elif vpf in (0b01, 0b11):
        r.take(7, "TP-VP")  # absolute or enhanced: not needed by anything we do
    text, data, udh = _read_user_data(r, coding.alphabet, bool(first & 0x40))
    return Submit(
        smsc=smsc,
        reference=mr,
        recipient=recipient,
        recipient_toa=toa,
        pid=pid,
        dcs=dcs,
        alphabet=coding.alphabet,
        message_class=coding.message_class,
        text=text,
        data=data,
        validity_minutes=validity,
        concat=concat_of(udh) if udh else None,
        ports=ports_of(udh) if udh else None,
        udh=udh,
        report_requested=bool(first & 0x20),
        reject_duplicates=bool(first & 0x04),
    )


def _decode_status_report(r: Reader, smsc: str | None) -> StatusReport:
    mr = r.octet("TP-MR")
    recipient, toa = read_address(r, "TP-RA")
    scts = read_timestamp(r, "TP-SCTS")
    dt = read_timestamp(r, "TP-DT")
    st = r.octet("TP-ST")
    # TP-PI and what follows are optional and carry nothing we act on.
    meaning, delivered, final = status_meaning(st)
    return StatusReport(
        smsc=smsc,
        reference=mr,
        recipient=recipient,
        recipient_toa=toa,
        sc_timestamp=scts,
        discharge_time=dt,
        status=st,
        meaning=meaning,
        delivered=delivered,
        final=final,
    )


# --- the fast path ---------------------------------------------------------------
#
# Nearly every PDU a modem shows is a well-formed DELIVER (or SUBMIT, read back from
# storage) with a numeric or alphanumeric address, no UDH or the 8-bit concatenation
# header alone. `_decode_fast` reads those shapes in one function with plain indexing
# and positional Struct construction (the per-field Reader calls and keyword arguments
# were most of the decoder's time). On anything else, and wherever the careful path
# would raise, it returns None and the careful path decodes from the start, so results
# and errors stay exactly the careful path's (tests/modem/test_pdu_fast.py compares).


def _fast_address(data: bytes, i: int, end: int) -> tuple[str, int, int] | None:
    """(number, toa, next offset) of the address at `i`, or None: see `read_address`."""
    if i + 2 > end:
        return None
    length = data[i]
    if length > 20:
        return None
    toa = data[i + 1]
    stop = i + 2 + (length + 1) // 2
    if stop > end:
        return None
    ton = (toa >> 4) & 0x07
    if ton == 5:  # alphanumeric
        raw = data[i + 2 : stop]
        return gsm7.decode(gsm7.unpack_bytes(raw, length * 4 // 7)), toa, stop
    digits = data[i + 2 : stop].translate(_NIBBLE_SWAP).hex()[:length]
    if not digits.isdigit():
        return None  # empty, or padding / A–F nibbles to map: the careful path does it
    return ("+" + digits if ton == 1 else digits), toa, stop


_FastUserData = tuple[str, str | None, list[InformationElement], Concat | None]


def _fast_user_data(data: bytes, i: int, alphabet: Alphabet, has_udh: bool) -> _FastUserData | None:
    """(text, data, elements, concat) of TP-UDL at `i` onward, or None: see `_read_user_data`."""
    if i >= len(data):
        return None
    udl = data[i]
    ud = data[i + 1 :]
    if has_udh:
        # Only the 8-bit concatenation element alone (UDHL 5: 00 03 ref total seq).
        if len(ud) < 6 or ud[0] != 5 or ud[1] != 0 or ud[2] != 3:
            return None
        elements = [InformationElement(0, ud[3:6])]
        concat = Concat(ud[3], ud[4], ud[5], 8)
        header_len = 6
    else:
        elements = []
        concat = None
        header_len = 0
    if alphabet is Alphabet.GSM7:
        if udl > 160 or len(ud) < (udl * 7 + 7) // 8:
            return None
        if has_udh:
            if udl < 7:  # the 6-octet header takes 7 septets, one fill bit
                return None
            septets = gsm7.unpack_bytes(ud[6:], udl - 7, 1)
        else:
            septets = gsm7.unpack_bytes(ud, udl)
        return gsm7.decode(septets), None, elements, concat
    if udl > 140 or len(ud) < udl or header_len > udl:
        return None
    body = ud[header_len:udl]
    if alphabet is Alphabet.UCS2:
        return ucs2.decode(body).rstrip("\x00"), None, elements, concat
    return body.decode("latin-1"), body.hex().upper(), elements, concat


def _decode_fast(data: bytes) -> Deliver | Submit | None:
    """A PDU with its SMSC field, decoded as `_decode(data, True)` would, or None."""
    end = len(data)
    smsc_len = data[0]
    if smsc_len == 0:
        smsc = None
    else:
        if smsc_len > 11 or smsc_len + 1 > end:
            return None
        digits = data[2 : smsc_len + 1].translate(_NIBBLE_SWAP).hex()
        if digits.endswith("f"):
            digits = digits[:-1]
        if not digits.isdigit():
            return None
        smsc = "+" + digits if (data[1] >> 4) & 0x07 == 1 else digits
    i = smsc_len + 1
    if i >= end:
        return None
    first = data[i]
    mti = first & 0x03
    if mti == 0b00:
        address = _fast_address(data, i + 1, end)
        if address is None:
            return None
        sender, toa, i = address
        if i + 9 > end:  # PID, DCS, SCTS
            return None
        pid, dcs = data[i], data[i + 1]
        coding = _CODINGS[dcs]
        if coding is None:
            return None
        timestamp = timestamp_or_none(data[i + 2 : i + 9])
        if timestamp is None:
            return None
        ud = _fast_user_data(data, i + 9, coding.alphabet, bool(first & 0x40))
        if ud is None:
            return None
        text, hex_data, elements, concat = ud
        return Deliver(
            smsc,
            sender,
            toa,
            timestamp,
            pid,
            dcs,
            coding.alphabet,
            coding.message_class,
            text,
            hex_data,
            concat,
            None,
            elements,
            not first & 0x04,
            bool(first & 0x20),
            bool(first & 0x80),
        )
    if mti == 0b01:
        if i + 1 >= end:
            return None
        reference = data[i + 1]
        address = _fast_address(data, i + 2, end)
        if address is None:
            return None
        recipient, toa, i = address
        if i + 2 > end:
            return None
        pid, dcs = data[i], data[i + 1]
        coding = _CODINGS[dcs]
        if coding is None:
            return None
        i += 2
        vpf = (first >> 3) & 0x03
        validity = None
        if vpf == 0b10:
            if i >= end:
                return None
            validity = decode_relative_validity(data[i])
            i += 1
        elif vpf:
            if i + 7 > end:
                return None
            i += 7
        ud = _fast_user_data(data, i, coding.alphabet, bool(first & 0x40))
        if ud is None:
            return None
        text, hex_data, elements, concat = ud
        return Submit(
            smsc,
            reference,
            recipient,
            toa,
            pid,
            dcs,
            coding.alphabet,
            coding.message_class,
            text,
            hex_data,
            validity,
            concat,
            None,
            elements,
            bool(first & 0x20),
            bool(first & 0x04),
        )
    return None


def _decode(data: bytes, has_smsc: bool) -> Deliver | Submit | StatusReport:
    r = Reader(data)
    smsc = read_smsc(r) if has_smsc else None
    first_at = r.pos
    first = r.octet("first octet")
    mti = first & 0x03
    if mti == 0b00:
        return _decode_deliver(r, smsc, first)
    if mti == 0b01:
        return _decode_submit(r, smsc, first)
    if mti == 0b10:
        return _decode_status_report(r, smsc)
    raise PDUError("TP-MTI 11 is reserved", offset=first_at, field="first octet")


def decode(pdu: str | bytes, *, has_smsc: bool | None = True) -> Deliver | Submit | StatusReport:
    """Decode a PDU as a modem shows it (SMSC field first). `has_smsc=False` for a bare
    TPDU; None tries with the SMSC field, then without (some modems omit it in +CDS)."""
    data = _to_bytes(pdu)
    if data and has_smsc is not False:
        fast = _decode_fast(data)
        if fast is not None:
            return fast
    return _decode_careful(data, has_smsc)


def _decode_careful(data: bytes, has_smsc: bool | None) -> Deliver | Submit | StatusReport:
    """`decode` field by field: every PDU gets here that the fast path does not take."""
    if not data:
        raise PDUError("empty PDU")
    if has_smsc is not None:
        return _decode(data, has_smsc)
    try:
        return _decode(data, True)
    except PDUError as first_error:
        try:
            return _decode(data, False)
        except PDUError:
            raise first_error from None
