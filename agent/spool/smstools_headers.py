"""The shape every smstools3 spool file shares: `Name: value` headers up to the first
empty line, then the body, whose charset `Alphabet:` names (docs/smstools3.md
§2.3, §4.3). Pure; malformed input raises SpoolFileError."""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from agent.errors import AgentError
from sms import gsm7, ucs2


class SpoolFileError(AgentError, ValueError):
    """A spool file smsd would reject or that we cannot read. `what` says why."""

    def __init__(self, what: str, line: int | None = None) -> None:
        self.what = what
        self.line = line
        super().__init__(f"line {line}: {what}" if line is not None else what)


class Headers(msgspec.Struct, frozen=True):
    """Headers in file order. Names are case-sensitive (§2.3); some repeat (PDU, NOTICE)."""

    items: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        for key, value in self.items:
            if key == name:
                return value
        return None

    def all(self, name: str) -> tuple[str, ...]:
        return tuple(value for key, value in self.items if key == name)


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-15")


def split_file(data: bytes) -> tuple[Headers, bytes]:
    """Headers up to the first empty line, and the body bytes after it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise SpoolFileError("the file is empty")
    # LF is smsd's line end; CRLF appears in files edited by hand or on Windows.
    blank = re.search(rb"\r?\n\r?\n", data)
    if blank is None:
        if data.endswith(b"\n"):  # headers only, body empty
            head, body = data[:-1], b""
        else:
            raise SpoolFileError("no empty line ends the headers (file cut short?)")
    else:
        head, body = data[: blank.start()], data[blank.end() :]
    items = []
    for number, raw in enumerate(head.split(b"\n"), start=1):
        line = _decode_line(raw.rstrip(b"\r"))
        name, colon, value = line.partition(":")
        if not colon or not name or " " in name:
            raise SpoolFileError(f"{line[:40]!r} is not a 'Name: value' header", number)
        items.append((name, value.strip()))
    return Headers(tuple(items)), body


def header_time(headers: Headers, name: str, fmt: str) -> datetime | None:
    # Local time without zone, in smsd's `datetime_format`; a site with another format
    # still gets its messages, only without this time.
    value = headers.get(name)
    if not value:
        return None
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def number(text: str | None) -> int | None:
    """A whole number of ASCII digits (spaces or tabs around it), else None. Not
    `str.isdigit()`, which also takes "²" (and "\x1f" around it), both refused by int()."""
    text = (text or "").strip(" \t")
    return int(text) if text.isascii() and text.isdigit() else None


def header_int(headers: Headers, name: str) -> int | None:
    return number(headers.get(name))


def is_yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("yes", "true", "on", "1")


def require(headers: Headers, name: str, kind: str) -> str:
    value = headers.get(name)
    if value is None:
        raise SpoolFileError(f"a {kind} file must have a '{name}:' header")
    return value


def decode_body(body: bytes, alphabet: str | None) -> str | None:
    """Text of a body per its `Alphabet:` (§4.3); None for binary data."""
    kind = (alphabet or "ISO").strip().lower()[:3]
    if kind == "utf":
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpoolFileError(f"body is not UTF-8 (byte {exc.start})") from None
    if kind in ("ucs", "chi", "uni"):
        return ucs2.decode(body)
    if kind == "gsm":
        return gsm7.decode(body)
    if kind in ("iso", "lat", "ans"):
        return body.decode("iso-8859-15")
    return None  # binary, unknown
