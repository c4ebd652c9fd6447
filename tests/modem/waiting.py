"""Waiting for a condition in async tests without sleeping blindly."""

from __future__ import annotations

from collections.abc import Callable

from tests.waiting import eventually


async def until(condition: Callable[[], object], timeout: float = 3.0) -> None:
    """Re-check `condition` every few ms (driver state changes within a loop turn or two)."""
    await eventually(condition, timeout, interval=0.005)
