"""The routing planner's database side: what it is fed (lines, their counters, queued
messages, sticky lines) and what its plan does to the messages table.

Counters come from the messages themselves (messages.line with sent_at, failed_at and
parts), so pacing survives restarts; a message handed to a line and not yet sent or
failed counts as sent now.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Collection, Sequence

import msgspec
from sqlalchemy import String, and_, func, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import protocol as p
from sms.model import Direction, GatewayType, MessageState
from sms.validity import relative_floor

from ..accounts.config import stored_values
from ..accounts.lines import fallback_of
from ..db.tables import Account, AccountLine, Agent, AgentLine, Message, utc
from ..messages import changes
from .planner import AccountRoute, LineState, Plan, Waiting, plan, why_not_taking
from .timing import DEFAULT_ZONE, Priority, Quiet, bulk_share_of, quiet_of

AGENT_GATEWAYS = tuple(g.value for g in GatewayType if g.runs_on_agent)
LEASE = dt.timedelta(seconds=30)  # for the agent's ack of a job
FALLBACK_LEASE = dt.timedelta(minutes=10)  # for the fallback gateway's outcome
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
IN_FLIGHT = (MessageState.QUEUED.value, MessageState.DISPATCHED.value)
FALLBACK_ROUTE = "account:"
BULK = int(Priority.BULK)
SCAN_BASE, SCAN_PER_LINE = 50, 50  # queued messages a round looks at, with modem lines only


def fallback_route(account_id: int) -> str:
    return f"{FALLBACK_ROUTE}{account_id}"


def line_key(agent: str, line: str) -> str:
    return f"{agent}/{line}"


class LineRow(msgspec.Struct, frozen=True):
    """One account line as the tables describe it."""

    account_id: int
    account: str
    gateway: str
    position: int
    agent: str
    line: str
    online: bool
    up: bool
    per_minute: int | None
    per_day: int | None
    per_recipient_day: int | None
    fallback: str | None
    fallback_after: int
    quiet: Quiet | None = None
    bulk_share: float = 0.5

    @property
    def key(self) -> str:
        return line_key(self.agent, self.line)


async def line_rows(session: AsyncSession, default_zone: str = DEFAULT_ZONE) -> list[LineRow]:
    rows = (
        await session.execute(
            select(
                AccountLine,
                Account.name,
                Account.gateway,
                Account.config,
                Agent.connection,
                AgentLine.up,
            )
            .join(Account, Account.id == AccountLine.account_id)
            .outerjoin(Agent, Agent.name == AccountLine.agent)
            .outerjoin(
                AgentLine, and_(AgentLine.agent_id == Agent.id, AgentLine.line == AccountLine.line)
            )
            .where(Account.gateway.in_(AGENT_GATEWAYS))
            .order_by(AccountLine.account_id, AccountLine.position)
        )
    ).all()
    out = []
    for al, name, gateway, config, connection, up in rows:
        values = stored_values(config)
        fallback, after = fallback_of(values)
        out.append(
            LineRow(
                account_id=al.account_id,
                account=name,
                gateway=gateway,
                position=al.position,
                agent=al.agent,
                line=al.line,
                online=connection is not None,
                up=bool(up),
                per_minute=al.per_minute,
                per_day=al.per_day,
                per_recipient_day=al.per_recipient_day,
                fallback=fallback,
                fallback_after=after,
                quiet=quiet_of(values, default_zone),
                bulk_share=bulk_share_of(values),
            )
        )
    return out


class Counters(msgspec.Struct):
    minute: int = 0
    day: int = 0
    in_flight: int = 0
    last_sent: dt.datetime | None = None
    failing_since: dt.datetime | None = None
    busy_since: dt.datetime | None = None
    bulk_minute: int = 0


async def counters(
    session: AsyncSession, keys: Collection[str], now: dt.datetime
) -> dict[str, Counters]:
    """Segments each line sent in the last minute and 24 h (sent or failed then, or in
    flight now), its jobs in flight, and since when its sends only fail."""
    out: dict[str, Counters] = {k: Counters() for k in keys}
    if not keys:
        return out
    day_ago, minute_ago = now - DAY, now - MINUTE
    # A status report can overtake the news that the message was sent: a delivered
    # message without sent_at counts by delivered_at. One statement, four index scans.
    windows = (
        ("sent", Message.sent_at, Message.sent_at.is_not(None)),
        ("sent", Message.delivered_at, Message.sent_at.is_(None)),
        ("failed", Message.failed_at, Message.sent_at.is_(None)),
    )
    selects = [
        select(
            literal(name, String),
            Message.line,
            func.sum(Message.parts),
            func.sum(Message.parts).filter(column > minute_ago),
            func.max(column),
            func.min(column),
            func.sum(Message.parts).filter(column > minute_ago, Message.priority == BULK),
        )
        .where(Message.line.in_(keys), column > day_ago, only)
        .group_by(Message.line)
        for name, column, only in windows
    ]
    in_flight = (
        select(
            literal("flight", String),
            Message.line,
            func.sum(Message.parts),
            func.count(),
            func.min(Message.dispatched_at),
            func.min(Message.dispatched_at),
            func.sum(Message.parts).filter(Message.priority == BULK),
        )
        .where(
            Message.line.in_(keys),
            Message.direction == Direction.OUT.value,
            Message.state.in_(IN_FLIGHT),
            Message.sent_at.is_(None),
            Message.delivered_at.is_(None),
            or_(
                Message.state == MessageState.DISPATCHED.value,
                Message.lease_until > now,
            ),
        )
        .group_by(Message.line)
    )
    seen: dict[str, dict[str, tuple[dt.datetime | None, dt.datetime | None]]] = {}
    for name, key, day, minute, last, first, bulk in await session.execute(
        union_all(*selects, in_flight)
    ):
        c = out[key]
        c.bulk_minute += int(bulk or 0)
        if name == "flight":
            c.in_flight = int(minute or 0)
            c.busy_since = utc(first) or now  # handed, not yet acknowledged: just now
            c.minute += int(day or 0)
            c.day += int(day or 0)
            continue
        c.day += int(day or 0)
        c.minute += int(minute or 0)
        earlier = seen.setdefault(key, {}).get(name)
        first, last = utc(first), utc(last)
        if earlier is not None:
            first = min(x for x in (first, earlier[0]) if x is not None)
            last = max(x for x in (last, earlier[1]) if x is not None)
        seen[key][name] = (first, last)
    for key, got in seen.items():
        first_failed, last_failed = got.get("failed", (None, None))
        _, last_sent = got.get("sent", (None, None))
        out[key].last_sent = last_sent
        if last_failed is None or (last_sent is not None and last_sent >= last_failed):
            continue
        out[key].failing_since = (
            first_failed
            if last_sent is None
            else await _first_failure_after(session, key, last_sent)
        )
    return out


async def _first_failure_after(
    session: AsyncSession, key: str, after: dt.datetime
) -> dt.datetime | None:
    first = (
        await session.execute(
            select(func.min(Message.failed_at)).where(
                Message.line == key, Message.failed_at > after
            )
        )
    ).scalar()
    return utc(first)


def line_state(row: LineRow, c: Counters, local: bool) -> LineState:
    return LineState(
        key=row.key,
        account_id=row.account_id,
        kind=row.gateway,
        position=row.position,
        local=local,
        online=row.online,
        up=row.up,
        in_flight=c.in_flight,
        sent_minute=c.minute,
        sent_day=c.day,
        per_minute=row.per_minute,
        per_day=row.per_day,
        per_recipient_day=row.per_recipient_day,
        failing_since=c.failing_since,
        busy_since=c.busy_since,
        bulk_minute=c.bulk_minute,
    )


class Queued(msgspec.Struct, frozen=True):
    seq: int
    id: str
    account_id: int
    peer: str
    text: str
    parts: int
    line: str | None
    route: str | None
    detail: str | None
    priority: int = Priority.NORMAL
    send_at: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    flash: bool = False
    sender: str | None = None


async def queued(
    session: AsyncSession, accounts: Collection[int], now: dt.datetime, limit: int
) -> list[Queued]:
    """Queued messages of these accounts that no live lease holds, oldest first, locked
    for this transaction (SKIP LOCKED: another replica takes others meanwhile)."""
    if not accounts:
        return []
    rows = await session.execute(
        select(
            Message.seq,
            Message.id,
            Message.account_id,
            Message.peer,
            Message.text,
            Message.parts,
            Message.line,
            Message.route,
            Message.detail,
            Message.priority,
            Message.send_at,
            Message.valid_until,
            Message.flash,
            Message.sender,
        )
        .where(
            Message.account_id.in_(accounts),
            Message.gateway.in_(AGENT_GATEWAYS),
            Message.direction == Direction.OUT.value,
            Message.state == MessageState.QUEUED.value,
            or_(Message.lease_until.is_(None), Message.lease_until < now),
        )
        # High priority first, so that a long bulk queue does not hide it past `limit`.
        .order_by(Message.priority, Message.seq)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Message)
    )
    return [
        Queued(*row[:10], utc(row.send_at), utc(row.valid_until), bool(row.flash), row.sender)
        for row in rows
    ]


async def sticky_lines(
    session: AsyncSession, accounts: Collection[int], peers: Collection[str]
) -> dict[tuple[int, str], str]:
    """(account, number) → the line that number last wrote to or was written from."""
    if not peers or not accounts:
        return {}
    latest = (
        select(func.max(Message.seq))
        .where(
            Message.peer.in_(peers),
            Message.account_id.in_(accounts),
            Message.line.is_not(None),
        )
        .group_by(Message.account_id, Message.peer)
    )
    rows = await session.execute(
        select(Message.account_id, Message.peer, Message.line).where(Message.seq.in_(latest))
    )
    return {(a, peer): line for a, peer, line in rows}


async def recipient_counts(
    session: AsyncSession, keys: Collection[str], peers: Collection[str], now: dt.datetime
) -> dict[tuple[str, str], int]:
    """Segments each of these lines sent each of these numbers in 24 h (or in flight)."""
    if not keys or not peers:
        return {}
    rows = await session.execute(
        select(Message.line, Message.peer, func.sum(Message.parts))
        .where(
            Message.line.in_(keys),
            Message.peer.in_(peers),
            Message.direction == Direction.OUT.value,
            or_(
                Message.sent_at > now - DAY,
                Message.delivered_at > now - DAY,
                Message.failed_at > now - DAY,
                Message.state.in_(IN_FLIGHT),
            ),
        )
        .group_by(Message.line, Message.peer)
    )
    return {(line, peer): int(n or 0) for line, peer, n in rows}


class Round(msgspec.Struct):
    jobs: list[tuple[str, p.Job]]  # (agent, job)
    fallback: list[tuple[Queued, int]]  # (message, fallback account id), routes recorded
    plan: Plan | None
    next_check: float | None  # seconds until a fallback may become due
    plan_seconds: float = 0.0  # in the pure planner (synchronous: its own CPU time)
    more: bool = False  # it saw as many messages as it may: another round at once


async def route_round(
    session: AsyncSession,
    local_agents: Collection[str],
    owner: str,
    blocked: dict[int, dt.datetime | None],
    now: dt.datetime,
    limit: int = 2000,
    everything: bool = False,
    default_zone: str = DEFAULT_ZONE,
) -> Round:
    """Plan one round for the lines of `local_agents` (and the fallbacks of any account)
    and record it: leases, lines and routes of the messages handed, reasons of the
    others. `blocked` (account → no usable line since) is updated in place.
    `everything` (the periodic sweep): every account, so that the messages of an agent
    that is offline everywhere say why they wait."""
    rows = await line_rows(session, default_zone)
    by_account: dict[int, list[LineRow]] = defaultdict(list)
    for row in rows:
        by_account[row.account_id].append(row)
    accounts_in_play = {
        a
        for a, lines in by_account.items()
        if everything or any(r.agent in local_agents for r in lines) or lines[0].fallback
    }
    fallback_ids = await _fallback_ids(
        session, {by_account[a][0].fallback for a in accounts_in_play}
    )
    keys = [r.key for a in accounts_in_play for r in by_account[a]]
    stats = await counters(session, keys, now)
    states = [
        line_state(r, stats[r.key], r.agent in local_agents)
        for a in accounts_in_play
        for r in by_account[a]
    ]
    routes = {
        a: AccountRoute(
            account_id=a,
            fallback_id=fallback_ids.get(by_account[a][0].fallback or ""),
            fallback_after=float(by_account[a][0].fallback_after),
            blocked_since=blocked.get(a),
            quiet=by_account[a][0].quiet,
            bulk_share=by_account[a][0].bulk_share,
        )
        for a in accounts_in_play
    }
    # Modem lines take one job each: a round needs to see only so many messages (enough
    # for the ones that wait for a sticky or busy line to let later ones pass).
    free = [s for s in states if s.local and why_not_taking(s) is None]
    if not any(not s.one_at_a_time for s in free):
        limit = min(limit, SCAN_BASE + SCAN_PER_LINE * len(free))
    messages = await queued(session, accounts_in_play, now, limit)
    # A message the fallback gateway already has goes to it again (it de-duplicates).
    again = [m for m in messages if (m.route or "").startswith(FALLBACK_ROUTE)]
    messages = [m for m in messages if not (m.route or "").startswith(FALLBACK_ROUTE)]
    peers = {m.peer for m in messages}
    several = {a for a in accounts_in_play if len(by_account[a]) > 1}
    sticky = await sticky_lines(
        session, several, {m.peer for m in messages if m.account_id in several}
    )
    paced = [s.key for s in states if s.per_recipient_day is not None]
    recipients = await recipient_counts(session, paced, peers, now) if paced else {}
    waiting = [
        Waiting(
            id=m.id,
            account_id=m.account_id,
            peer=m.peer,
            parts=m.parts,
            sticky=sticky.get((m.account_id, m.peer)),
            pinned=m.line,
            priority=m.priority,
            send_at=m.send_at,
            valid_until=m.valid_until,
        )
        for m in messages
    ]
    started = time.perf_counter()
    result = plan(states, waiting, routes, now, recipients)
    plan_seconds = time.perf_counter() - started
    blocked.clear()
    blocked.update(result.blocked_since)
    by_id = {m.id: m for m in messages}
    names = {r.key: (r.agent, r.line) for r in rows}

    jobs: list[tuple[str, p.Job]] = []
    by_line: dict[str, list[int]] = defaultdict(list)
    for mid, key in result.assign:
        m = by_id[mid]
        agent, line = names[key]
        by_line[key].append(m.seq)
        jobs.append(
            (
                agent,
                p.Job(
                    id=m.id,
                    line=line,
                    to=m.peer,
                    text=m.text,
                    account=m.account_id,
                    report=True,
                    flash=m.flash,
                    validity_minutes=remaining_minutes(m.valid_until, now),
                ),
            )
        )
    for key, seqs in by_line.items():
        await session.execute(
            update(Message)
            .where(Message.seq.in_(seqs))
            .values(lease_owner=owner, lease_until=now + LEASE, line=key, route=key, detail=None)
        )

    fallback: list[tuple[Queued, int]] = [
        (m, int((m.route or "")[len(FALLBACK_ROUTE) :])) for m in again
    ]
    by_fallback: dict[int, list[int]] = defaultdict(list)
    for mid, fallback_id in result.fallback:
        by_fallback[fallback_id].append(by_id[mid].seq)
        fallback.append((by_id[mid], fallback_id))
    fallback_names = {v: k for k, v in fallback_ids.items()}
    for fallback_id, seqs in by_fallback.items():
        await session.execute(
            update(Message)
            .where(Message.seq.in_(seqs))
            .values(
                route=fallback_route(fallback_id),
                detail=f"sent through the fallback account {fallback_names[fallback_id]!r}: "
                "no line of the account was usable",
            )
        )
    if fallback:
        await session.execute(
            update(Message)
            .where(Message.seq.in_([m.seq for m, _ in fallback]))
            .values(lease_owner=owner, lease_until=now + FALLBACK_LEASE)
        )

    if result.expired:
        await expire(session, [by_id[mid].seq for mid in result.expired], now)

    reasons: dict[str | None, list[int]] = defaultdict(list)
    for mid, why in result.waiting.items():
        m = by_id[mid]
        if why != m.detail and not (why is None and m.detail is None):
            reasons[why].append(m.seq)
    for why, seqs in reasons.items():
        await session.execute(update(Message).where(Message.seq.in_(seqs)).values(detail=why))

    # Another round at once when this one was cut short and routed everything it saw to
    # spool lines or fallbacks (one-at-a-time lines wait for their Sent anyway).
    more = len(messages) + len(again) >= limit and not result.waiting
    next_check = _next_check(routes, result, now)
    if result.wake_at is not None:  # a send_at, a quiet time's end, a valid_until
        wake = max(0.05, (result.wake_at - now).total_seconds())
        next_check = wake if next_check is None else min(next_check, wake)
    return Round(jobs, fallback, result, next_check, plan_seconds, more)


def remaining_minutes(valid_until: dt.datetime | None, now: dt.datetime) -> int | None:
    """What is left of a message's validity as the longest TP-VP that does not outlast it
    (at least 5 minutes, the shortest there is), so every encoder sends that value."""
    if valid_until is None:
        return None
    return relative_floor(math.floor((valid_until - now).total_seconds() / 60))


async def expire(session: AsyncSession, seqs: list[int], now: dt.datetime) -> None:
    """Fail messages not sent by their valid_until (reason `expired`), with their events."""
    await changes.expired(session, seqs, now)


async def _fallback_ids(session: AsyncSession, names: set[str | None]) -> dict[str, int]:
    wanted = [n for n in names if n]
    if not wanted:
        return {}
    web = [g.value for g in GatewayType if not g.runs_on_agent]
    rows = await session.execute(
        select(Account.name, Account.id).where(Account.name.in_(wanted), Account.gateway.in_(web))
    )
    return {name: account_id for name, account_id in rows}


def _next_check(routes: dict[int, AccountRoute], result: Plan, now: dt.datetime) -> float | None:
    """Seconds until an account's fallback becomes due (one already due needs no early
    round: its messages went in this one, new ones wake the dispatcher)."""
    due = [
        left
        for a, since in result.blocked_since.items()
        if since is not None
        and routes[a].fallback_id is not None
        and (left := (since + dt.timedelta(seconds=routes[a].fallback_after) - now).total_seconds())
        > 0
    ]
    return max(0.05, min(due)) if due else None


def agent_lines(rows: Sequence[LineRow], agent: str) -> list[str]:
    return [line_key(r.agent, r.line) for r in rows if r.agent == agent]
