"""Polling the accounts of one web gateway that have `poll_incoming` on: every `interval`
seconds, or at once after `trigger()` (a push from the service, a test). Accounts are read
anew each round, so a changed account is picked up without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import GatewayType

from ..accounts.config import stored_values
from ..db.tables import Account
from ..keys import SecretBox
from .leader import RoundLock

log = logging.getLogger("smsbridge.server.gateways.polling")

# (account id, non-secret config, secrets) → a result for the round's summary. Expected
# troubles are raised as PollError; their text is logged and returned, nothing more.
PollAccount = Callable[[int, dict[str, str], dict[str, str]], Awaitable[Any]]


class PollError(Exception):
    pass


class AccountPoller:
    def __init__(
        self,
        name: str,
        gateway: GatewayType,
        sessions: async_sessionmaker,
        box: SecretBox,
        poll_account: PollAccount,
        *,
        interval: float = 60.0,
        min_gap: float = 2.0,
        round_lock: RoundLock | None = None,
    ) -> None:
        self.name = name
        self._gateway = gateway
        self._sessions = sessions
        self._box = box
        self._poll_account = poll_account
        # None: poll only when triggered (a worker that does not lead, see leader.py).
        self.interval: float | None = interval
        self.round_lock = round_lock or RoundLock(None)
        # Pushes come without a token: however many arrive, poll at most once per gap.
        self.min_gap = min_gap
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.round_done = asyncio.Event()  # set after each round, for whoever waits on one

    def trigger(self) -> None:
        self._wake.set()

    async def poll_all(self) -> dict[int, Any]:
        """One round: each account's result, or the text of what went wrong with it.
        Empty when another process is polling right now (it will see the same items)."""
        async with self.round_lock.hold() as mine:
            if not mine:
                log.info("%s: another process is polling; skipped", self.name)
                self.round_done.set()
                return {}
            return await self._round()

    async def _round(self) -> dict[int, Any]:
        async with self._sessions() as session:
            accounts = (
                (
                    await session.execute(
                        select(Account).where(
                            Account.gateway == self._gateway.value,
                            Account.poll_incoming.is_(True),
                        )
                    )
                )
                .scalars()
                .all()
            )
        results: dict[int, Any] = {}
        for account in accounts:
            config = stored_values(account.config)
            try:
                results[account.id] = await self._poll_account(
                    account.id, config, self._box.open(account.secrets)
                )
            except PollError as exc:
                log.warning("%s: polling account %s: %s", self.name, account.id, exc)
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
                log.exception("%s: polling round failed", self.name)
            await asyncio.sleep(self.min_gap)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self.name}-poller")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
