"""Request and response bodies. Decoding them is the validation at the edge: msgspec's
errors name the field (`Expected str, got int - at $.name`) and reach the caller as 400."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from bridge.protocol import LineStatus
from sms.model import Direction, GatewayType, MessageState, Sharing
from sms.segment import Encoding

from ..callers import Right
from ..routing.load import LineLoad

Name = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$",
        description="letters, digits and . _ @ -, at most 100",
    ),
]
AccountName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
ConfigText = Annotated[str, msgspec.Meta(max_length=10000)]
MAX_ID = 2**31 - 1  # the database's INTEGER; a larger id cannot exist, so it is a 400
AccountId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    rights: list[Right]


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    # Length rules live in server/passwords.py (one place for the API and the pages).
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class UserOut(msgspec.Struct):
    name: str
    rights: list[Right]
    password: bool = False  # whether a password for the web pages is set (never the hash)


class UserCreated(msgspec.Struct):
    name: str
    rights: list[Right]
    token: str


class AgentIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class AgentCreated(msgspec.Struct):
    name: str
    token: str


class AgentOut(msgspec.Struct):
    name: str
    online: bool  # connected over the /agent WebSocket now
    lines: list[str]
    queue_depth: int  # outbound messages of this agent's accounts still `queued`
    last_seen_at: dt.datetime | None
    # What the agent last reported of each line: modem status or spool health.
    line_status: list[LineStatus] = []
    # The server's view of each line on this agent: segments sent this minute and in
    # 24 h against its budgets, whether it takes jobs and why not.
    line_load: list[LineLoad] = []


class AccountIn(msgspec.Struct, forbid_unknown_fields=True):
    name: AccountName
    gateway: GatewayType
    owner: Name | None = None
    phone: Phone = ""
    strip_diacritics: bool = False
    config: ConfigText = ""
    default: bool = False
    poll_incoming: bool = False
    sharing: Sharing = Sharing.PRIVATE


class AccountPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: AccountName | UnsetType = UNSET
    gateway: GatewayType | UnsetType = UNSET
    owner: Name | UnsetType | None = UNSET
    phone: Phone | UnsetType = UNSET
    strip_diacritics: bool | UnsetType = UNSET
    config: ConfigText | UnsetType = UNSET
    default: bool | UnsetType = UNSET
    poll_incoming: bool | UnsetType = UNSET
    sharing: Sharing | UnsetType = UNSET


class AccountOut(msgspec.Struct):
    id: int
    name: str
    owner: str | None
    phone: str
    gateway: GatewayType
    strip_diacritics: bool
    config: str  # secrets read "(set)"
    default: bool
    poll_incoming: bool
    sharing: Sharing


Zoned = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="RFC 3339 with a zone (Z or an offset)",
        extra_json_schema={"format": "date-time"},
    ),
]


class SendIn(msgspec.Struct, forbid_unknown_fields=True):
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    text: Text
    account: AccountId | None = None
    # Not before this time (state `scheduled` until then); at most a year ahead.
    send_at: Zoned | None = None
    # Not after this time, or this many seconds after it is due: then failed/expired.
    valid_until: Zoned | None = None
    ttl: Annotated[int, msgspec.Meta(ge=1, le=366 * 86400)] | None = None
    priority: Literal["high", "normal", "bulk"] = "normal"
    sender: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    flash: bool = False  # class 0, where the gateway can send it
    # transactional: goes to an opted-out number where the account allows it.
    category: Literal["transactional", "marketing"] | None = None


class Accepted(msgspec.Struct):
    id: str
    state: MessageState
    parts: int


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    account: AccountId | None = None


class PreviewOut(msgspec.Struct):
    to: str | None  # the number as it would be sent (E.164), when `to` was given
    account: int
    text: str  # after the account's strip diacritics
    encoding: Encoding
    parts: int
    units: int
    max_parts: int
    fits: bool
    ucs2_chars: list[str]  # the characters that forced UCS-2


class PartOut(msgspec.Struct):
    """One part of a multipart message: `pending` (not sent yet, or no news), `sent`,
    `delivered` or `failed` (its final status report, with its TP-Status), or `unknown`
    (the message failed and this part has no report: the message's `detail` says how many
    parts went out)."""

    part: int
    state: Literal["pending", "sent", "delivered", "failed", "unknown"]
    status: int | None = None


class MessageOut(msgspec.Struct):
    id: str
    direction: Direction
    account: int | None
    gateway: GatewayType
    to: str | None
    from_: str | None = msgspec.field(name="from")
    text: str = ""
    encoding: Encoding = Encoding.GSM7
    parts: int = 1
    state: MessageState = MessageState.QUEUED
    reason: str | None = None
    detail: str | None = None
    created_at: dt.datetime | None = None
    dispatched_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    failed_at: dt.datetime | None = None
    # Outbound: each part's own state; the message is delivered when every part is,
    # failed when any part finally failed.
    part_states: list[PartOut] = []
    # Agent-backed accounts: the line ("<agent>/<line>") that carried or received it.
    line: str | None = None
    # The route it took: its line, or "account:<id>" when its account's fallback sent it.
    route: str | None = None
    send_at: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    priority: Literal["high", "normal", "bulk"] = "normal"
    sender: str | None = None
    flash: bool = False
    category: str | None = None


class MessagePage(msgspec.Struct):
    messages: list[MessageOut]
    next: str | None  # pass as `after` for the next page; null on the last page


class Health(msgspec.Struct):
    status: str  # "ok" or "unavailable"
    database: str  # "ok" or what went wrong reaching it
    writer: str  # "ok" or "stopped": the group-commit writer that stores sent messages


class OptOutIn(msgspec.Struct, forbid_unknown_fields=True):
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    account: AccountId | None = None  # None: every account
    reason: Annotated[str, msgspec.Meta(max_length=500)] = "added by an admin"


class OptOutOut(msgspec.Struct):
    number: str  # E.164
    account: int | None  # None: every account
    reason: str
    time: dt.datetime


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    # Each item is a POST /api/messages body (plus its own `key`, an Idempotency-Key);
    # `defaults` fills what an item leaves out. Items are checked one by one.
    messages: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=1000)]
    defaults: dict[str, Any] = {}


class BatchResult(msgspec.Struct):
    index: int  # the item's place in `messages`, from 0
    key: str | None
    status: int  # 202: accepted; else the status a single POST would have had
    id: str | None = None
    state: MessageState | None = None
    parts: int | None = None
    error: str | None = None
    detail: str | None = None


class BatchOut(msgspec.Struct):
    accepted: int
    refused: int
    results: list[BatchResult]


REQUEST_BODIES = (UserIn, PasswordIn, AgentIn, AccountIn, AccountPatch, SendIn, PreviewIn)
REQUEST_BODIES += (OptOutIn, BatchIn)
