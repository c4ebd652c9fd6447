"""Waiting in async tests for state another task or process changes: re-check a
condition until it holds, never a sleep that guesses how long the change takes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    timeout: float = 15.0,
    what: str = "condition",
    *,
    interval: float = 0.02,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """The first truthy value of `check()` (sync or async). `ignore`: errors that mean
    "not yet" (e.g. a server that is restarting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
                value = await value  # type: ignore[misc]
            if value:
                return value  # type: ignore[return-value]
        except ignore:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)
