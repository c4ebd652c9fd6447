"""O2 Czech Republic "SMS Connector", HTTP GET/POST interface: the pure part. Parameters,
the key=value answers, and what each answer makes of a message. No I/O.

See docs/o2.md; section numbers below refer to it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping

import msgspec

from sms.model import MessageState

from ..prague import from_iso

DEFAULT_URL = "https://smsconnector.cz.o2.com/smsconnector/getpost/GP"
SINGLE_LIMIT = 160  # without multipart (§2.2)
MULTIPART_LIMIT = 900

DELIVERED = "ISUC_005"  # delivery report: delivered to the handset
IN_NETWORK = "ISUC_010"  # delivery report: delivered to the network, not final


class Answer(msgspec.Struct, frozen=True):
    """One key=value body, with the spellings of §2.3 folded together."""

    fields: dict[str, str]

    @property
    def empty(self) -> bool:
        """§2.4: an empty queue answers without a baID."""
        return not self.fields.get("baID")

    @property
    def selector(self) -> str:
        return self.fields.get("selector", "")

    @property
    def type(self) -> str:
        return self.fields.get("responseType") or self.fields.get("type", "")

    @property
    def code(self) -> str:
        return self.fields.get("responseCode") or self.fields.get("code", "")

    @property
    def description(self) -> str:
        return self.fields.get("responseDescription") or self.fields.get("description", "")

    def get(self, key: str) -> str:
        return self.fields.get(key, "")

    def summary(self) -> str:
        parts = [p for p in (self.type, self.code, self.description) if p]
        return " ".join(parts)[:300] or "(no response fields)"


def parse(body: str) -> Answer:
    """§2.3: one key=value a line, split at the first '='; empty lines ignored; a line
    without '=' continues the previous value (interpretation)."""
    fields: dict[str, str] = {}
    last: str | None = None
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        key, eq, value = line.partition("=")
        if eq and key.strip():
            last = key.strip()
            fields[last] = value.strip()
        elif last is not None:
            fields[last] += "\n" + line
    return Answer(fields)


def flag(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def send_params(
    ba_id: str, to: str, text: str, *, delivery_report: bool = True, sender: str = ""
) -> dict[str, str]:
    params = {
        "action": "send",
        "baID": ba_id,
        "toNumber": to,
        "text": text,
        "deliveryReport": flag(delivery_report),
        "intruder": "FALSE",
        "multipart": flag(len(text) > SINGLE_LIMIT),
        # Unit unknown (§6); every known client sends 10000.
        "validityPeriod": "10000",
        "priority": "1",
    }
    if sender:
        params["fromNumber"] = sender
    return params


def receive_params(ba_id: str) -> dict[str, str]:
    return {"action": "receive", "baID": ba_id}


def confirm_params(ba_id: str, item: Answer) -> dict[str, str]:
    """§2.4: confirm with the received item's own ids."""
    return {
        "action": "confirm",
        "baID": ba_id,
        "refBaID": item.get("baID") or ba_id,
        "refMsgID": item.get("msgID"),
    }


def ping_params(ba_id: str) -> dict[str, str]:
    return {"action": "ping", "baID": ba_id}


class Verdict(enum.Enum):
    OK = "ok"
    RETRY = "retry"  # INTERNAL_ERROR or HTTP 5xx: the platform's trouble
    FINAL = "final"


def verdict(status: int, answer: Answer) -> Verdict:
    """§4.2: decide on the HTTP status and responseType, never on unknown codes."""
    if 200 <= status < 300 and answer.type == "SUCCESS":
        return Verdict.OK
    if status >= 500 or answer.type == "INTERNAL_ERROR":
        return Verdict.RETRY
    return Verdict.FINAL


REASONS: Mapping[str, str] = {
    "FORMAT_ERROR": "o2_format_error",
    "AUTHORIZATION_ERROR": "o2_authorization_error",
    "APPL_ERROR": "o2_rejected",
    "INTERNAL_ERROR": "o2_internal_error",
}

HINTS: Mapping[str, str] = {
    "AUTHORIZATION_ERROR": " (check 'id': the BA ID must belong to the certificate)",
    "FORMAT_ERROR": " (a parameter was malformed)",
}


def failure(status: int, answer: Answer) -> tuple[str, str]:
    reason = REASONS.get(answer.type, "o2_error")
    return reason, f"O2 answered HTTP {status}: {answer.summary()}{HINTS.get(answer.type, '')}"


class ItemKind(enum.Enum):
    INCOMING = "incoming"
    DELIVERED = "delivered"
    IN_NETWORK = "in_network"
    NOT_DELIVERED = "not_delivered"
    OTHER = "other"  # binary SMS, MMS: confirmed and dropped (text SMS only over GET/POST)


def kind_of(item: Answer) -> ItemKind:
    if item.selector == "TextSms":
        return ItemKind.INCOMING
    if item.selector == "Response":
        if item.code == DELIVERED:
            return ItemKind.DELIVERED
        if item.code == IN_NETWORK:
            return ItemKind.IN_NETWORK
        return ItemKind.NOT_DELIVERED
    return ItemKind.OTHER


def report_state(item: Answer) -> tuple[MessageState, str, str] | None:
    kind = kind_of(item)
    if kind is ItemKind.DELIVERED:
        return MessageState.DELIVERED, "delivered", "delivered to the handset"
    if kind is ItemKind.NOT_DELIVERED:
        return MessageState.FAILED, "not_delivered", f"O2 delivery report: {item.summary()}"
    return None


def parse_timestamp(raw: str) -> dt.datetime | None:
    """`YYYY-MM-DDTHH:MM:SS` without a zone: taken as Prague local time (presumably)."""
    return from_iso(raw)
