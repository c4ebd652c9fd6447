"""Diacritics removal for the account option "strip diacritics before sending".

Only Latin letters are touched: "Příliš žluťoučký kůň" → "Prilis zlutoucky kun",
and letters that Unicode does not decompose (ø, ł, đ, ß, æ, œ, þ) get their usual
ASCII spelling from anyascii. Other scripts, digits, symbols and emoji stay as they are.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from anyascii import anyascii


@lru_cache(maxsize=4096)
def _latin_ascii(ch: str) -> str | None:
    """ASCII spelling of a non-ASCII Latin letter, None for anything else."""
    if ch.isascii() or "LATIN" not in unicodedata.name(ch, ""):
        return None
    return anyascii(ch) or None


def strip_diacritics(text: str) -> str:
    out: list[str] = []
    after_latin = False
    for ch in unicodedata.normalize("NFC", text):
        if unicodedata.category(ch) == "Mn":
            # A combining mark NFC could not fold (e.g. a rare letter+mark pair).
            if after_latin:
                continue
            out.append(ch)
            continue
        replacement = _latin_ascii(ch)
        if replacement is not None:
            out.append(replacement)
            after_latin = True
        else:
            out.append(ch)
            after_latin = ch.isascii() and ch.isalpha()
    return "".join(out)
