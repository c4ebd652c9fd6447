"""Which line sends which queued message, without I/O.

Fed what the database and the connections say — every line of the accounts in play
(up or not, busy or not, its limits, the segments it sent in the last minute and day),
the queued messages oldest first, and `now` — it returns a Plan: messages handed to a
line, messages sent through the account's fallback, and why each other one waits.

Rules:
- a modem or gammu line takes one message at a time; a spool line (smstools, smslib)
  takes any number (its daemon queues them); limits apply to both;
- a line never goes over its per_minute, per_day or per_recipient_day segments, counted
  in rolling windows (a message in flight counts as sent now); a message with more
  segments than a limit goes when that window is empty, so it never starves;
- a message goes to the line its number last used (sticky), when that line is up and
  its day budgets allow; it waits for it while it is busy or over its minute budget;
- otherwise the free line with the fewest segments sent this minute (then today) takes
  it; a free line more than BALANCE_SLACK segments ahead, this minute, of another line
  that will soon take jobs (up, within budget, busy for less than HOLD_BACK) leaves the
  message to it, so that lines stay even by segments even when one is faster;
- a message already handed to a line that did not acknowledge it goes to that line
  only (the agent may hold it: another line could send it twice);
- when no line of the account has been usable (down, agent offline, over budget, or
  failing) for `fallback_after` seconds, its other messages go through the fallback;
- a message goes no earlier than its `send_at`, never in its account's quiet hours or
  days (high priority may, with `quiet_hours_high = send`), and never after its
  `valid_until`: then it is expired instead;
- high priority goes first, then normal, then bulk, each oldest first; bulk uses at
  most `bulk_share` of a line's per_minute budget, so a campaign leaves room for codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import msgspec

from .timing import Priority, Quiet, describe_until, quiet_until

ONE_AT_A_TIME = frozenset({"modem", "gammu"})
BALANCE_SLACK = 2  # segments a line may be ahead of a slower one, in the last minute
HOLD_BACK = 15.0  # seconds: a line busy for longer no longer holds the others back


class LineState(msgspec.Struct, kw_only=True):
    key: str  # "<agent>/<line>", as messages.line names it
    account_id: int
    kind: str  # the account's gateway: modem, gammu, smstools, smslib
    position: int = 1
    local: bool = True  # its agent is connected to this process: it may be handed jobs
    online: bool = True  # its agent is connected (to any process)
    up: bool = True  # the agent's last word on the line
    in_flight: int = 0  # handed, not yet sent or failed
    sent_minute: int = 0  # segments in the last 60 s (in flight counted as now)
    sent_day: int = 0  # segments in the last 24 h
    per_minute: int | None = None
    per_day: int | None = None
    per_recipient_day: int | None = None
    failing_since: dt.datetime | None = None  # every send since then failed
    busy_since: dt.datetime | None = None  # its oldest job in flight was handed then
    bulk_minute: int = 0  # of sent_minute, the segments of bulk messages

    @property
    def one_at_a_time(self) -> bool:
        return self.kind in ONE_AT_A_TIME

    @property
    def busy(self) -> bool:
        return self.one_at_a_time and self.in_flight > 0


class Waiting(msgspec.Struct, frozen=True, kw_only=True):
    """A queued outbound message."""

    id: str
    account_id: int
    peer: str
    parts: int
    sticky: str | None = None  # the line this number last wrote to or was written from
    pinned: str | None = None  # handed to this line before, not acknowledged
    priority: int = Priority.NORMAL
    send_at: dt.datetime | None = None  # not before
    valid_until: dt.datetime | None = None  # not after: expired


class AccountRoute(msgspec.Struct, frozen=True, kw_only=True):
    account_id: int
    fallback_id: int | None = None
    fallback_after: float = 300.0  # seconds
    blocked_since: dt.datetime | None = None  # no line usable since (kept by the caller)
    quiet: Quiet | None = None
    bulk_share: float = 0.5  # of each line's per_minute, for bulk messages


class Plan(msgspec.Struct, kw_only=True):
    assign: list[tuple[str, str]]  # (message id, line key)
    fallback: list[tuple[str, int]]  # (message id, fallback account id)
    waiting: dict[str, str | None]  # message id → why it waits (None: its turn comes)
    blocked_since: dict[int, dt.datetime | None]  # per account, for the next round
    expired: list[str] = []  # message ids past their valid_until: fail them
    wake_at: dt.datetime | None = None  # a message waits for this time (send_at, quiet end)


def why_not_taking(line: LineState) -> str | None:
    """Why a line takes no job now (for the API and the waiting reason), or None."""
    if not line.online:
        return "agent offline"
    if not line.up:
        return "down"
    if line.per_day is not None and line.sent_day >= line.per_day:
        return f"over per_day: sent {line.sent_day} of {line.per_day} segments in 24 h"
    if line.per_minute is not None and line.sent_minute >= line.per_minute:
        return f"over per_minute: sent {line.sent_minute} of {line.per_minute} segments this minute"
    if line.busy:
        return "busy"
    return None


def usable(line: LineState, now: dt.datetime, fallback_after: float) -> bool:
    """Could the line send soon (busy is fine)? Not: down, offline, over budget, failing."""
    if not line.online or not line.up:
        return False
    if line.per_day is not None and line.sent_day >= line.per_day:
        return False
    if line.per_minute is not None and line.sent_minute >= line.per_minute:
        return False
    failing = line.failing_since
    return failing is None or (now - failing).total_seconds() < fallback_after


def _fits(used: int, parts: int, limit: int | None) -> bool:
    """Within the limit, or the window is empty (a message bigger than the limit)."""
    return limit is None or used + parts <= limit or used == 0


def _day_budget_allows(line: LineState, message: Waiting, to_peer: int) -> bool:
    return _fits(line.sent_day, message.parts, line.per_day) and _fits(
        to_peer, message.parts, line.per_recipient_day
    )


def bulk_limit(line: LineState, share: float) -> int | None:
    """Bulk segments a line may send per minute (None: no per_minute, no cap)."""
    if line.per_minute is None:
        return None
    return max(1, int(line.per_minute * share))


def _bulk_fits(line: LineState, message: Waiting, share: float) -> bool:
    if message.priority != Priority.BULK:
        return True
    return _fits(line.bulk_minute, message.parts, bulk_limit(line, share))


def _takes(line: LineState, message: Waiting, to_peer: int, share: float = 1.0) -> bool:
    return (
        line.local
        and why_not_taking(line) is None
        and _fits(line.sent_minute, message.parts, line.per_minute)
        and _bulk_fits(line, message, share)
        and _day_budget_allows(line, message, to_peer)
    )


def _reason(
    lines: Iterable[LineState], message: Waiting, recipients: Mapping, share: float = 1.0
) -> str | None:
    """Why none of `lines` took the message; None when they are only busy (its turn
    comes) — a stable text, so that a long queue is not rewritten every round."""
    parts: list[str] = []
    for line in lines:
        why = why_not_taking(line)
        if why == "busy":
            return None
        if why is None:
            used = recipients.get((line.key, message.peer), 0)
            if not _fits(line.sent_minute, message.parts, line.per_minute):
                why = (
                    f"has sent {line.sent_minute} of {line.per_minute} segments this minute"
                    f" (this message has {message.parts})"
                )
            elif not _bulk_fits(line, message, share):
                why = (
                    f"has sent {line.bulk_minute} of {bulk_limit(line, share)} bulk segments"
                    f" this minute (bulk_share)"
                )
            elif not _fits(line.sent_day, message.parts, line.per_day):
                why = f"has sent {line.sent_day} of {line.per_day} segments in 24 h"
            elif not _fits(used, message.parts, line.per_recipient_day):
                why = f"has sent {used} of {line.per_recipient_day} segments to this number in 24 h"
            else:
                return None  # free, on another server process (which sends it)
        parts.append(f"line {line.key} {why}")
    if not parts:
        return "waiting: the account has no line"
    return "waiting: " + "; ".join(parts)


def plan(
    lines: list[LineState],
    messages: list[Waiting],
    accounts: Mapping[int, AccountRoute],
    now: dt.datetime,
    recipients: Mapping[tuple[str, str], int] | None = None,
) -> Plan:
    """Assign `messages` (oldest first) to `lines`. `recipients`: segments each line sent
    each number in 24 h, (line key, peer) → count, for per_recipient_day."""
    sent_to: dict[tuple[str, str], int] = dict(recipients or {})
    lines = [msgspec.structs.replace(line) for line in lines]  # counted on copies
    by_account: dict[int, list[LineState]] = {}
    by_key: dict[str, LineState] = {}
    for line in sorted(lines, key=lambda ln: (ln.account_id, ln.position)):
        by_account.setdefault(line.account_id, []).append(line)
        by_key[line.key] = line

    blocked: dict[int, dt.datetime | None] = {}
    falling_back: set[int] = set()
    for account_id, route in accounts.items():
        after = route.fallback_after
        if any(usable(ln, now, after) for ln in by_account.get(account_id, [])):
            blocked[account_id] = None
            continue
        since = route.blocked_since or now
        blocked[account_id] = since
        if route.fallback_id is not None and (now - since).total_seconds() >= after:
            falling_back.add(account_id)

    result = Plan(assign=[], fallback=[], waiting={}, blocked_since=blocked)
    # A number given a line in this round keeps it for its next message in the round.
    chosen: dict[tuple[int, str], str] = {}
    # A message handed before and not acknowledged goes first, to its line only; then
    # by priority, each oldest first (the sort is stable).
    ordered = sorted(messages, key=lambda m: (m.pinned is None, m.priority))
    wake: list[dt.datetime] = []
    for message in ordered:
        own = by_account.get(message.account_id, [])
        route_of = accounts.get(message.account_id)
        share = route_of.bulk_share if route_of is not None else 1.0
        if message.pinned is None:
            held = _held(message, route_of, now)
            if held == "expired":
                result.expired.append(message.id)
                continue
            if held is not None:
                result.waiting[message.id], until = held
                wake.append(until)
                continue
        if message.pinned is not None:
            line = by_key.get(message.pinned)
            if line is not None and line.local and why_not_taking(line) is None:
                _take(result, line, message, sent_to)
            else:
                state = why_not_taking(line) if line is not None else "no longer configured"
                result.waiting[message.id] = (
                    f"waiting: handed to line {message.pinned} before, which has not "
                    f"acknowledged it ({state or 'on another server process'})"
                )
            continue
        if message.account_id in falling_back:
            route = accounts[message.account_id]
            assert route.fallback_id is not None
            result.fallback.append((message.id, route.fallback_id))
            continue
        sticky_key = chosen.get((message.account_id, message.peer), message.sticky)
        sticky = by_key.get(sticky_key) if sticky_key else None
        if (
            sticky is not None
            and sticky.account_id == message.account_id
            and sticky.online
            and sticky.up
            and _day_budget_allows(sticky, message, sent_to.get((sticky.key, message.peer), 0))
        ):
            if _takes(sticky, message, sent_to.get((sticky.key, message.peer), 0), share):
                _take(result, sticky, message, sent_to)
                chosen[(message.account_id, message.peer)] = sticky.key
            else:
                result.waiting[message.id] = _reason([sticky], message, sent_to, share)
            continue
        free = [
            ln for ln in own if _takes(ln, message, sent_to.get((ln.key, message.peer), 0), share)
        ]
        floor = min((ln.sent_minute for ln in own if _soon(ln, now)), default=0)
        even = [ln for ln in free if ln.sent_minute - floor <= BALANCE_SLACK]
        if even:
            best = min(even, key=lambda ln: (ln.sent_minute, ln.sent_day, ln.position))
            _take(result, best, message, sent_to)
            chosen[(message.account_id, message.peer)] = best.key
        elif free:
            result.waiting[message.id] = None  # a slower line takes it soon
        else:
            result.waiting[message.id] = _reason(own, message, sent_to, share)
    # A message that waits (budget, busy line) expires at its valid_until: a round then.
    assigned = {mid for mid, _ in result.assign}
    wake += [
        m.valid_until
        for m in messages
        if m.valid_until is not None and m.id in result.waiting and m.id not in assigned
    ]
    result.wake_at = min(wake, default=None)
    return result


def _held(
    message: Waiting, route: AccountRoute | None, now: dt.datetime
) -> str | tuple[str, dt.datetime] | None:
    """ "expired", (why it waits, until when), or None when the clock lets it go now."""
    if message.valid_until is not None and message.valid_until <= now:
        return "expired"
    if message.send_at is not None and message.send_at > now:
        return f"scheduled for {message.send_at.isoformat()}", message.send_at
    quiet = route.quiet if route is not None else None
    if quiet is None or (message.priority == Priority.HIGH and quiet.high_send):
        return None
    until = quiet_until(now, quiet)
    if until is None:
        return None
    why = f"waiting: quiet hours until {describe_until(until, now, quiet.zone)}"
    # One that expires before the quiet time ends is woken to expire then.
    if message.valid_until is not None and message.valid_until < until:
        until = message.valid_until
    return why, until


def _soon(line: LineState, now: dt.datetime) -> bool:
    """Will the line take a job soon (so that a faster one may leave it one)?"""
    why = why_not_taking(line)
    if why is None:
        return True
    if why != "busy" or line.busy_since is None:
        return False
    return (now - line.busy_since).total_seconds() < HOLD_BACK


def _take(
    result: Plan, line: LineState, message: Waiting, sent_to: dict[tuple[str, str], int]
) -> None:
    result.assign.append((message.id, line.key))
    line.in_flight += 1
    line.sent_minute += message.parts
    line.sent_day += message.parts
    if message.priority == Priority.BULK:
        line.bulk_minute += message.parts
    key = (line.key, message.peer)
    sent_to[key] = sent_to.get(key, 0) + message.parts
