"""The gateway interface and the registry that picks an implementation by gateway id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

import msgspec

from sms.model import GatewayType
from sms.segment import MAX_PARTS, THREE_PART_LIMIT


class Job(msgspec.Struct, frozen=True):
    """One outbound message as a gateway receives it, after it is committed as `queued`."""

    id: str
    account_id: int
    to: str
    text: str
    parts: int
    config: Mapping[str, str]
    secrets: Mapping[str, str]
    sender: str | None = None  # the number or name to send from (where the service lets it)
    valid_until: dt.datetime | None = None  # not sent by then: failed/expired, never later


class Gateway(Protocol):
    """Takes committed jobs. `hand_off` returns at once; the gateway reports state changes
    later through the StateSink it was built with. It must not raise for a single bad job:
    it reports that job `failed` instead."""

    async def hand_off(self, jobs: list[Job]) -> None: ...


class StateSink(Protocol):
    """Where a gateway reports what happened to a job (dispatched, sent, failed...)."""

    async def report(
        self, message_id: str, state: str, reason: str | None = None, detail: str | None = None
    ) -> None: ...


class Limits(msgspec.Struct, frozen=True):
    max_parts: int


# smsbrana.cz accepts at most 459 GSM characters, i.e. three concatenated parts.
LIMITS: Mapping[GatewayType, Limits] = {
    GatewayType.SMSBRANA: Limits(THREE_PART_LIMIT),
    **{g: Limits(MAX_PARTS) for g in GatewayType if g is not GatewayType.SMSBRANA},
}


class Holding:
    """For gateways not built yet (web gateways: their own issue; agent-backed: the bridge's).
    Jobs stay `queued` in the database, which is the truth: nothing has taken them."""

    async def hand_off(self, jobs: list[Job]) -> None:
        return None


class Registry:
    def __init__(self, gateways: Mapping[GatewayType, Gateway] | None = None) -> None:
        self._gateways = dict(gateways or {})
        self._holding = Holding()

    def get(self, gateway: GatewayType) -> Gateway:
        return self._gateways.get(gateway, self._holding)

    def has(self, gateway: GatewayType) -> bool:
        return gateway in self._gateways

    def replace(self, gateway: GatewayType, impl: Gateway) -> None:
        self._gateways[gateway] = impl
