"""smstools3 spool files, pure: build the files we drop into `outgoing/`, parse the
files smsd writes into `sent/`, `failed/`, `incoming/` and `report/`.

    data = encode_outgoing(Outgoing(to="420777123456", text="Ahoj", job_id="m-42"))
    parse_sent(data_from_sent_dir)       # -> SentFile
    parse_failed(data_from_failed_dir)   # -> FailedFile
    parse_incoming(data_from_incoming)   # -> IncomingSms | StatusReportFile | MissedCall

A file smsd would not accept, or a file we cannot read, raises SpoolFileError, which
says what is wrong (and on which line); nothing else is raised. See
docs/smstools3.md for the format (section numbers below refer to it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

import msgspec

from sms import ucs2

from .smstools_headers import (
    Headers,
    SpoolFileError,
    decode_body,
    header_int,
    header_time,
    is_yes,
    number,
    require,
    split_file,
)

__all__ = [
    "JOB_ID_HEADER",
    "FailedFile",
    "Headers",
    "IncomingSms",
    "MissedCall",
    "Outgoing",
    "SentFile",
    "SpoolFileError",
    "StatusReportFile",
    "encode_outgoing",
    "parse_failed",
    "parse_incoming",
    "parse_sent",
    "split_file",
]

# smsd ignores headers it does not know and keeps them when it moves the file to sent/
# or failed/ (§2.4, checked against 3.1.21): our job id rides along in this one.
JOB_ID_HEADER = "X-Smsbridge-Id"
DEFAULT_DATETIME_FORMAT = "%y-%m-%d %H:%M:%S"  # smsd's `datetime_format` default

OutAlphabet = Literal["UTF-8", "ISO", "UCS2"]


# --- outgoing -------------------------------------------------------------------------


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """One message for smsd. `to` is digits in international form (a leading `+` or
    spaces are dropped); `queue` pins a queue (the account's `modem`, §6)."""

    to: str
    text: str
    job_id: str | None = None
    alphabet: OutAlphabet = "UTF-8"
    queue: str | None = None
    report: bool | None = None  # None: the modem's `report` setting decides
    flash: bool = False
    validity: int | str | None = None  # 0..255 or "<n> min|hour|day|week|month|year"
    priority_high: bool = False


_TO = re.compile(r"s?[0-9*#]+")
_SAFE_VALUE = re.compile(r"[\x20-\x7e]*")
_JOB_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_VALIDITY = re.compile(r"[0-9]+ *(min|hour|day|week|month|year)s?", re.IGNORECASE)


def _clean_to(raw: str) -> str:
    to = re.sub(r"[ \-]", "", raw.strip())
    if to.startswith("+"):
        to = to[1:]
    elif to.startswith("00"):
        to = to[2:]
    if not _TO.fullmatch(to):
        raise SpoolFileError(
            f"'To' must be a phone number in international form (digits, optional leading "
            f"+, or s<digits> for a short number), not {raw!r}"
        )
    return to


def _encode_body(text: str, alphabet: OutAlphabet) -> bytes:
    if not text:
        raise SpoolFileError("the message text is empty (smsd fails it with 'No text')")
    # No trailing newline: smsd trims it from ISO/GSM text but sends it as U+000A when
    # a UTF-8 body ends up as UCS-2 (§2.3).
    text = text.rstrip("\n")
    if alphabet == "UTF-8":
        return text.encode("utf-8")
    if alphabet == "UCS2":
        return ucs2.encode(text)
    try:
        return text.encode("iso-8859-15")
    except UnicodeEncodeError as exc:
        raise SpoolFileError(
            f"character {text[exc.start]!r} cannot be written in ISO-8859-15; use Alphabet UTF-8"
        ) from None


def encode_outgoing(msg: Outgoing) -> bytes:
    """The bytes of an `outgoing/` file. Raises SpoolFileError for a message smsd would
    fail, so it never reaches the spool."""
    lines = [f"To: {_clean_to(msg.to)}"]
    if msg.queue is not None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", msg.queue):
            raise SpoolFileError(f"queue name {msg.queue!r} must be letters, digits, . _ -")
        lines.append(f"Queue: {msg.queue}")
    lines.append(f"Alphabet: {msg.alphabet}")
    if msg.report is not None:
        lines.append(f"Report: {'yes' if msg.report else 'no'}")
    if msg.flash:
        lines.append("Flash: yes")
    if msg.validity is not None:
        v = msg.validity
        if (isinstance(v, int) and not 0 <= v <= 255) or (
            isinstance(v, str) and not _VALIDITY.fullmatch(v)
        ):
            raise SpoolFileError(
                f"validity {v!r} must be 0..255 or '<n> min|hour|day|week|month|year'"
            )
        lines.append(f"Validity: {v}")
    if msg.priority_high:
        lines.append("Priority: high")
    if msg.job_id is not None:
        if not _JOB_ID.fullmatch(msg.job_id):
            raise SpoolFileError(f"job id {msg.job_id!r} must be 1-64 of A-Z a-z 0-9 . _ -")
        lines.append(f"{JOB_ID_HEADER}: {msg.job_id}")
    for line in lines:  # a newline in a value would inject headers
        if not _SAFE_VALUE.fullmatch(line):
            raise SpoolFileError(f"header {line!r} contains control or non-ASCII characters")
    return ("\n".join(lines) + "\n\n").encode("ascii") + _encode_body(msg.text, msg.alphabet)


def _out_body(body: bytes, alphabet: str | None) -> str | None:
    # Files we (or others) wrote to outgoing/: ISO is smsd's default, but with
    # `outgoing_utf8 = yes` (default) a UTF-8 body is accepted under it too.
    kind = (alphabet or "ISO").strip().lower()[:3]
    if kind in ("iso", "lat", "ans"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body.decode("iso-8859-15")
    return decode_body(body, alphabet)


# --- reading: sent and failed ---------------------------------------------------------


class SentFile(msgspec.Struct, frozen=True, kw_only=True):
    to: str | None
    job_id: str | None
    modem: str | None
    sent: datetime | None
    sending_time: int | None
    message_ids: tuple[int, ...]  # TP-MR(s); only when a report was requested (§4.1)
    imsi: str | None
    imei: str | None
    original_filename: str | None
    pdus: tuple[str, ...]
    notices: tuple[str, ...]
    text: str | None
    headers: Headers


class FailedFile(msgspec.Struct, frozen=True, kw_only=True):
    to: str | None
    job_id: str | None
    fail_reason: str
    failed: datetime | None
    modem: str | None  # None: rejected by the main process, never reached a modem
    imsi: str | None
    error: str | None
    original_filename: str | None
    pdus: tuple[str, ...]
    text: str | None
    headers: Headers


def _message_ids(value: str | None) -> tuple[int, ...]:
    # `messageids = 3` writes all parts' ids, space separated, ending in " ." (§4.1).
    if not value:
        return ()
    return tuple(n for n in (number(tok) for tok in value.split()) if n is not None)


def parse_sent(data: bytes, *, datetime_format: str = DEFAULT_DATETIME_FORMAT) -> SentFile:
    headers, body = split_file(data)
    require(headers, "Sent", "sent")
    return SentFile(
        to=headers.get("To"),
        job_id=headers.get(JOB_ID_HEADER),
        modem=headers.get("Modem"),
        sent=header_time(headers, "Sent", datetime_format),
        sending_time=header_int(headers, "Sending_time"),
        message_ids=_message_ids(headers.get("Message_id")),
        imsi=headers.get("IMSI") or None,
        imei=headers.get("IMEI") or None,
        original_filename=headers.get("Original_filename"),
        pdus=headers.all("PDU"),
        notices=headers.all("NOTICE"),
        text=_out_body(body, headers.get("Alphabet")),
        headers=headers,
    )


def parse_failed(data: bytes, *, datetime_format: str = DEFAULT_DATETIME_FORMAT) -> FailedFile:
    headers, body = split_file(data)
    return FailedFile(
        to=headers.get("To"),
        job_id=headers.get(JOB_ID_HEADER),
        fail_reason=require(headers, "Fail_reason", "failed") or "Unknown",
        failed=header_time(headers, "Failed", datetime_format),
        modem=headers.get("Modem"),
        imsi=headers.get("IMSI") or None,
        error=headers.get("Error"),
        original_filename=headers.get("Original_filename"),
        pdus=headers.all("PDU"),
        text=_out_body(body, headers.get("Alphabet")),
        headers=headers,
    )


# --- reading: incoming, status reports, missed calls ----------------------------------


class IncomingSms(msgspec.Struct, frozen=True, kw_only=True, tag="sms"):
    sender: str  # From: digits without +, or the text of an alphanumeric sender
    sender_toa: str | None  # From_TOA: "91 international, ISDN/telephone"
    smsc: str | None
    sent: datetime | None  # sender's timestamp (TP-SCTS), local time, zone dropped
    received: datetime | None
    modem: str | None
    imsi: str | None
    alphabet: str
    text: str | None  # None for binary: see `data`
    data: bytes  # the body as stored
    udh_data: str | None  # hex "05 00 03 A7 02 02"; concatenation is removed when joined
    incomplete: bool  # a multipart message purged with parts missing (§7.3)
    flash: bool
    report_requested: bool
    error: str | None  # "Error:" smsd could not decode the PDU; the body says why
    pdus: tuple[str, ...]
    headers: Headers


class StatusReportFile(msgspec.Struct, frozen=True, kw_only=True, tag="status-report"):
    recipient: str  # From: of a report is the recipient of the original message
    smsc: str | None
    sent: datetime | None  # SMSC timestamp of the report
    received: datetime | None
    modem: str | None
    message_id: int  # TP-MR of the original message (matches sent's Message_id)
    discharge: datetime | None
    status: int  # TP-ST
    status_text: str  # smsd's explanation, "Ok,short message received by the SME"
    delivered: bool  # 0..31
    final: bool  # not 32..63 ("still trying")
    headers: Headers


class MissedCall(msgspec.Struct, frozen=True, kw_only=True, tag="call"):
    caller: str
    received: datetime | None
    modem: str | None
    headers: Headers


_REPORT_LINE = re.compile(r"([A-Za-z_]+): ?(.*)")


class _Common(msgspec.Struct, frozen=True):
    sender: str
    smsc: str | None
    sent: datetime | None
    received: datetime | None
    modem: str | None


def _parse_report(headers: Headers, body: str, fmt: str, common: _Common) -> StatusReportFile:
    fields: dict[str, str] = {}
    for line in body.splitlines()[1:]:
        m = _REPORT_LINE.fullmatch(line.strip())
        if m:
            fields[m.group(1)] = m.group(2)
    mid, status = fields.get("Message_id", ""), fields.get("Status", "")
    mid_number = number(mid)
    if mid_number is None:
        raise SpoolFileError("status report without a numeric 'Message_id:' in its body")
    code, _, text = status.partition(",")
    st_number = number(code)
    if st_number is None:
        raise SpoolFileError(f"status report 'Status:' {status!r} does not start with a number")
    st = st_number
    discharge = None
    if fields.get("Discharge_timestamp"):
        try:
            discharge = datetime.strptime(fields["Discharge_timestamp"], fmt)
        except ValueError:
            discharge = None
    return StatusReportFile(
        recipient=common.sender,
        smsc=common.smsc,
        sent=common.sent,
        received=common.received,
        modem=common.modem,
        message_id=mid_number,
        discharge=discharge,
        status=st,
        status_text=text,
        delivered=st < 0x20,
        final=not 0x20 <= st < 0x40,
        headers=headers,
    )


def parse_incoming(
    data: bytes, *, datetime_format: str = DEFAULT_DATETIME_FORMAT
) -> IncomingSms | StatusReportFile | MissedCall:
    """A file from `incoming/` (or `report/`, `phonecalls/`)."""
    headers, body = split_file(data)
    sender = require(headers, "From", "incoming")
    common = _Common(
        sender=sender,
        smsc=headers.get("From_SMSC") or None,
        sent=header_time(headers, "Sent", datetime_format),
        received=header_time(headers, "Received", datetime_format),
        modem=headers.get("Modem") or headers.get("Subject"),
    )
    if headers.get("Call_type") is not None:
        return MissedCall(
            caller=sender, received=common.received, modem=common.modem, headers=headers
        )
    alphabet = headers.get("Alphabet") or "ISO"
    text = decode_body(body, alphabet)
    if text is not None and text.startswith("SMS STATUS REPORT"):
        return _parse_report(headers, text, datetime_format, common)
    return IncomingSms(
        sender=sender,
        sender_toa=headers.get("From_TOA"),
        smsc=common.smsc,
        sent=common.sent,
        received=common.received,
        modem=common.modem,
        imsi=headers.get("IMSI") or None,
        alphabet=alphabet,
        text=text,
        data=body,
        udh_data=headers.get("UDH-DATA") or None,
        incomplete=is_yes(headers.get("Incomplete")),
        flash=is_yes(headers.get("Flash")),
        report_requested=is_yes(headers.get("Report")),
        error=headers.get("Error"),
        pdus=headers.all("PDU"),
        headers=headers,
    )
