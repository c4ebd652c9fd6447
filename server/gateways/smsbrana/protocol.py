"""smsbrana.cz "SMS Connect": the pure part. Request parameters, authentication, the answer's
XML, what each error code means for a message. No I/O; the client feeds it bytes.

See docs/smsbrana.md; section numbers below refer to it.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from collections.abc import Mapping
from urllib.parse import quote, urlencode
from xml.etree.ElementTree import Element

import msgspec
from defusedxml import ElementTree as SafeXml  # type: ignore[import-untyped]
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

from sms.model import MessageState
from sms.segment import Encoding, choose_encoding

from ..prague import PRAGUE, from_iso

PRIMARY_URL = "https://api.smsbrana.cz/smsconnect/http.php"
BACKUP_URL = "https://api-backup.smsbrana.cz/smsconnect/http.php"
# §2.3: the service checks `time` against its own clock in Prague, not UTC.
TIME_FORMAT = "%Y%m%dT%H%M%S"
MAX_SALT = 50  # §2.4


class ProtocolError(ValueError):
    """The service answered something that is not the XML of §3 (a proxy page, garbage)."""


class Action(enum.Enum):
    """What the sender does with an `err` code (§4, "Retry policy suggestion")."""

    DONE = "done"  # the SMS is (or already was) with the service
    RETRY_NOW = "retry_now"  # same request, a fresh salt, at once
    RETRY_LATER = "retry_later"  # the service is in trouble: back off, then try again
    FINAL = "final"  # this request will never succeed as it is


class ErrorInfo(msgspec.Struct, frozen=True):
    err: int
    action: Action
    state: MessageState  # what the message becomes when no retry is left
    reason: str  # for machines: stored in messages.reason
    text: str  # for people: stored in messages.detail


def _e(err: int, action: Action, reason: str, text: str) -> ErrorInfo:
    state = MessageState.SENT if action is Action.DONE else MessageState.FAILED
    return ErrorInfo(err, action, state, reason, text)


ERRORS: Mapping[int, ErrorInfo] = {
    e.err: e
    for e in (
        # Our user_id is the message id, so -1 means an earlier attempt got through (its
        # answer was lost): the SMS is sent, exactly once.
        _e(-1, Action.DONE, "duplicate_user_id", "smsbrana already had this message (sent once)"),
        _e(0, Action.DONE, "ok", "accepted by smsbrana"),
        _e(1, Action.RETRY_LATER, "smsbrana_unknown_error", "smsbrana reported an unknown error"),
        _e(
            2,
            Action.FINAL,
            "smsbrana_invalid_login",
            "smsbrana rejected the login: check 'login' in the account (the SMS Connect "
            "login, not the web-portal one)",
        ),
        _e(
            3,
            Action.FINAL,
            "smsbrana_invalid_password",
            "smsbrana rejected the password or its hash: check 'password' in the account",
        ),
        _e(
            4,
            Action.FINAL,
            "smsbrana_time_skew",
            "smsbrana says our clock is too far from its own: fix this server's clock (NTP) "
            "or raise the allowed deviation in the SMS Connect settings",
        ),
        _e(
            5,
            Action.FINAL,
            "smsbrana_ip_not_allowed",
            "smsbrana does not accept requests from this server's IP address: add it to "
            "the SMS Connect IP list",
        ),
        _e(6, Action.FINAL, "smsbrana_invalid_action", "smsbrana did not know the action"),
        _e(
            7,
            Action.RETRY_NOW,
            "smsbrana_salt_reused",
            "smsbrana refused a salt as already used today",
        ),
        _e(
            8,
            Action.RETRY_LATER,
            "smsbrana_database_down",
            "smsbrana has no connection to its database",
        ),
        _e(
            9,
            Action.FINAL,
            "smsbrana_no_credit",
            "the smsbrana account has too little credit: top it up",
        ),
        _e(10, Action.FINAL, "invalid_number", "smsbrana rejected the recipient number"),
        _e(11, Action.FINAL, "empty_text", "smsbrana refused an empty text"),
        _e(12, Action.FINAL, "text_too_long", "the text is longer than smsbrana's 459 characters"),
    )
}


def error_info(err: int) -> ErrorInfo:
    """Any code outside -1..12 is an unknown error, as the operator's library treats it."""
    known = ERRORS.get(err)
    if known is not None:
        return known
    return ErrorInfo(
        err,
        Action.RETRY_LATER,
        MessageState.FAILED,
        "smsbrana_unknown_error",
        f"smsbrana answered an unknown error code {err}",
    )


# --- authentication (§2) ---------------------------------------------------------------


def prague_time(now: dt.datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("prague_time needs an aware datetime")
    return now.astimezone(PRAGUE).strftime(TIME_FORMAT)


def digest(password: str, time: str, salt: str) -> str:
    """§2.2: md5 of password + time + salt, the exact strings that are sent."""
    return hashlib.md5((password + time + salt).encode(), usedforsecurity=False).hexdigest()


def new_salt() -> str:
    """32 characters of [0-9a-f]: safe in a URL, well under 50, never repeated in practice."""
    return secrets.token_hex(16)


def auth_params(
    login: str, password: str, *, hashed: bool, now: dt.datetime, salt: str
) -> dict[str, str]:
    if not hashed:
        return {"login": login, "password": password}
    if len(salt) > MAX_SALT:
        raise ValueError(f"salt longer than {MAX_SALT} characters")
    time = prague_time(now)
    return {"login": login, "time": time, "sul": salt, "auth": digest(password, time, salt)}


def query(params: Mapping[str, str]) -> str:
    """Percent-encoded as UTF-8 with `+` as %2B and space as %20 (§1: a `+` sent raw
    arrives as a space)."""
    return urlencode(params, quote_via=quote, safe="")


# --- send_sms (§3.1) -------------------------------------------------------------------


def data_code(text: str) -> str:
    return "7bit" if choose_encoding(text) is Encoding.GSM7 else "ucs2"


def send_params(
    message_id: str,
    to: str,
    text: str,
    *,
    delivery_report: bool = True,
    sender_phone: str | None = None,
) -> dict[str, str]:
    if len(message_id) > 50:
        raise ValueError("user_id is varchar(50) at smsbrana")
    params = {
        "action": "send_sms",
        "number": to,
        "message": text,
        "user_id": message_id,
        "data_code": data_code(text),
        "delivery_report": "1" if delivery_report else "0",
    }
    if sender_phone:  # one of the account's authorized sender numbers
        params["sender_phone"] = sender_phone
    return params


class Answer(msgspec.Struct, frozen=True):
    """The `<result>` of any action: `err` (0 when absent, §3.3) and its simple children."""

    err: int
    fields: dict[str, str]

    @property
    def info(self) -> ErrorInfo:
        return error_info(self.err)

    def number(self, name: str) -> float | None:
        raw = self.fields.get(name)
        try:
            return float(raw) if raw not in (None, "") else None
        except ValueError:
            return None


def _root(body: bytes) -> Element:
    try:
        root = SafeXml.fromstring(body)
    except (SafeXml.ParseError, DefusedXmlException) as exc:
        raise ProtocolError(f"smsbrana answered something that is not safe XML ({exc})") from None
    if root.tag != "result":
        raise ProtocolError(f"smsbrana answered <{root.tag}>, expected <result>")
    return root


def parse_answer(body: bytes) -> Answer:
    root = _root(body)
    fields = {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
    raw = fields.pop("err", "0") or "0"
    try:
        err = int(raw)
    except ValueError:
        raise ProtocolError(f"smsbrana answered a non-numeric err {raw[:20]!r}") from None
    return Answer(err, fields)


# --- inbox (§3.3) ----------------------------------------------------------------------


class IncomingSms(msgspec.Struct, frozen=True):
    number: str
    time: str  # as sent: YYYYMMDDTHHMMSS, Prague
    message: str

    @property
    def key(self) -> str:
        """§3.3: number + time + message identify an incoming SMS; hashed to fit a column."""
        raw = f"{self.number}\x00{self.time}\x00{self.message}"
        return "sb-in:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


class DeliveryReport(msgspec.Struct, frozen=True):
    idsms: str
    number: str
    time: str
    status: int


class Inbox(msgspec.Struct, frozen=True):
    err: int
    incoming: list[IncomingSms]
    reports: list[DeliveryReport]


def _items(parent: Element | None) -> list[dict[str, str]]:
    if parent is None:
        return []
    return [{c.tag: (c.text or "").strip() for c in item} for item in parent.findall("item")]


def parse_inbox(body: bytes) -> Inbox:
    root = _root(body)
    err_el = root.find("err")
    raw = (err_el.text or "").strip() or "0" if err_el is not None else "0"
    try:
        err = int(raw)
    except ValueError:
        raise ProtocolError(f"smsbrana answered a non-numeric err {raw[:20]!r}") from None
    box = root.find("inbox")
    incoming = [
        IncomingSms(i.get("number", ""), i.get("time", ""), i.get("message", ""))
        for i in _items(box.find("delivery_sms") if box is not None else None)
    ]
    reports = []
    for i in _items(box.find("delivery_report") if box is not None else None):
        try:
            status = int(i.get("status", "0"))
        except ValueError:
            status = 0
        reports.append(
            DeliveryReport(i.get("idsms", ""), i.get("number", ""), i.get("time", ""), status)
        )
    return Inbox(err, incoming, reports)


def parse_time(raw: str) -> dt.datetime | None:
    """A `time` of §2.3 (classic or ISO 8601) as aware UTC, None when unreadable."""
    try:
        parsed = dt.datetime.strptime(raw, TIME_FORMAT).replace(tzinfo=PRAGUE)
    except ValueError:
        return from_iso(raw)
    return parsed.astimezone(dt.UTC)


# Delivery-report status (§3.3): what each makes of the message; None = not final yet.
REPORT_STATES: Mapping[int, tuple[MessageState, str, str] | None] = {
    0: None,
    1: (MessageState.DELIVERED, "delivered", "delivered to the handset"),
    2: None,
    3: (MessageState.FAILED, "undeliverable", "the network could not deliver the SMS"),
    4: None,
    5: (MessageState.FAILED, "expired", "the SMS expired before it could be delivered"),
}


def report_outcome(status: int) -> tuple[MessageState, str, str] | None:
    return REPORT_STATES.get(status)
