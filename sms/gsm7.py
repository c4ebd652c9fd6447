"""GSM 03.38 default alphabet, its extension table, and septet packing (TS 23.038 §6.2.1)."""

from __future__ import annotations

ESC = 0x1B

# Index = septet value. 0x1B is the escape to the extension table, never a character.
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(BASIC_TABLE) == 128

EXTENSION_TABLE = {
    0x0A: "\x0c",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASIC_CODE = {ch: i for i, ch in enumerate(BASIC_TABLE) if i != ESC}
_EXT_CODE = {ch: code for code, ch in EXTENSION_TABLE.items()}


class GSM7EncodeError(ValueError):
    """A character has no GSM 7-bit representation."""

    def __init__(self, char: str, position: int) -> None:
        super().__init__(
            f"character {char!r} (U+{ord(char):04X}) at {position} is not in GSM 03.38"
        )
        self.char = char
        self.position = position


def char_septets(char: str) -> int:
    """Septets one character costs: 1 (basic), 2 (extension) or 0 if it is not GSM 7-bit."""
    if char in _BASIC_CODE:
        return 1
    if char in _EXT_CODE:
        return 2
    return 0


def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC_CODE or ch in _EXT_CODE for ch in text)


def septet_length(text: str) -> int:
    """Septets `text` needs in GSM 7-bit; raises GSM7EncodeError if it cannot be encoded."""
    total = 0
    for i, ch in enumerate(text):
        n = char_septets(ch)
        if not n:
            raise GSM7EncodeError(ch, i)
        total += n
    return total


def encode(text: str) -> list[int]:
    """Text to septet values, extension characters as ESC + code."""
    out: list[int] = []
    for i, ch in enumerate(text):
        code = _BASIC_CODE.get(ch)
        if code is not None:
            out.append(code)
            continue
        code = _EXT_CODE.get(ch)
        if code is None:
            raise GSM7EncodeError(ch, i)
        out.append(ESC)
        out.append(code)
    return out


def decode(septets: list[int] | bytes) -> str:
    """Septet values to text. An ESC before an undefined code shows that code's basic
    character (TS 23.038); a trailing lone ESC is dropped."""
    out: list[str] = []
    escaped = False
    for s in septets:
        s &= 0x7F
        if escaped:
            escaped = False
            ext = EXTENSION_TABLE.get(s)
            out.append(ext if ext is not None else (" " if s == ESC else BASIC_TABLE[s]))
        elif s == ESC:
            escaped = True
        else:
            out.append(BASIC_TABLE[s])
    return "".join(out)


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, after `fill_bits` zero bits (used to align after a UDH)."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack exactly `count` septets starting after `fill_bits` bits; short data yields
    fewer septets (the caller decides whether that is an error)."""
    out: list[int] = []
    total_bits = len(data) * 8
    bit = fill_bits
    for _ in range(count):
        if bit + 7 > total_bits:
            break
        byte_index, shift = divmod(bit, 8)
        value = data[byte_index] >> shift
        if shift > 1:
            value |= data[byte_index + 1] << (8 - shift)
        out.append(value & 0x7F)
        bit += 7
    return out


def fill_bits_after_header(udh_octets: int) -> int:
    """Fill bits between a UDH of `udh_octets` (UDHL included) and the first septet."""
    return (7 - (udh_octets * 8) % 7) % 7


def header_septets(udh_octets: int) -> int:
    """Septets a UDH of `udh_octets` (UDHL included) occupies in TP-UDL."""
    return (udh_octets * 8 + 6) // 7
