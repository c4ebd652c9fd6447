"""What POST /api/messages accepts besides `to` and `text`: when (send_at), until when
(valid_until or ttl), priority, sender, flash and category — checked against the account's
gateway, turned into the message row's columns and its first state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgspec

from sms.model import GatewayType, MessageState
from sms.phone import NumberKind, PhoneNumberError, normalize

from ..routing.timing import Priority, describe_until, quiet_of, quiet_until
from .errors import ApiError, unprocessable

MAX_AHEAD = dt.timedelta(days=366)  # "at most a year ahead" (a leap year included)
PRIORITIES = {"high": Priority.HIGH, "normal": Priority.NORMAL, "bulk": Priority.BULK}
# Where the sender can be chosen, and how (docs/control.md).
SENDER_GATEWAYS = {
    GatewayType.SMSBRANA: "a number on the account's authorized list (sender_phone)",
    GatewayType.O2: "the BA's number or a sender name O2 approved (fromNumber)",
}
# Class 0 (flash): built into the PDU on modem and gammu lines, `Flash: yes` for smsd,
# `flash_sms` for SMSLib; smsbrana has no such parameter, O2's `intruder` is a guess.
FLASH_GATEWAYS = frozenset(
    {GatewayType.MODEM, GatewayType.GAMMU, GatewayType.SMSTOOLS, GatewayType.SMSLIB}
)


class Control(msgspec.Struct, kw_only=True):
    """The row's columns and first state, for the message writer."""

    state: MessageState
    detail: str | None
    send_at: dt.datetime | None
    valid_until: dt.datetime | None
    priority: int
    sender: str | None
    flash: bool
    category: str | None

    def columns(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "detail": self.detail,
            "send_at": self.send_at,
            "valid_until": self.valid_until,
            "priority": self.priority,
            "sender": self.sender,
            "flash": self.flash,
            "category": self.category,
        }


def parse_zoned(name: str, raw: str) -> dt.datetime:
    """An RFC 3339 time with its zone, as aware UTC; a 400 that says what is wrong."""
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid_request", f"{name}: {raw!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise ApiError(
            400,
            "invalid_request",
            f"{name}: {raw!r} has no time zone; add Z or an offset (e.g. +01:00)",
        )
    return when.astimezone(dt.UTC)


def check_sender(raw: str, gateway: GatewayType) -> str:
    how = SENDER_GATEWAYS.get(gateway)
    if how is None:
        raise unprocessable(
            "sender_not_supported",
            f"sender: gateway {gateway} cannot choose the sender"
            + (" (a modem sends from its SIM's number)" if gateway.runs_on_agent else ""),
        )
    try:
        address = normalize(raw)
    except PhoneNumberError as exc:
        raise unprocessable("invalid_sender", f"sender: {exc}") from None
    if gateway is GatewayType.SMSBRANA and address.kind is NumberKind.ALPHANUMERIC:
        raise unprocessable(
            "invalid_sender", f"sender: smsbrana takes only {how}, not the name {raw!r}"
        )
    return address.value


def control(
    *,
    send_at: str | None,
    valid_until: str | None,
    ttl: int | None,
    priority: str,
    sender: str | None,
    flash: bool,
    category: str | None,
    gateway: GatewayType,
    config: Mapping[str, str],
    default_zone: str,
    now: dt.datetime,
) -> Control:
    """Check the request's control fields; raise ApiError naming the field at fault."""
    at = parse_zoned("send_at", send_at) if send_at is not None else None
    if at is not None and at - now > MAX_AHEAD:
        raise unprocessable("send_at_too_far", f"send_at: {send_at} is more than a year ahead")
    if at is not None and at <= now:
        at = None  # a past time is now
    if valid_until is not None and ttl is not None:
        raise ApiError(400, "invalid_request", "give valid_until or ttl, not both")
    until = parse_zoned("valid_until", valid_until) if valid_until is not None else None
    if ttl is not None:
        until = (at or now) + dt.timedelta(seconds=ttl)
    if until is not None and until <= (at or now):
        raise unprocessable(
            "invalid_validity",
            f"valid_until: {until.isoformat()} is not after the time it would be sent",
        )
    if flash and gateway not in FLASH_GATEWAYS:
        raise unprocessable("flash_not_supported", f"flash: gateway {gateway} cannot send class 0")
    chosen = check_sender(sender, gateway) if sender is not None else None
    rank = PRIORITIES[priority]
    state, detail = MessageState.QUEUED, None
    if at is not None:
        state, detail = MessageState.SCHEDULED, f"scheduled for {at.isoformat()}"
    elif not gateway.runs_on_agent:
        # A web gateway sends as soon as it has the message: quiet time holds it here
        # (agent-backed lines wait in the planner instead, in `queued`).
        quiet = quiet_of(config, default_zone)
        if not (rank == Priority.HIGH and quiet.high_send):
            end = quiet_until(now, quiet)
            if end is not None:
                state = MessageState.SCHEDULED
                detail = f"waiting: quiet hours until {describe_until(end, now, quiet.zone)}"
    return Control(
        state=state,
        detail=detail,
        send_at=at,
        valid_until=until,
        priority=int(rank),
        sender=chosen,
        flash=flash,
        category=category,
    )
