"""Stopping the server's woken background loops (the dispatcher, the scheduler, the
webhook deliverer): each waits on an asyncio.Event with a timeout and checks a stopping
flag at the top of its loop."""

from __future__ import annotations

import asyncio
import contextlib


async def stop_loop(task: asyncio.Task[None] | None, wake: asyncio.Event) -> None:
    """Stop `task` once its owner has set its stopping flag. The cancel alone is not
    enough: Python 3.11's wait_for can drop a cancel that arrives as the event it waits
    for is set, and the loop would go on; the flag, seen after `wake`, ends it then."""
    wake.set()
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
