"""The message model both halves share: states, directions, sharing modes, gateway ids."""

from __future__ import annotations

import enum


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class MessageState(enum.StrEnum):
    """Outbound: [scheduled →] queued → dispatched → sent → delivered, or failed (reason
    `expired` when not sent by its valid_until); scheduled or queued → cancelled (DELETE).
    Inbound: received."""

    SCHEDULED = "scheduled"  # waits for its send_at (or quiet hours of a web gateway)
    QUEUED = "queued"
    DISPATCHED = "dispatched"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    RECEIVED = "received"
    CANCELLED = "cancelled"  # by DELETE /api/messages/{id} before any device had it

    @property
    def final(self) -> bool:
        return self in (
            MessageState.DELIVERED,
            MessageState.FAILED,
            MessageState.RECEIVED,
            MessageState.CANCELLED,
        )


class Sharing(enum.StrEnum):
    PRIVATE = "private"
    ALL = "all"
    REPLY_TO_SENDER = "reply-to-sender"


class GatewayType(enum.StrEnum):
    SMSBRANA = "smsbrana"
    O2 = "o2"
    URL = "url"
    SMSTOOLS = "smstools"
    SMSLIB = "smslib"
    MODEM = "modem"
    GAMMU = "gammu"

    @property
    def runs_on_agent(self) -> bool:
        return self in (
            GatewayType.SMSTOOLS,
            GatewayType.SMSLIB,
            GatewayType.MODEM,
            GatewayType.GAMMU,
        )
