"""USSD (`AT+CUSD`, 3GPP TS 27.007 §7.15) without I/O: the request's argument, the
network's answer in whichever form the modem gives it, and a balance read from it.

Modems return the answer three ways: plain text (`+CUSD: 0,"Vas kredit je 12,50 Kc",15`),
UCS-2 as hex (`+CUSD: 0,"0056006100730020...",72`), or, on Huawei sticks that want
the request packed too, GSM 7-bit septets packed and hexed (`+CUSD: 0,"D6309B...",15`).
The data coding scheme is TS 23.038 §5 (the cell-broadcast one).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import msgspec

from agent.errors import AgentError
from sms import gsm7
from sms.diacritics import strip_diacritics

# Czech operators' answers to *101# / *22# (O2, T-Mobile, Vodafone) name the amount after
# "kredit" or "zůstatek", with a decimal comma: "Vas kredit je 153,47 Kc". A default to
# adjust per operator (docs/modem.md), not a promise about every operator's wording.
DEFAULT_BALANCE_PATTERN = r"(?i)(?:kredit\w*|z[uů]statek\w*|balance|credit)\D*?(\d+(?:[.,]\d+)?)"

STATUS_WORDS = {
    0: "done",  # no further user action required
    1: "menu",  # further user action required (the network waits for an answer)
    2: "ended by the network",
    3: "answered by another local client",
    4: "not supported",
    5: "timed out (network)",
}

_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


class USSDError(AgentError, ValueError):
    """An answer or code we cannot use; the message says which and why."""


class USSDAnswer(msgspec.Struct, frozen=True):
    status: int
    text: str
    dcs: int | None = None
    raw: str = ""  # the text exactly as the modem sent it

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(self.status, f"status {self.status}")


def check_code(code: str) -> str:
    """`*101#`-like codes only: digits, `*`, `#`, `+` (nothing that breaks the quoting)."""
    code = code.strip()
    if not code or not re.fullmatch(r"[0-9*#+]{1,160}", code):
        raise USSDError(f"USSD code {code!r}: only digits, '*', '#' and '+' (e.g. *101#)")
    return code


def request_argument(code: str, *, packed: bool = False) -> str:
    """What goes between the quotes of AT+CUSD=1,"...",15: the code, or its GSM 7-bit
    septets packed and hexed for modems that want that (Huawei with AT^USSDMODE=0)."""
    code = check_code(code)
    if not packed:
        return code
    return gsm7.pack(gsm7.to_septets(code)).hex().upper()


def alphabet_of(dcs: int | None) -> str:
    """'gsm7', '8bit' or 'ucs2' for a CBS data coding scheme (TS 23.038 §5)."""
    if dcs is None:
        return "gsm7"
    group = dcs >> 4
    if group in (0x0, 0x2, 0x3):  # languages, GSM 7-bit
        return "gsm7"
    if group == 0x1:
        return "ucs2" if dcs & 0x0F == 0x01 else "gsm7"
    if group in (0x4, 0x5, 0x6, 0x7, 0x9):  # general coding: bits 3-2 are the alphabet
        return {0: "gsm7", 1: "8bit", 2: "ucs2"}.get((dcs >> 2) & 0x03, "gsm7")
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"


def _readable(text: str) -> bool:
    return bool(text) and all(ch.isprintable() or ch in "\r\n" for ch in text)


def _ucs2(hex_text: str) -> str | None:
    if len(hex_text) % 4:
        return None
    try:
        text = bytes.fromhex(hex_text).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return None
    return text if _readable(text) else None


def _packed_gsm7(hex_text: str) -> str | None:
    data = bytes.fromhex(hex_text)
    count = len(data) * 8 // 7
    try:
        text = gsm7.decode(gsm7.unpack_bytes(data, count))
    except (ValueError, IndexError, KeyError):
        return None
    # A last septet of 0 is padding (CR in 23.038 §6.1.2.3.1, '@' otherwise).
    text = text.removesuffix("@").removesuffix("\r")
    return text if _readable(text) else None


def decode_text(raw: str, dcs: int | None, *, form: str = "auto") -> str:
    """The answer in words. `form`: 'text', 'ucs2', 'gsm7hex' when the modem's family
    is known to use that form; 'auto' guesses from the coding scheme and the text."""
    hexed = bool(_HEX.match(raw))
    alphabet = alphabet_of(dcs)
    if form == "text" or not hexed:
        return raw
    if form == "ucs2" or alphabet == "ucs2":
        return _ucs2(raw) or raw
    if form == "gsm7hex":
        return _packed_gsm7(raw) or raw
    if alphabet == "8bit":
        text = bytes.fromhex(raw).decode("latin-1")
        return text if _readable(text) else raw
    # GSM 7-bit but all hex: UCS-2 of Latin text (every code unit 00xx), packed septets
    # (long answers only: a short numeric answer such as "1234" stays as it is), or text.
    if len(raw) % 4 == 0 and all(raw[i : i + 2] == "00" for i in range(0, len(raw), 4)):
        return _ucs2(raw) or raw
    if len(raw) >= 16 and not raw.isdigit():
        return _packed_gsm7(raw) or raw
    return raw


def parse_cusd(args: list[str], *, form: str = "auto") -> USSDAnswer:
    """`+CUSD: <m>[,<str>,<dcs>]` split by at.split_args → the answer."""
    if not args or not args[0].strip().isdigit():
        raise USSDError(f"not a +CUSD answer: {','.join(args)!r}")
    status = int(args[0])
    raw = args[1] if len(args) > 1 else ""
    dcs = int(args[2]) if len(args) > 2 and args[2].strip().isdigit() else None
    return USSDAnswer(status=status, text=decode_text(raw, dcs, form=form), dcs=dcs, raw=raw)


def encode_answer(text: str, form: str) -> tuple[str, int]:
    """The network's side for the virtual modem: the answer as a modem of `form` gives it."""
    if form == "ucs2":
        return text.encode("utf-16-be").hex().upper(), 72
    plain = strip_diacritics(text)  # GSM 7-bit (and a modem's "GSM" character set): no č
    if form == "gsm7hex":
        return gsm7.pack(gsm7.to_septets(plain)).hex().upper(), 15
    return plain, 15


def parse_balance(text: str, pattern: str = DEFAULT_BALANCE_PATTERN) -> Decimal | None:
    """The amount the pattern's first group finds ("153,47" → 153.47), or None."""
    try:
        match = re.search(pattern, text)
    except re.error as exc:
        raise USSDError(
            f"balance_pattern {pattern!r} is not a valid regular expression: {exc}"
        ) from None
    if not match or not match.groups():
        return None
    amount = (match.group(1) or "").replace(" ", "").replace(",", ".")
    try:
        return Decimal(amount)
    except InvalidOperation:
        return None


def check_pattern(pattern: str) -> str:
    """A balance pattern with one group at least, or USSDError naming the problem."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise USSDError(f"balance_pattern {pattern!r}: {exc}") from None
    if compiled.groups < 1:
        raise USSDError(f"balance_pattern {pattern!r} has no (group) for the amount")
    return pattern


__all__ = [
    "DEFAULT_BALANCE_PATTERN",
    "USSDAnswer",
    "USSDError",
    "check_code",
    "check_pattern",
    "decode_text",
    "encode_answer",
    "parse_balance",
    "parse_cusd",
    "request_argument",
]
