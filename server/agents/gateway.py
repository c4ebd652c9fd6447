"""The gateway for agent-backed accounts (modem, gammu, smstools, smslib): a committed
message only needs its agent woken; the agent's connection claims it from the table."""

from __future__ import annotations

from ..accounts.config import base_key
from ..gateways.base import Job
from .hub import Hub


class AgentGateway:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def hand_off(self, jobs: list[Job]) -> None:
        agents = {v for job in jobs for k, v in job.config.items() if base_key(k)[1] == "agent"}
        for agent in agents:
            if agent:
                await self.hub.notify(agent)
