"""The line supervisor: starts a line from its pushed configuration (after the agent's
allow-list has passed it), restarts it when the configuration changes, and stops it.

Each running line has a LineWorker task that feeds it its jobs from the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from bridge import protocol as p

from .allow_list import refusals
from .lines import Line, LineContext, LineWorker
from .outbox import Outbox

log = logging.getLogger(__name__)

# gateway id → builds a line from its pushed configuration (raises ValueError with a
# message for people when the configuration cannot work).
LineFactory = Callable[[p.ConfigPush], Line]


class LineSupervisor:
    def __init__(
        self,
        allow: Any,  # agent.config's allow-list, as agent/bridge/allow_list.py reads it
        factories: Mapping[str, LineFactory],
        outbox: Outbox,
        ctx: LineContext,
        forward: Callable[[p.Event], None],
    ) -> None:
        self.allow = allow
        self.factories = dict(factories)
        self.outbox = outbox
        self.ctx = ctx
        self.forward = forward
        self.workers: dict[str, LineWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, push: p.ConfigPush) -> str | None:
        """Start (or restart) a line; returns why it could not start, or None. The same
        configuration again leaves a running line alone (no modem is reset for nothing)."""
        running = self.workers.get(push.line)
        if running is not None and running.push == push:
            return None
        refused = refusals(push.gateway, push.config, self.allow)
        if refused:
            return "; ".join(refused)
        factory = self.factories.get(push.gateway)
        if factory is None:
            return f"this agent has no {push.gateway!r} support"
        try:
            line = factory(push)
        except ValueError as exc:
            return str(exc)
        await self.stop(push.line)
        worker = LineWorker(line, self.outbox, self.forward)
        worker.push = push
        try:
            await line.start(self.ctx)
        except Exception as exc:  # the device may be absent now; the line retries itself
            log.warning("line %s: %s", push.line, exc)
            worker.last_error = str(exc)
        self.workers[push.line] = worker
        self._tasks[push.line] = asyncio.create_task(worker.run(), name=f"line {push.line}")
        return None

    async def stop(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task:
            task.cancel()
        worker = self.workers.pop(name, None)
        if worker:
            await worker.line.close()

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for worker in self.workers.values():
            with contextlib.suppress(Exception):
                await worker.line.close()
        self.workers.clear()
        self._tasks.clear()
