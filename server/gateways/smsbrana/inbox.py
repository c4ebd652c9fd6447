"""Polling smsbrana's `inbox` (§3.3): incoming SMS are stored and delivery reports applied
first, and only then are the items deleted on the service.

There is no per-item delete: `delete=1` returns what is there now and removes it. So one
poll reads without deleting, stores everything, then calls again with `delete=1`; what
that answer carries is stored too (items that arrived in between) and the repeats are
harmless, since incoming SMS are de-duplicated on number + time + text and a report can
only move a message forward.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import msgspec
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import GatewayType

from ...keys import SecretBox
from ..polling import AccountPoller, PollError
from ..records import Records
from . import protocol
from .client import SmsbranaClient, Unreachable
from .protocol import Inbox

log = logging.getLogger("smsbridge.server.gateways.smsbrana.inbox")

DEFAULT_INTERVAL = 60.0  # seconds between polls when no push arrives
# How long a report that matches no message keeps the inbox from being deleted: longer
# than recording a send's answer takes, short enough that foreign reports do not pile up.
HOLD_UNMATCHED = dt.timedelta(minutes=2)


class InboxError(Exception):
    pass


class PollResult(msgspec.Struct):
    stored: int = 0  # new incoming SMS
    reports: int = 0  # delivery reports that matched a message of ours
    deleted: bool = False
    # A recent report matched no message: perhaps its send's answer is still being recorded.
    # The items then stay on the service for the next poll (they are applied idempotently).
    held_back: bool = False


async def _apply(
    box: Inbox,
    records: Records,
    account_id: int,
    result: PollResult,
    seen: set[tuple[str, int]],
    now: dt.datetime,
) -> None:
    for sms in box.incoming:
        stored = await records.store_incoming(
            account_id, sms.key, sms.number, sms.message, protocol.parse_time(sms.time)
        )
        result.stored += stored is not None
    for report in box.reports:
        if (report.idsms, report.status) in seen:
            continue
        seen.add((report.idsms, report.status))
        outcome = protocol.report_outcome(report.status)
        if outcome is None:
            continue  # not final (stored in the network, unknown): wait for the next one
        message_id = await records.outbound_by_ref(account_id, report.idsms)
        if message_id is None:
            log.info("smsbrana report for sms_id %s matches no message of ours", report.idsms)
            at = protocol.parse_time(report.time)
            if at is not None and now - at < HOLD_UNMATCHED:
                result.held_back = True
            continue
        state, reason, detail = outcome
        await records.report(message_id, state.value, reason, detail)
        result.reports += 1


async def poll_once(
    client: SmsbranaClient,
    records: Records,
    account_id: int,
    *,
    now: dt.datetime | None = None,
) -> PollResult:
    moment = now or dt.datetime.now(dt.UTC)
    result = PollResult()
    seen: set[tuple[str, int]] = set()  # (idsms, status): a report is applied once a poll
    first = await client.inbox(delete=False)
    if first.err != 0:
        raise InboxError(protocol.error_info(first.err).text)
    await _apply(first, records, account_id, result, seen, moment)
    if (not first.incoming and not first.reports) or result.held_back:
        return result
    second = await client.inbox(delete=True)
    if second.err != 0:
        raise InboxError(protocol.error_info(second.err).text)
    result.deleted = True
    await _apply(second, records, account_id, result, seen, moment)
    return result


def inbox_poller(
    sessions: async_sessionmaker,
    box: SecretBox,
    records: Records,
    make_client: Callable[[dict[str, str], dict[str, str]], SmsbranaClient],
    *,
    interval: float = DEFAULT_INTERVAL,
) -> AccountPoller:
    async def poll_account(
        account_id: int, config: dict[str, str], secrets: dict[str, str]
    ) -> PollResult | None:
        if not config.get("login"):
            return None  # not configured yet
        try:
            return await poll_once(make_client(config, secrets), records, account_id)
        except (Unreachable, protocol.ProtocolError, InboxError) as exc:
            raise PollError(str(exc)) from None

    return AccountPoller(
        "smsbrana inbox", GatewayType.SMSBRANA, sessions, box, poll_account, interval=interval
    )
