"""UCS-2 as sent in SMS: big-endian UTF-16 code units, emoji as surrogate pairs."""

from __future__ import annotations


def encode(text: str) -> bytes:
    return text.encode("utf-16-be", errors="surrogatepass")


def decode(data: bytes) -> str:
    """Decode big-endian UTF-16. A lone surrogate (half of a pair split by a sloppy
    sender) becomes U+FFFD instead of an exception; an odd trailing octet is dropped."""
    if len(data) % 2:
        data = data[:-1]
    return data.decode("utf-16-be", errors="replace")


def unit_length(text: str) -> int:
    """UTF-16 code units: characters outside the BMP count two."""
    return len(text.encode("utf-16-be", errors="surrogatepass")) // 2
