"""The shapes of /api/webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Types = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=50)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
Secret = Annotated[str, msgspec.Meta(max_length=200)]


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    events: Types = msgspec.field(default_factory=lambda: ["*"])
    secret: Secret | None = None  # whsec_...; made when absent and shown once
    active: bool = True
    description: Description = ""


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | UnsetType = UNSET
    events: Types | UnsetType = UNSET
    secret: Secret | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    description: Description | UnsetType = UNSET


class WebhookOut(msgspec.Struct):
    id: int
    url: str
    events: list[str]
    active: bool
    description: str
    # ok; failing (a delivery was given up after the retry period); disabled (410 Gone)
    status: Literal["ok", "failing", "disabled"]
    status_detail: str | None
    pending: int  # deliveries not yet delivered
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = ""  # shown this once


class AttemptOut(msgspec.Struct):
    at: dt.datetime
    status_code: int | None  # None: no answer (timeout, refused, closed)
    latency_ms: float
    response: str  # the first 200 bytes of the answer, or what went wrong


class DeliveryOut(msgspec.Struct):
    id: int
    event_id: str  # the webhook-id header, the same on every attempt
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: dt.datetime
    next_at: dt.datetime | None
    delivered_at: dt.datetime | None
    history: list[AttemptOut]


class DeliveryPage(msgspec.Struct):
    deliveries: list[DeliveryOut]
