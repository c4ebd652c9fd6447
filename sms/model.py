"""The message model both halves share: states, directions, sharing modes, gateway ids."""

from __future__ import annotations

import enum


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class MessageState(enum.StrEnum):
    """Outbound: queued → dispatched → sent → delivered, or failed. Inbound: received."""

    QUEUED = "queued"
    DISPATCHED = "dispatched"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    RECEIVED = "received"

    @property
    def final(self) -> bool:
        return self in (MessageState.DELIVERED, MessageState.FAILED, MessageState.RECEIVED)


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
