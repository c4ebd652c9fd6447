"""GSM 03.38 default alphabet, its extension table, and septet packing (TS 23.038 §6.2.1)."""

from __future__ import annotations

import codecs

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


GSM_CHARS = frozenset(_BASIC_CODE) | frozenset(_EXT_CODE)
_EXT_CHARS = tuple(_EXT_CODE)

# str.translate table: text → septets as code points.
_TO_SEPTETS = {ord(ch): chr(code) for ch, code in _BASIC_CODE.items()} | {
    ord(ch): "\x1b" + chr(code) for ch, code in _EXT_CODE.items()
}
# The same septets → text map as a charmap codec's table (one character per byte value):
# decoding through it is several times faster than str.translate with a dict. ESC maps
# to itself; values above 0x7F (only from callers that pass raw bytes) to their Latin-1
# characters, as a translate would leave them.
_SEPTET_CHARMAP = BASIC_TABLE + "".join(map(chr, range(0x80, 0x100)))
_charmap_decode = codecs.charmap_decode
# 80 where a septet is ESC, 00 elsewhere; and the septets with their high bit set (the
# code after an ESC) as the characters an escape pair stands for.
_ESC_FLAGS = bytes(0x80 if i == ESC else 0 for i in range(256))
_ESCAPED_CHARMAP = BASIC_TABLE + "".join(
    EXTENSION_TABLE.get(code, BASIC_TABLE[code]) for code in range(0x80)
)
_ESCAPE_PAIRS = tuple(("\x1b" + BASIC_TABLE[code], ch) for code, ch in EXTENSION_TABLE.items())


def char_septets(char: str) -> int:
    """Septets one character costs: 1 (basic), 2 (extension) or 0 if it is not GSM 7-bit."""
    if char in _BASIC_CODE:
        return 1
    if char in _EXT_CODE:
        return 2
    return 0


def is_gsm7(text: str) -> bool:
    return GSM_CHARS.issuperset(text)


def first_foreign(text: str) -> GSM7EncodeError:
    """The error for the first character of `text` that is not GSM 7-bit (there is one)."""
    i = next(i for i, ch in enumerate(text) if ch not in GSM_CHARS)
    return GSM7EncodeError(text[i], i)


def septet_length(text: str) -> int:
    """Septets `text` needs in GSM 7-bit; raises GSM7EncodeError if it cannot be encoded."""
    if not is_gsm7(text):
        raise first_foreign(text)
    return len(text) + sum(text.count(ch) for ch in _EXT_CHARS)


def to_septets(text: str) -> bytes:
    """Text to septet values (one per byte), extension characters as ESC + code."""
    if not is_gsm7(text):
        raise first_foreign(text)
    return text.translate(_TO_SEPTETS).encode("latin-1")


def to_septets_unchecked(text: str) -> bytes:
    """`to_septets` for a text already known to be GSM 7-bit (`is_gsm7`)."""
    return text.translate(_TO_SEPTETS).encode("latin-1")


def encode(text: str) -> list[int]:
    return list(to_septets(text))


def decode(septets: list[int] | bytes) -> str:
    """Septet values to text. An ESC before an undefined code shows that code's basic
    character (TS 23.038); a trailing lone ESC is dropped."""
    raw = bytes(s & 0x7F for s in septets) if isinstance(septets, list) else septets
    if b"\x1b" not in raw:
        return _charmap_decode(raw, "strict", _SEPTET_CHARMAP)[0]
    if b"\x1b\x1b" in raw or raw.endswith(b"\x1b"):
        return _decode_slow(raw)
    if raw.isascii():  # septets, as unpacked from a PDU: the high bit is free
        # Every ESC here precedes a code that is not ESC: set that code's high bit (an
        # OR of the ESC flags shifted one octet on), drop the ESCs, and read 80–FF as
        # "escaped": the extension character, or the basic one for an undefined code.
        flags = int.from_bytes(raw.translate(_ESC_FLAGS), "little") << 8
        marked = (int.from_bytes(raw, "little") | flags).to_bytes(len(raw), "little")
        return _charmap_decode(marked.replace(b"\x1b", b""), "strict", _ESCAPED_CHARMAP)[0]
    text = _charmap_decode(raw, "strict", _SEPTET_CHARMAP)[0]
    # Translated, an escape pair reads ESC + the basic character of its code: swap the
    # ten defined pairs for their extension characters; an ESC left over precedes an
    # undefined code, which shows as its basic character (TS 23.038).
    for pair, char in _ESCAPE_PAIRS:
        if pair in text:
            text = text.replace(pair, char)
    return text.replace("\x1b", "")


def _decode_slow(raw: bytes) -> str:
    out: list[str] = []
    escaped = False
    for s in raw:
        if escaped:
            escaped = False
            ext = EXTENSION_TABLE.get(s)
            out.append(ext if ext is not None else (" " if s == ESC else BASIC_TABLE[s]))
        elif s == ESC:
            escaped = True
        else:
            out.append(BASIC_TABLE[s])
    return "".join(out)


# Packing works on one big integer: septets start in 8-bit lanes and pairs of lanes are
# merged (8→16→…→2048 bits) with a mask and a shift per step, so the work happens in
# C, not once per septet in Python. 2048-bit lanes hold 256 septets: enough for any UD.
_MAX_SEPTETS = 256
# (lane bits L, content bits c, mask: low L of 2L, the same mask shifted up by L)
_STEPS: list[tuple[int, int, int, int]] = []
_lane, _content = 8, 7
while _lane < _MAX_SEPTETS * 8:
    _block = (1 << _lane) - 1
    _mask = 0
    for _i in range(0, _MAX_SEPTETS * 8, 2 * _lane):
        _mask |= _block << _i
    _STEPS.append((_lane, _content, _mask, _mask << _lane))
    _lane, _content = _lane * 2, _content * 2


def pack(septets: list[int] | bytes, fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, after `fill_bits` zero bits (used to align after a UDH)."""
    raw = septets if isinstance(septets, bytes) else bytes(s & 0x7F for s in septets)
    n = len(raw)
    if n > _MAX_SEPTETS:
        return _pack_slow(raw, fill_bits)
    x = int.from_bytes(raw, "little")
    for lane, content, mask, high in _STEPS:
        if n * 8 <= lane:
            break
        x = (x & mask) | ((x & high) >> (lane - content))
    bits = n * 7 + fill_bits
    return (x << fill_bits).to_bytes((bits + 7) // 8, "little")


def _pack_slow(raw: bytes, fill_bits: int) -> bytes:
    # More septets than one user data holds: only tests get here.
    acc, nbits = 0, fill_bits
    for s in raw:
        acc |= (s & 0x7F) << nbits
        nbits += 7
    return acc.to_bytes((nbits + 7) // 8, "little")


def unpack_bytes(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Unpack up to `count` septets (one per byte) starting after `fill_bits` bits."""
    count = min(count, (len(data) * 8 - fill_bits) // 7)
    if count <= 0:
        return b""
    if count > _MAX_SEPTETS:
        return bytes(unpack_slow(data, count, fill_bits))
    x = (int.from_bytes(data, "little") >> fill_bits) & ((1 << (count * 7)) - 1)
    width = count * 8
    for lane, shift, low, high in _SPLITS:
        if width > lane:
            x = (x & low) | ((x & high) << shift)
    return x.to_bytes(count, "little")


def _split_step(lane: int, content: int) -> tuple[int, int, int, int]:
    # The low `content` bits of every 2·lane block hold the lower lane; the next `content`
    # bits move up by lane - content. Both masks are made once here, not at every call.
    low = sum(((1 << content) - 1) << i for i in range(0, _MAX_SEPTETS * 8, 2 * lane))
    return lane, lane - content, low, low << content


_SPLITS = [_split_step(lane, content) for lane, content, _, _ in reversed(_STEPS)]


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack exactly `count` septets starting after `fill_bits` bits; short data yields
    fewer septets (the caller decides whether that is an error)."""
    return list(unpack_bytes(data, count, fill_bits))


def unpack_slow(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
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
