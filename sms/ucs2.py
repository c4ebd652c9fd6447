"""UCS-2 as sent in SMS: big-endian UTF-16 code units, emoji as surrogate pairs."""

from __future__ import annotations

import codecs

# The codec functions themselves: bytes.decode("utf-16-be") looks the codec up by name
# and goes through a Python wrapper at every call.
_decode_be = codecs.utf_16_be_decode
_encode_be = codecs.utf_16_be_encode


def encode(text: str) -> bytes:
    return _encode_be(text, "surrogatepass")[0]


def decode(data: bytes) -> str:
    """Decode big-endian UTF-16. A lone surrogate (half of a pair split by a sloppy
    sender) becomes U+FFFD instead of an exception; an odd trailing octet is dropped."""
    if len(data) % 2:
        data = data[:-1]
    return _decode_be(data, "replace", True)[0]


def decode_exact(data: bytes) -> str:
    """The inverse of `encode`, lone surrogates kept: for octets `encode` made."""
    return _decode_be(data, "surrogatepass", True)[0]


def unit_length(text: str) -> int:
    """UTF-16 code units: characters outside the BMP count two."""
    return len(_encode_be(text, "surrogatepass")[0]) // 2
