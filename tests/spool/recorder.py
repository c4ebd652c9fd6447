"""The event callback the spool tests give a line: records events, can fail on demand."""

from __future__ import annotations

import asyncio

from agent.spool.events import SpoolEvent


class Recorder:
    """`fail_next` = how many coming events to refuse (a bridge that cannot store)."""

    def __init__(self, wait: float = 5.0) -> None:
        self.events: asyncio.Queue[SpoolEvent] = asyncio.Queue()
        self.fail_next = 0
        self.wait = wait

    async def __call__(self, event: SpoolEvent) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("outbox full")
        self.events.put_nowait(event)

    async def next(self, timeout: float | None = None) -> SpoolEvent:
        return await asyncio.wait_for(self.events.get(), timeout or self.wait)

    async def next_of(
        self, kind: type | tuple[type, ...], timeout: float | None = None
    ) -> SpoolEvent:
        """The next event of `kind`, skipping others (e.g. Dispatched)."""
        while True:
            event = await self.next(timeout)
            if isinstance(event, kind):
                return event

    def empty(self) -> bool:
        return self.events.empty()
