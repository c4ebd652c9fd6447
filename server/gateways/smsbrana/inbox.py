"""Polling smsbrana's `inbox` (§3.3): incoming SMS are stored and delivery reports applied
first, and only then are the items deleted on the service.

There is no per-item delete: `delete=1` returns what is there now and removes it. So one
poll reads without deleting, stores everything, then calls again with `delete=1`; what
that answer carries is stored too (items that arrived in between) and the repeats are
harmless, since incoming SMS are de-duplicated on number + time + text and a report can
only move a message forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import GatewayType

from ...accounts.config import stored_values
from ...db.tables import Account
from ...keys import SecretBox
from ..records import Records
from . import protocol
from .client import SmsbranaClient, Unreachable
from .protocol import Inbox

log = logging.getLogger("smsbridge.server.gateways.smsbrana.inbox")

DEFAULT_INTERVAL = 60.0  # seconds between polls when no push arrives


class InboxError(Exception):
    pass


class PollResult(msgspec.Struct):
    stored: int = 0  # new incoming SMS
    reports: int = 0  # delivery reports that matched a message of ours
    deleted: bool = False


async def _apply(
    box: Inbox,
    records: Records,
    account_id: int,
    result: PollResult,
    seen: set[tuple[str, int]],
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
            continue
        state, reason, detail = outcome
        await records.report(message_id, state.value, reason, detail)
        result.reports += 1


async def poll_once(client: SmsbranaClient, records: Records, account_id: int) -> PollResult:
    result = PollResult()
    seen: set[tuple[str, int]] = set()  # (idsms, status): a report is applied once a poll
    first = await client.inbox(delete=False)
    if first.err != 0:
        raise InboxError(protocol.error_info(first.err).text)
    await _apply(first, records, account_id, result, seen)
    if not first.incoming and not first.reports:
        return result
    second = await client.inbox(delete=True)
    if second.err != 0:
        raise InboxError(protocol.error_info(second.err).text)
    result.deleted = True
    await _apply(second, records, account_id, result, seen)
    return result


class InboxPoller:
    """Polls every smsbrana account that has `poll_incoming` on an interval, or at once
    when `trigger()` is called (the push endpoint). Accounts are read anew each round."""

    def __init__(
        self,
        sessions: async_sessionmaker,
        box: SecretBox,
        records: Records,
        make_client: Callable[[dict[str, str], dict[str, str]], SmsbranaClient],
        *,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._records = records
        self._make_client = make_client
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.round_done = asyncio.Event()  # set after each round, for whoever waits on one

    def trigger(self) -> None:
        self._wake.set()

    async def poll_all(self) -> dict[int, PollResult | str]:
        """One round: each account's result, or the text of what went wrong with it."""
        async with self._sessions() as session:
            accounts = (
                (
                    await session.execute(
                        select(Account).where(
                            Account.gateway == GatewayType.SMSBRANA.value,
                            Account.poll_incoming.is_(True),
                        )
                    )
                )
                .scalars()
                .all()
            )
        results: dict[int, PollResult | str] = {}
        for account in accounts:
            config = stored_values(account.config)
            if not config.get("login"):
                continue
            client = self._make_client(config, self._box.open(account.secrets))
            try:
                results[account.id] = await poll_once(client, self._records, account.id)
            except (Unreachable, protocol.ProtocolError, InboxError) as exc:
                log.warning("smsbrana inbox of account %s: %s", account.id, exc)
                results[account.id] = str(exc)
        self.rounds += 1
        self.round_done.set()
        return results

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.poll_all()
            except Exception:
                log.exception("smsbrana inbox round failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="smsbrana-inbox")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
