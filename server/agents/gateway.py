"""The gateway for agent-backed accounts (modem, gammu, smstools, smslib): a committed
message only needs its agent woken; the agent's connection claims it from the table."""

from __future__ import annotations

from ..gateways.base import Job
from .hub import Hub


class AgentGateway:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def hand_off(self, jobs: list[Job]) -> None:
        for agent in {job.config.get("agent", "") for job in jobs}:
            if agent:
                await self.hub.notify(agent)
