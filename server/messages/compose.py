"""What a text becomes on an account: diacritics stripped (when the account says so),
encoding, parts, and the characters that forced UCS-2. Pure; used by send and preview."""

from __future__ import annotations

import msgspec

from sms import gsm7
from sms.diacritics import strip_diacritics
from sms.model import GatewayType
from sms.segment import Encoding, segment

from ..gateways.base import LIMITS


class Composition(msgspec.Struct, frozen=True):
    text: str
    encoding: Encoding
    parts: int
    units: int  # septets (GSM-7) or UTF-16 units (UCS-2)
    ucs2_chars: list[str]  # distinct characters outside GSM 03.38, in order of appearance
    max_parts: int

    @property
    def fits(self) -> bool:
        return self.parts <= self.max_parts


def non_gsm_chars(text: str) -> list[str]:
    return list(dict.fromkeys(ch for ch in text if not gsm7.char_septets(ch)))


def compose(text: str, *, strip: bool, gateway: GatewayType) -> Composition:
    final = strip_diacritics(text) if strip else text
    seg = segment(final)
    return Composition(
        text=final,
        encoding=seg.encoding,
        parts=seg.count,
        units=seg.units,
        ucs2_chars=non_gsm_chars(final),
        max_parts=LIMITS[gateway].max_parts,
    )
