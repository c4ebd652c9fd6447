"""Waiting for a condition in async tests without sleeping blindly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], timeout: float = 3.0) -> None:
    """Re-check `condition` on every turn of the loop (cheap: a few µs) until true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)
