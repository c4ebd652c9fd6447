"""Encoding choice and segmentation into concatenated parts (TS 23.040, 23.038).

GSM 7-bit when every character is in the basic or extension table, else UCS-2 for the
whole message. A part never ends inside an escape pair or a surrogate pair.
"""

from __future__ import annotations

import enum

import msgspec

from . import gsm7, ucs2

MAX_PARTS = 255
THREE_PART_LIMIT = 3  # many gateways and networks cap messages at three parts


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


# Capacity in the encoding's units (septets or UTF-16 units).
SINGLE_CAPACITY = {Encoding.GSM7: 160, Encoding.UCS2: 70}
# Per part with an 8-bit reference (6-octet UDH) and with a 16-bit reference (7 octets).
PART_CAPACITY = {Encoding.GSM7: 153, Encoding.UCS2: 67}
PART_CAPACITY_REF16 = {Encoding.GSM7: 152, Encoding.UCS2: 66}


class MessageTooLong(ValueError):
    """The text needs more parts than allowed."""

    def __init__(self, parts: int, limit: int) -> None:
        super().__init__(f"text needs {parts} SMS parts, more than the limit of {limit}")
        self.parts = parts
        self.limit = limit


class Segmentation(msgspec.Struct, frozen=True):
    encoding: Encoding
    parts: list[str]
    units: int  # septets (GSM 7-bit) or UTF-16 units (UCS-2) of the whole text

    @property
    def count(self) -> int:
        return len(self.parts)


def choose_encoding(text: str) -> Encoding:
    return Encoding.GSM7 if gsm7.is_gsm7(text) else Encoding.UCS2


def _split_septets(text: str, septets: bytes, capacity: int) -> tuple[list[str], list[bytes]]:
    """Each part's text and its septets (ESC pairs kept whole)."""
    parts: list[str] = []
    chunks: list[bytes] = []
    pos = start = 0
    while pos < len(septets):
        end = min(pos + capacity, len(septets))
        # ESC only ever starts a pair, so a chunk ending in ESC would split one.
        if end < len(septets) and septets[end - 1] == gsm7.ESC:
            end -= 1
        chunk = septets[pos:end]
        chars = len(chunk) - chunk.count(gsm7.ESC)
        parts.append(text[start : start + chars])
        chunks.append(chunk)
        start += chars
        pos = end
    return parts, chunks


def _split_gsm7(text: str, capacity: int) -> list[str]:
    return _split_septets(text, gsm7.to_septets(text), capacity)[0]


def gsm7_parts(text: str, *, ref16: bool = False) -> tuple[list[str], list[bytes]] | None:
    """The GSM 7-bit parts of `text` with each part's septets, or None when `text` needs
    UCS-2. One pass over the text for the PDU encoder, which needs both."""
    if not gsm7.is_gsm7(text):
        return None
    septets = gsm7.to_septets_unchecked(text)
    if len(septets) <= SINGLE_CAPACITY[Encoding.GSM7]:
        return [text], [septets]
    capacity = (PART_CAPACITY_REF16 if ref16 else PART_CAPACITY)[Encoding.GSM7]
    return _split_septets(text, septets, capacity)


def _split_units(units: bytes, capacity: int) -> list[bytes]:
    """UTF-16-BE octets cut into parts of at most `capacity` units."""
    chunks: list[bytes] = []
    pos = 0
    step = capacity * 2
    while pos < len(units):
        end = min(pos + step, len(units))
        # Never end on a high surrogate: the pair moves whole to the next part.
        if end < len(units) and 0xD8 <= units[end - 2] <= 0xDB:
            end -= 2
        chunks.append(units[pos:end])
        pos = end
    return chunks


def _split_ucs2(text: str, capacity: int) -> list[str]:
    return [ucs2.decode_exact(chunk) for chunk in _split_units(ucs2.encode(text), capacity)]


def ucs2_parts(text: str, *, ref16: bool = False) -> tuple[list[str], list[bytes]]:
    """The UCS-2 parts of `text` with each part's UTF-16-BE octets: the text encoded
    once, for the PDU encoder, which needs both."""
    units = ucs2.encode(text)
    if len(units) <= SINGLE_CAPACITY[Encoding.UCS2] * 2:
        return [text], [units]
    chunks = _split_units(units, (PART_CAPACITY_REF16 if ref16 else PART_CAPACITY)[Encoding.UCS2])
    return [ucs2.decode_exact(chunk) for chunk in chunks], chunks


def units_of(text: str, encoding: Encoding) -> int:
    """Septets (GSM 7-bit) or UTF-16 units (UCS-2) the whole text needs."""
    if encoding is Encoding.GSM7:
        return gsm7.septet_length(text)
    return ucs2.unit_length(text)


def segment(text: str, *, ref16: bool = False, encoding: Encoding | None = None) -> Segmentation:
    """Split `text` into the texts of its parts. An empty text is one empty part."""
    enc = encoding or choose_encoding(text)
    units = units_of(text, enc)
    if units <= SINGLE_CAPACITY[enc]:
        return Segmentation(enc, [text], units)
    capacity = (PART_CAPACITY_REF16 if ref16 else PART_CAPACITY)[enc]
    split = _split_gsm7 if enc is Encoding.GSM7 else _split_ucs2
    return Segmentation(enc, split(text, capacity), units)


def count_parts(text: str) -> int:
    return segment(text).count


def fits(text: str, max_parts: int = THREE_PART_LIMIT) -> bool:
    """True when `text` fits in `max_parts` parts (the three-part / 459-character rule)."""
    return count_parts(text) <= max_parts


def check_length(text: str, max_parts: int = THREE_PART_LIMIT) -> Segmentation:
    """Segment `text`, raising MessageTooLong when it needs more than `max_parts`."""
    seg = segment(text)
    if seg.count > max_parts:
        raise MessageTooLong(seg.count, max_parts)
    return seg


def max_characters(encoding: Encoding, parts: int) -> int:
    """Units that fit in `parts` parts: 459 for three GSM parts, 201 for UCS-2."""
    if parts == 1:
        return SINGLE_CAPACITY[encoding]
    return PART_CAPACITY[encoding] * parts
