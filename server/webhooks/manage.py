"""Creating, changing and inspecting webhooks: the one place the API and the web page
both call (each raises WebhookError with a reason a person can act on)."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.tables import Webhook, WebhookAttempt, WebhookDelivery, utc
from ..events import catalogue
from ..events.feed import EventOut
from ..events.outbox import new_id
from ..keys import SecretBox
from . import signing, store
from .schemas import AttemptOut, DeliveryOut, WebhookCreated, WebhookIn, WebhookOut, WebhookPatch
from .urls import url_error


class WebhookError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def _bad(detail: str, error: str = "invalid_webhook") -> WebhookError:
    return WebhookError(422, error, detail)


def _check(url: str | None, events: list[str] | None, secret: str | None, own: set) -> None:
    if url is not None and (why := url_error(url, own)):
        raise _bad(why, "invalid_url")
    if events is not None:
        if not events:
            raise _bad('events: name at least one event type, or "*" for all')
        unknown = catalogue.unknown_types(events)
        if unknown:
            raise _bad(
                f"events: unknown event type {unknown[0]!r} (known: "
                f'{", ".join(catalogue.TYPES)}, or "*")',
                "unknown_event_type",
            )
    if secret is not None and (why := signing.secret_error(secret)):
        raise _bad(why, "invalid_secret")


def _out(hook: Webhook, pending: int = 0) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=hook.events.split(","),
        active=hook.active,
        description=hook.description,
        status=hook.status,  # type: ignore[arg-type]
        status_detail=hook.status_detail,
        pending=pending,
        created_at=utc(hook.created_at) or hook.created_at,
    )


async def _pending(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(WebhookDelivery.webhook_id, func.count())
        .where(WebhookDelivery.state == store.PENDING)
        .group_by(WebhookDelivery.webhook_id)
    )
    return {w: int(n) for w, n in rows}


async def create(
    session: AsyncSession, box: SecretBox, data: WebhookIn, own: set
) -> WebhookCreated:
    _check(data.url, data.events, data.secret, own)
    secret = data.secret or signing.new_secret()
    hook = Webhook(
        url=data.url.strip(),
        events=",".join(dict.fromkeys(data.events)),
        secret=box.seal({"secret": secret}),
        active=data.active,
        description=data.description,
        status="ok",
        # From the events after this moment on.
        cursor=await store.top_seq(session),
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(hook)
    await session.flush()
    out = _out(hook)
    return WebhookCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, secret=secret)


async def get(session: AsyncSession, hook_id: int) -> Webhook:
    hook = await session.get(Webhook, hook_id)
    if hook is None:
        raise WebhookError(404, "not_found", f"webhook {hook_id} does not exist")
    return hook


async def read(session: AsyncSession, hook_id: int) -> WebhookOut:
    hook = await get(session, hook_id)
    return _out(hook, (await _pending(session)).get(hook.id, 0))


async def list_all(session: AsyncSession) -> list[WebhookOut]:
    hooks = (await session.execute(select(Webhook).order_by(Webhook.id))).scalars().all()
    pending = await _pending(session)
    return [_out(h, pending.get(h.id, 0)) for h in hooks]


async def change(
    session: AsyncSession, box: SecretBox, hook_id: int, data: WebhookPatch, own: set
) -> WebhookOut:
    hook = await get(session, hook_id)
    url = data.url if isinstance(data.url, str) else None
    events = data.events if isinstance(data.events, list) else None
    secret = data.secret if isinstance(data.secret, str) else None
    _check(url, events, secret, own)
    if url is not None:
        hook.url = url.strip()
    if events is not None:
        hook.events = ",".join(dict.fromkeys(events))
    if secret is not None:
        hook.secret = box.seal({"secret": secret})
    if isinstance(data.description, str):
        hook.description = data.description
    if isinstance(data.active, bool):
        if data.active and not hook.active:
            hook.status, hook.status_detail = "ok", None  # made active again by a person
        hook.active = data.active
    await session.flush()
    return _out(hook, (await _pending(session)).get(hook.id, 0))


async def remove(session: AsyncSession, hook_id: int) -> None:
    await get(session, hook_id)
    # The attempts go with the deliveries (ON DELETE CASCADE needs SQLite's pragma; say
    # it explicitly so it holds either way).
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook_id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook_id))
    await session.execute(delete(Webhook).where(Webhook.id == hook_id))


async def deliveries(session: AsyncSession, hook_id: int, limit: int) -> list[DeliveryOut]:
    await get(session, hook_id)
    rows = (
        (
            await session.execute(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == hook_id)
                .order_by(WebhookDelivery.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    history: dict[int, list[AttemptOut]] = {}
    if rows:
        attempts = await session.execute(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d in rows]))
            .order_by(WebhookAttempt.id)
        )
        for a in attempts.scalars():
            history.setdefault(a.delivery_id, []).append(
                AttemptOut(utc(a.at) or a.at, a.status_code, round(a.latency_ms, 1), a.response)
            )
    return [
        DeliveryOut(
            id=d.id,
            event_id=d.event_id,
            event_type=d.event_type,
            state=d.state,  # type: ignore[arg-type]
            attempts=d.attempts,
            created_at=utc(d.created_at) or d.created_at,
            next_at=utc(d.next_at) if d.state == store.PENDING else None,
            delivered_at=utc(d.delivered_at),
            history=history.get(d.id, []),
        )
        for d in rows
    ]


async def send_test(session: AsyncSession, hook_id: int) -> int:
    """Queue a `webhook.test` event for this webhook alone; returns the delivery id."""
    hook = await get(session, hook_id)
    at = dt.datetime.now(dt.UTC)
    event_id = new_id()
    body = msgspec.json.encode(
        EventOut(event_id, catalogue.TEST_TYPE, at, msgspec.Raw(b'{"webhook":%d}' % hook.id))
    ).decode()
    delivery = WebhookDelivery(
        webhook_id=hook.id,
        event_id=event_id,
        event_type=catalogue.TEST_TYPE,
        subject=f"test:{event_id}",
        payload=body,
        state=store.PENDING,
        attempts=0,
        created_at=at,
        next_at=at,
    )
    session.add(delivery)
    await session.flush()
    return delivery.id


async def redeliver(session: AsyncSession, hook_id: int, delivery_id: int) -> None:
    """Send a delivery again now, with the same webhook-id; its retry period restarts."""
    await get(session, hook_id)
    done = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == hook_id)
        .values(
            state=store.PENDING,
            next_at=dt.datetime.now(dt.UTC),
            first_attempt_at=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise WebhookError(404, "not_found", f"webhook {hook_id} has no delivery {delivery_id}")
