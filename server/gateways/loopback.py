"""An in-memory gateway that acknowledges at once: the sink for tests and the benchmark.
Never registered by `sms-server` itself, since it sends nothing anywhere."""

from __future__ import annotations

from sms.model import MessageState

from .base import Job, StateSink


class Loopback:
    def __init__(self, sink: StateSink | None = None, *, outcome: MessageState | None = None):
        self.jobs: list[Job] = []
        self._sink = sink
        self._outcome = outcome  # state to report for each job, None to report nothing

    def attach(self, sink: StateSink) -> None:
        self._sink = sink

    async def hand_off(self, jobs: list[Job]) -> None:
        self.jobs.extend(jobs)
        if self._sink is None or self._outcome is None:
            return
        for job in jobs:
            await self._sink.report(job.id, self._outcome)
