"""The fields inside a TPDU (TS 23.040 §9.1–9.2): addresses, time stamps, DCS, UDH and
validity. Pure functions over bytes; errors are PDUError with the octet offset."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone

import msgspec

from agent.errors import AgentError
from sms import gsm7


class PDUError(AgentError, ValueError):
    """A PDU is malformed. `offset` is the octet (from the start of what was decoded)
    where the problem is, `field` the TPDU field being read."""

    def __init__(self, message: str, *, offset: int | None = None, field: str | None = None):
        where = []
        if field:
            where.append(field)
        if offset is not None:
            where.append(f"octet {offset}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)
        self.offset = offset
        self.field = field


class Alphabet(enum.StrEnum):
    GSM7 = "gsm7"
    DATA8 = "8bit"
    UCS2 = "ucs2"


class TON(enum.IntEnum):
    """Type of number, bits 6–4 of the TOA octet."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK = 3
    SUBSCRIBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


# The enum's values as plain ints for the decoder's hot path (an enum lookup per field
# is a measurable share of decoding a PDU).
_TON_INTERNATIONAL = int(TON.INTERNATIONAL)
_TON_ALPHANUMERIC = int(TON.ALPHANUMERIC)

TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TOA_NATIONAL = 0xA1
TOA_ALPHANUMERIC = 0xD0


class Reader:
    """A cursor over a PDU's octets that names the field when it runs out."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.end = len(data)
        self.pos = 0

    def octet(self, field: str) -> int:
        pos = self.pos
        if pos >= self.end:
            raise PDUError("PDU ends early", offset=pos, field=field)
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int, field: str) -> bytes:
        pos = self.pos
        if pos + n > self.end:
            raise PDUError(
                f"PDU ends early: {n} octets needed, {self.end - pos} left",
                offset=pos,
                field=field,
            )
        self.pos = pos + n
        return self.data[pos : pos + n]

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = self.end
        return chunk


# --- semi-octets and addresses -------------------------------------------------------


_NIBBLE_SWAP = bytes(((b & 0x0F) << 4) | (b >> 4) for b in range(256))
_BCD_OF = str.maketrans({"*": "A", "#": "B"})
_ADDRESS_DIGITS = frozenset("0123456789*#")


def encode_semi_octets(digits: str) -> bytes:
    """Digits (and * #) as swapped BCD, an F nibble padding an odd count."""
    if len(digits) % 2:
        digits += "F"
    # Read as hex, "42" is the octet 0x42; swapping its nibbles gives the semi-octets.
    return bytes.fromhex(digits.translate(_BCD_OF)).translate(_NIBBLE_SWAP)


_BCD_EXTRA = str.maketrans({"a": "*", "b": "#", "c": "a", "d": "b", "e": "c", "f": None})


def decode_semi_octets(data: bytes, count: int | None = None) -> str:
    """Swapped BCD to digits; F nibbles (padding) dropped, A–E as * # a b c."""
    digits = data.translate(_NIBBLE_SWAP).hex()
    if count is not None:
        digits = digits[:count]
        if digits.isdigit():  # the common case: no padding or A–E left to map
            return digits
    return digits.translate(_BCD_EXTRA)


def toa_of(number: str) -> int:
    if number.startswith("+"):
        return TOA_INTERNATIONAL
    if number.isdigit():
        return TOA_UNKNOWN
    return TOA_ALPHANUMERIC


def encode_address(number: str, toa: int | None = None) -> bytes:
    """TP-DA/TP-OA: length in digits (semi-octets for alphanumeric), TOA, value."""
    toa = toa_of(number) if toa is None else toa
    if (toa >> 4) & 0x07 == TON.ALPHANUMERIC:
        septets = gsm7.encode(number)
        packed = gsm7.pack(septets)
        return bytes([(len(septets) * 7 + 3) // 4, toa]) + packed
    digits = number.removeprefix("+")
    if not digits or not _ADDRESS_DIGITS.issuperset(digits):
        raise ValueError(f"address {number!r} must be digits, optionally after '+'")
    if len(digits) > 20:
        raise ValueError(f"address {number!r} has more than 20 digits")
    return bytes([len(digits), toa]) + encode_semi_octets(digits)


def read_address(r: Reader, field: str) -> tuple[str, int]:
    """Read TP-OA/DA/RA; returns (number, toa), '+' prefixed when international."""
    start = r.pos
    length = r.octet(field)
    if length > 20:
        raise PDUError(f"address length {length} exceeds 20 digits", offset=start, field=field)
    toa = r.octet(field)
    raw = r.take((length + 1) // 2, field)
    ton = (toa >> 4) & 0x07
    if ton == _TON_ALPHANUMERIC:
        text = gsm7.decode(gsm7.unpack_bytes(raw, length * 4 // 7))
        return text, toa
    digits = decode_semi_octets(raw, length)
    if ton == _TON_INTERNATIONAL and digits:
        digits = "+" + digits
    return digits, toa


def encode_smsc(number: str | None) -> bytes:
    """The SMSC prefix of a PDU for the modem: 00 means the number stored in the modem."""
    if not number:
        return b"\x00"
    digits = number.removeprefix("+")
    if not digits.isdigit():
        raise ValueError(f"SMSC {number!r} must be digits, optionally after '+'")
    body = bytes([toa_of(number)]) + encode_semi_octets(digits)
    return bytes([len(body)]) + body


def read_smsc(r: Reader) -> str | None:
    start = r.pos
    length = r.octet("SMSC length")
    if length == 0:
        return None
    if length > 11:
        raise PDUError(f"SMSC length {length} exceeds 11 octets", offset=start, field="SMSC")
    body = r.take(length, "SMSC")
    digits = decode_semi_octets(body[1:])
    if not digits:
        return None  # "01 81": a TOA with no number, as libgammu writes it
    if (body[0] >> 4) & 0x07 == TON.INTERNATIONAL:
        digits = "+" + digits
    return digits


# --- time stamps ---------------------------------------------------------------------


def _swapped(octet: int, field: str, offset: int) -> int:
    lo, hi = octet & 0x0F, octet >> 4
    if lo > 9 or hi > 9:
        raise PDUError(f"time stamp digit is not decimal: {octet:02X}", offset=offset, field=field)
    return lo * 10 + hi


def read_timestamp(r: Reader, field: str) -> datetime:
    """SCTS/DT: YY MM DD hh mm ss TZ, swapped semi-octets; TZ in quarter hours."""
    start = r.pos
    raw = r.take(7, field)
    year, month, day, hour, minute, second = (_swapped(raw[i], field, start + i) for i in range(6))
    tz = raw[6]
    quarters = (tz & 0x07) * 10 + (tz >> 4)
    if (tz >> 4) > 9:
        raise PDUError(f"time zone is not decimal: {tz:02X}", offset=start + 6, field=field)
    offset = timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1)
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError as exc:
        raise PDUError(f"impossible time stamp: {exc}", offset=start, field=field) from None


# For the decoder's fast path: each octet's swapped-BCD value (FF when a nibble is not
# decimal) and each TZ octet's time zone (None when its tens digit is not decimal).
_SWAPPED_BYTES = bytes(
    (b & 0x0F) * 10 + (b >> 4) if (b & 0x0F) <= 9 and (b >> 4) <= 9 else 0xFF for b in range(256)
)


def _zone(tz: int) -> timezone | None:
    if (tz >> 4) > 9:
        return None
    quarters = (tz & 0x07) * 10 + (tz >> 4)
    return timezone(timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1))


_TIME_ZONES = tuple(_zone(tz) for tz in range(256))


def timestamp_or_none(raw: bytes) -> datetime | None:
    """`read_timestamp`'s result for 7 octets, or None wherever it would raise (the
    caller then takes the careful path, which names what is wrong)."""
    values = raw[:6].translate(_SWAPPED_BYTES)
    if 0xFF in values:
        return None
    tz = _TIME_ZONES[raw[6]]
    if tz is None:
        return None
    year, month, day, hour, minute, second = values
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


def encode_timestamp(when: datetime) -> bytes:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    off = when.utcoffset() or timedelta(0)
    quarters = int(abs(off.total_seconds()) // 900)
    tz = ((quarters % 10) << 4) | (quarters // 10) | (0x08 if off < timedelta(0) else 0)
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    return bytes(((v % 10) << 4) | (v // 10) for v in fields) + bytes([tz])


# --- data coding scheme --------------------------------------------------------------


class Coding(msgspec.Struct, frozen=True):
    alphabet: Alphabet
    message_class: int | None = None


def _coding(dcs: int) -> Coding | None:
    """The coding a DCS octet announces; None for compressed data, which we cannot read."""
    group = dcs >> 4
    if group <= 0x7:  # 00xx / 01xx: general data coding (01xx = automatic deletion)
        if dcs & 0x20:
            return None
        alphabet = (Alphabet.GSM7, Alphabet.DATA8, Alphabet.UCS2, Alphabet.DATA8)[(dcs >> 2) & 3]
        return Coding(alphabet, dcs & 0x03 if dcs & 0x10 else None)
    if group in (0xC, 0xD):  # message waiting indication, GSM 7-bit
        return Coding(Alphabet.GSM7)
    if group == 0xE:  # message waiting indication, UCS-2
        return Coding(Alphabet.UCS2)
    if group == 0xF:
        return Coding(Alphabet.DATA8 if dcs & 0x04 else Alphabet.GSM7, dcs & 0x03)
    return Coding(Alphabet.GSM7)  # reserved groups 1000–1011: assume the default alphabet


_CODINGS = tuple(_coding(dcs) for dcs in range(256))


def decode_dcs(dcs: int, offset: int | None = None) -> Coding:
    coding = _CODINGS[dcs]
    if coding is None:
        raise PDUError(f"compressed data (DCS {dcs:02X}) is not supported", offset=offset)
    return coding


_DCS_OF = {Alphabet.GSM7: 0x00, Alphabet.DATA8: 0x04, Alphabet.UCS2: 0x08}


def encode_dcs(alphabet: Alphabet, flash: bool = False) -> int:
    base = _DCS_OF[alphabet]
    return base | 0x10 if flash else base  # flash = class 0


# --- user data header ----------------------------------------------------------------

IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08
IEI_PORT_8 = 0x04
IEI_PORT_16 = 0x05


class InformationElement(msgspec.Struct, frozen=True):
    iei: int
    data: bytes


class Concat(msgspec.Struct, frozen=True):
    reference: int
    total: int
    sequence: int
    bits: int  # 8 or 16: references of the two kinds are different keys


class Ports(msgspec.Struct, frozen=True):
    destination: int
    source: int


def parse_udh(header: bytes, offset: int) -> list[InformationElement]:
    """`header` without UDHL. Raises PDUError when an element runs past the header."""
    if len(header) == 5 and header[0] == IEI_CONCAT_8 and header[1] == 3:
        return [InformationElement(IEI_CONCAT_8, header[2:])]  # nearly every long SMS
    elements: list[InformationElement] = []
    i = 0
    while i < len(header):
        if i + 2 > len(header):
            raise PDUError("truncated information element", offset=offset + i, field="UDH")
        iei, length = header[i], header[i + 1]
        if i + 2 + length > len(header):
            raise PDUError(
                f"information element {iei:02X} runs past the header",
                offset=offset + i,
                field="UDH",
            )
        elements.append(InformationElement(iei, header[i + 2 : i + 2 + length]))
        i += 2 + length
    return elements


def concat_of(elements: list[InformationElement]) -> Concat | None:
    for ie in elements:
        if ie.iei == IEI_CONCAT_8 and len(ie.data) == 3:
            return Concat(ie.data[0], ie.data[1], ie.data[2], 8)
        if ie.iei == IEI_CONCAT_16 and len(ie.data) == 4:
            return Concat((ie.data[0] << 8) | ie.data[1], ie.data[2], ie.data[3], 16)
    return None


def ports_of(elements: list[InformationElement]) -> Ports | None:
    for ie in elements:
        if ie.iei == IEI_PORT_8 and len(ie.data) == 2:
            return Ports(ie.data[0], ie.data[1])
        if ie.iei == IEI_PORT_16 and len(ie.data) == 4:
            return Ports((ie.data[0] << 8) | ie.data[1], (ie.data[2] << 8) | ie.data[3])
    return None


def concat_header(reference: int, total: int, sequence: int, ref16: bool) -> bytes:
    """The whole UDH (with UDHL) for one part of a concatenated message."""
    if ref16:
        return bytes(
            [6, IEI_CONCAT_16, 4, reference >> 8 & 0xFF, reference & 0xFF, total, sequence]
        )
    return bytes([5, IEI_CONCAT_8, 3, reference & 0xFF, total, sequence])


# --- validity period -----------------------------------------------------------------


def encode_relative_validity(minutes: int) -> int:
    """Smallest TP-VP (relative) that covers `minutes`, capped at 63 weeks."""
    if minutes <= 0:
        raise ValueError("validity must be positive")
    if minutes <= 720:
        return max(0, -(-minutes // 5) - 1)
    if minutes <= 1440:
        return 143 + -(-(minutes - 720) // 30)
    if minutes <= 30 * 1440:
        return 166 + max(2, -(-minutes // 1440))
    return min(255, 192 + max(5, -(-minutes // 10080)))


def decode_relative_validity(vp: int) -> int:
    """TP-VP (relative) in minutes."""
    if vp <= 143:
        return (vp + 1) * 5
    if vp <= 167:
        return 720 + (vp - 143) * 30
    if vp <= 196:
        return (vp - 166) * 1440
    return (vp - 192) * 10080
