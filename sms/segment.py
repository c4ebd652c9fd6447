"""Encoding choice and segmentation into concatenated parts (TS 23.040, 23.038).

GSM 7-bit when every character is in the basic or extension table, else UCS-2 for the
whole message. A part never ends inside an escape pair or a surrogate pair.
"""

from __future__ import annotations

import enum

import msgspec

from . import gsm7

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


def _cost(ch: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return gsm7.char_septets(ch)
    return 2 if ord(ch) > 0xFFFF else 1


def _split(text: str, encoding: Encoding, capacity: int) -> list[str]:
    parts: list[str] = []
    start = 0
    used = 0
    for i, ch in enumerate(text):
        cost = _cost(ch, encoding)
        # A character never straddles parts, so an escape or surrogate pair moves whole.
        if used + cost > capacity:
            parts.append(text[start:i])
            start, used = i, 0
        used += cost
    parts.append(text[start:])
    return parts


def segment(text: str, *, ref16: bool = False, encoding: Encoding | None = None) -> Segmentation:
    """Split `text` into the texts of its parts. An empty text is one empty part."""
    enc = encoding or choose_encoding(text)
    units = sum(_cost(ch, enc) for ch in text) if enc is Encoding.UCS2 else gsm7.septet_length(text)
    if units <= SINGLE_CAPACITY[enc]:
        return Segmentation(enc, [text], units)
    capacity = (PART_CAPACITY_REF16 if ref16 else PART_CAPACITY)[enc]
    return Segmentation(enc, _split(text, enc, capacity), units)


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
