"""The webhooks' database work: copying new events into deliveries (fan-out), claiming
due deliveries with a lease, recording each attempt's outcome, and the numbers for
/metrics.

Order: a delivery is claimed only when no earlier delivery of the same subject (a
message, an agent, a line) for the same webhook is still pending, so one message's events
arrive in the order they happened, while other subjects go on. Several processes: each
webhook's cursor moves by compare-and-set, and a claim takes a lease (SKIP LOCKED on
PostgreSQL), so each delivery is attempted by one process at a time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any, cast

import msgspec
from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ..db.tables import Event, Webhook, WebhookAttempt, WebhookDelivery, utc
from ..events.feed import payload

FAN_OUT_BATCH = 2000
# Core, not the ORM: an ORM bulk insert costs several times the CPU per row.
_INSERT_DELIVERY = insert(cast(Table, WebhookDelivery.__table__))
_INSERT_ATTEMPT = insert(cast(Table, WebhookAttempt.__table__))
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def wants(events: str, type_: str) -> bool:
    return events == "*" or type_ in events.split(",")


async def top_seq(session: AsyncSession) -> int:
    return int((await session.execute(select(func.max(Event.seq)))).scalar() or 0)


async def fan_out(session: AsyncSession, limit: int = FAN_OUT_BATCH) -> int:
    """Copy the events after each active webhook's cursor into its deliveries; returns
    how many were added. Safe to run in several processes at once."""
    added = 0
    hooks = (
        await session.execute(
            select(Webhook.id, Webhook.events, Webhook.cursor).where(Webhook.active.is_(True))
        )
    ).all()
    if not hooks:
        return 0
    top = await top_seq(session)
    for hook_id, types, cursor in hooks:
        if cursor >= top:
            continue
        rows = (
            await session.execute(
                select(Event.seq, Event.id, Event.type, Event.time, Event.subject, Event.data)
                .where(Event.seq > cursor, Event.seq <= top)
                .order_by(Event.seq)
                .limit(limit)
            )
        ).all()
        if not rows:
            continue
        moved = await session.execute(
            update(Webhook)
            .where(Webhook.id == hook_id, Webhook.cursor == cursor)
            .values(cursor=rows[-1].seq)
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            continue  # another process copied them
        at = now()
        values = [
            {
                "webhook_id": hook_id,
                "event_id": e.id,
                "event_type": e.type,
                "subject": e.subject,
                "payload": payload(e).decode(),
                "state": PENDING,
                "attempts": 0,
                "created_at": at,
                "next_at": at,
            }
            for e in rows
            if wants(types, e.type)
        ]
        if values:
            await session.execute(_INSERT_DELIVERY, values)
            added += len(values)
    return added


class Claimed(msgspec.Struct):
    id: int
    webhook_id: int
    event_id: str
    payload: str
    attempts: int
    first_attempt_at: dt.datetime | None


async def claim(
    session: AsyncSession,
    owner: str,
    free: Mapping[int, int],
    lease: dt.timedelta,
    default_free: int,
) -> list[Claimed]:
    """Lease due deliveries, at most `free[webhook]` (else `default_free`) per webhook."""
    at = now()
    hooks = (
        (await session.execute(select(Webhook.id).where(Webhook.active.is_(True)))).scalars().all()
    )
    earlier = aliased(WebhookDelivery)
    D = WebhookDelivery
    out: list[Claimed] = []
    for hook_id in hooks:
        n = free.get(hook_id, default_free)
        if n <= 0:
            continue
        # The head of its subject's chain: no earlier pending delivery of the same subject.
        # A correlated min() (one index lookup per candidate), not NOT EXISTS: PostgreSQL
        # planned that as an anti-join filtering every pending row against every other.
        head = (
            select(func.min(earlier.id))
            .where(
                earlier.webhook_id == D.webhook_id,
                earlier.subject == D.subject,
                earlier.state == PENDING,
            )
            .scalar_subquery()
        )
        due = (
            select(D.id)
            .where(
                D.webhook_id == hook_id,
                D.state == PENDING,
                D.next_at <= at,
                or_(D.lease_until.is_(None), D.lease_until < at),
                D.id == head,
            )
            .order_by(D.id)
            .limit(n)
            .with_for_update(skip_locked=True)
        )
        rows = (
            await session.execute(
                update(D)
                .where(D.id.in_(due))
                .values(lease_owner=owner, lease_until=at + lease)
                .returning(
                    D.id, D.webhook_id, D.event_id, D.payload, D.attempts, D.first_attempt_at
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
        out.extend(Claimed(*r) for r in rows)
    out.sort(key=lambda c: c.id)
    return out


async def release(session: AsyncSession, owner: str) -> None:
    """Give back every lease `owner` holds (it is stopping)."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.lease_owner == owner, WebhookDelivery.state == PENDING)
        .values(lease_owner=None, lease_until=None)
    )


async def next_due(session: AsyncSession) -> dt.datetime | None:
    """When the earliest pending delivery of an active webhook falls due."""
    when = (
        await session.execute(
            select(func.min(WebhookDelivery.next_at))
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.state == PENDING, Webhook.active.is_(True))
        )
    ).scalar()
    return utc(when)


class Outcome(msgspec.Struct):
    delivery: Claimed
    at: dt.datetime
    status_code: int | None
    latency_ms: float
    response: str  # the first 200 bytes of the answer, or what went wrong


class Policy(msgspec.Struct, frozen=True):
    retry_base: float
    retry_max: float
    retry_for: float


def delay(policy: Policy, attempts: int, rnd: float) -> float:
    """Seconds before the next attempt: exponential backoff, jitter in [50 %, 100 %]."""
    base = min(policy.retry_max, policy.retry_base * 2 ** max(0, attempts - 1))
    return base * (0.5 + rnd / 2)


async def record(
    session: AsyncSession,
    outcomes: list[Outcome],
    policy: Policy,
    rng: random.Random,
    owner: str,
) -> dict[str, int]:
    """Store each attempt and move its delivery on; returns counts by result. A delivery
    whose lease this process no longer holds (redelivered meanwhile, or taken over after
    the lease ran out) keeps the attempt in its history but is not moved."""
    counts: dict[str, int] = {}
    if not outcomes:
        return counts
    await session.execute(
        _INSERT_ATTEMPT,
        [
            {
                "delivery_id": o.delivery.id,
                "at": o.at,
                "status_code": o.status_code,
                "latency_ms": o.latency_ms,
                "response": o.response,
            }
            for o in outcomes
        ],
    )
    D = WebhookDelivery
    ok = [o for o in outcomes if o.status_code is not None and 200 <= o.status_code < 300]
    if ok:
        # The common case in one statement: delivered.
        at = max(o.at for o in ok)
        await session.execute(
            update(D)
            .where(
                D.id.in_([o.delivery.id for o in ok]), D.state == PENDING, D.lease_owner == owner
            )
            .values(
                state=DELIVERED,
                delivered_at=at,
                attempts=D.attempts + 1,
                first_attempt_at=func.coalesce(D.first_attempt_at, at),
                lease_owner=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Webhook)
            .where(Webhook.id.in_({o.delivery.webhook_id for o in ok}), Webhook.status == "failing")
            .values(status="ok", status_detail=None)
        )
        counts["delivered"] = len(ok)
    for o in outcomes:
        if o in ok:
            continue
        d = o.delivery
        first = utc(d.first_attempt_at) or o.at
        common = {
            "attempts": d.attempts + 1,
            "first_attempt_at": first,
            "lease_owner": None,
            "lease_until": None,
        }
        mine = and_(D.id == d.id, D.state == PENDING, D.lease_owner == owner)
        code = o.status_code
        if code == 410:
            result = "gone"
            await session.execute(update(D).where(mine).values(next_at=o.at, **common))
            await session.execute(
                update(Webhook)
                .where(Webhook.id == d.webhook_id)
                .values(
                    active=False,
                    status="disabled",
                    status_detail=f"the endpoint answered 410 Gone at {o.at:%Y-%m-%d %H:%M:%S} "
                    "UTC; its deliveries wait until it is made active again",
                )
            )
        elif (o.at - first).total_seconds() >= policy.retry_for:
            result = "gave_up"
            await session.execute(update(D).where(mine).values(state=FAILED, **common))
            await session.execute(
                update(Webhook)
                .where(Webhook.id == d.webhook_id)
                .values(
                    status="failing",
                    status_detail=f"gave up event {d.event_id} after {d.attempts + 1} attempts "
                    f"in {policy.retry_for:.0f} s; last: {o.response[:100] or code}",
                )
            )
        else:
            result = "retry"
            wait = delay(policy, d.attempts + 1, rng.random())
            await session.execute(
                update(D).where(mine).values(next_at=o.at + dt.timedelta(seconds=wait), **common)
            )
        counts[result] = counts.get(result, 0) + 1
    return counts


class Backlog(msgspec.Struct):
    pending: int
    oldest_seconds: float
    statuses: dict[str, int]


async def backlog(session: AsyncSession) -> Backlog:
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at)).where(
                WebhookDelivery.state == PENDING
            )
        )
    ).one()
    statuses = {"ok": 0, "failing": 0, "disabled": 0}
    for status, n in await session.execute(
        select(Webhook.status, func.count()).group_by(Webhook.status)
    ):
        statuses[status] = int(n)
    # Events not yet copied to an active webhook wait too; the oldest of them counts.
    least = select(func.min(Webhook.cursor)).where(Webhook.active.is_(True)).scalar_subquery()
    lag = (await session.execute(select(func.min(Event.time)).where(Event.seq > least))).scalar()
    starts = [t for t in (utc(oldest), utc(lag)) if t is not None]
    age = (now() - min(starts)).total_seconds() if starts else 0.0
    return Backlog(int(pending), max(0.0, age), statuses)


async def fill_metrics(session: AsyncSession, metrics: Any, results: Mapping[str, int]) -> None:
    """The webhook figures of /metrics (server/metrics.py)."""
    got = await backlog(session)
    metrics.webhook_backlog.set(got.pending)
    metrics.webhook_oldest.set(got.oldest_seconds)
    for status, n in got.statuses.items():
        metrics.webhooks.labels(status).set(n)
    for result in ("delivered", "retry", "gave_up", "gone"):
        metrics.webhook_deliveries.labels(result).set(results.get(result, 0))
