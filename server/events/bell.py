"""Wakes whoever waits for new events (the feed's long polls, the webhook deliverer): in
this process right after a commit that wrote events, and on PostgreSQL in every replica
through the NOTIFY that outbox.py sends inside that commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from .outbox import CHANNEL, PENDING

log = logging.getLogger("smsbridge.server.events")


class Bell:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._callbacks: list[Callable[[], None]] = []
        self.rings = 0
        # Set when the server is stopping: long polls answer at once instead of holding
        # the graceful shutdown for up to a minute.
        self.closing = False

    def close(self) -> None:
        self.closing = True
        self.ring()

    def ring(self) -> None:
        self.rings += 1
        rung, self._event = self._event, asyncio.Event()
        rung.set()
        for callback in self._callbacks:
            callback()

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` (quick, not async) at every ring."""
        self._callbacks.append(callback)

    def ticket(self) -> asyncio.Event:
        """Take this before looking for events, then wait on it: a ring in between is
        not missed."""
        return self._event

    @staticmethod
    async def wait(ticket: asyncio.Event, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ticket.wait(), timeout)
            return True
        return False

    def session_class(self) -> type[Session]:
        """A Session class of this server whose commits ring the bell when they wrote
        events (a class of its own: listening on Session itself would be global)."""
        cls: type[Session] = type("EventSession", (Session,), {})

        def after_commit(session: Session) -> None:
            if session.info.pop(PENDING, False):
                self.ring()

        def after_rollback(session: Session) -> None:
            session.info.pop(PENDING, None)

        event.listen(cls, "after_commit", after_commit)
        event.listen(cls, "after_rollback", after_rollback)
        return cls

    async def start(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            return
        url = make_url(engine.url).set(drivername="postgresql")
        try:
            self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
            await self._listener.add_listener(CHANNEL, lambda *_: self.ring())
        except Exception:  # waiters fall back to their own short timer
            log.warning("cannot LISTEN for events; other replicas' events are seen later")

    async def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
