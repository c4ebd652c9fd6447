"""An agent may touch only the jobs handed to its own lines: a fake agent speaking the
protocol with office-2's token, over a real WebSocket to a real `sms-server` process,
tries to fail, ack and report on office-1's message and lines. Nothing changes, each
attempt is counted in /metrics; office-1 itself still sends its job."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets

from bridge import protocol as p
from tests.waiting import eventually

from .live import sms_server

NOW = datetime(2026, 12, 4, tzinfo=UTC)
CONFIG = "device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1"


class FakeAgent:
    """A WebSocket that speaks the protocol by hand and keeps what the server sent."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.frames: list[p.AnyFrame] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames.append(p.decode(raw.encode() if isinstance(raw, str) else raw))
        except websockets.ConnectionClosed:
            pass

    async def send(self, *frames: p.AnyFrame) -> None:
        for frame in frames:
            await self.ws.send(p.encode(frame).decode())

    def acked(self, event_id: int) -> bool:
        return any(isinstance(f, p.EventAck) and event_id in f.event_ids for f in self.frames)

    def jobs(self) -> list[p.Job]:
        return [f for f in self.frames if isinstance(f, p.Job)]


async def connect(ws_url: str, token: str, name: str, lines: list[p.LineInfo]) -> FakeAgent:
    ws = await websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"})
    agent = FakeAgent(ws)
    await agent.send(p.Hello(agent=name, lines=lines))
    await eventually(
        lambda: any(isinstance(f, p.Welcome) for f in agent.frames), what=f"{name} welcomed"
    )
    return agent


def refused(metrics: str, agent: str, reason: str) -> float:
    m = re.search(
        rf'smsbridge_agent_refused_total\{{agent="{agent}",reason="{reason}"\}} (\S+)', metrics
    )
    return float(m.group(1)) if m else 0.0


async def test_an_agent_cannot_touch_another_agents_jobs_or_lines(tmp_path: Path) -> None:
    with sms_server(tmp_path) as live:
        api = httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}, timeout=10
        )
        ws_url = live.url.replace("http://", "ws://") + "/agent"
        tokens = {}
        for name in ("office-1", "office-2"):
            tokens[name] = (await api.post("/api/agents", json={"name": name})).json()["token"]
        r = await api.post(
            "/api/accounts",
            json={"name": "GSM1", "gateway": "modem", "config": CONFIG, "default": True},
        )
        assert r.status_code == 201, r.text
        mid = (await api.post("/api/messages", json={"to": "+420774884138", "text": "x"})).json()[
            "id"
        ]

        # A message of the seeded smsbrana account (no login yet: it waits in queued).
        (web,) = [a for a in (await api.get("/api/accounts")).json() if a["gateway"] == "smsbrana"]
        r = await api.post(
            "/api/messages", json={"to": "+420774884138", "text": "y", "account": web["id"]}
        )
        web_mid = r.json()["id"]

        async def state(message: str = mid) -> str:
            return (await api.get(f"/api/messages/{message}")).json()["state"]

        # office-2, with its own token, goes after office-1's queued message and line.
        attacker = await connect(ws_url, tokens["office-2"], "office-2", [])
        await attacker.send(
            p.JobAck(id=mid),
            p.LineStatus(line="GSM1", up=True, at=NOW, detail="invented"),
            p.Failed(event_id=1, job_id=mid, at=NOW, reason="attack", detail="by office-2"),
            p.Received(
                event_id=2, line="GSM1", sender="+1", text="forged", at=NOW, received_at=NOW
            ),
        )
        await eventually(lambda: attacker.acked(1) and attacker.acked(2), what="events handled")
        assert await state() == "queued"

        # office-1 takes the job: now it is handed to office-1's line and leased.
        owner = await connect(
            ws_url, tokens["office-1"], "office-1", [p.LineInfo(name="GSM1", kind="modem")]
        )
        await owner.send(p.LineStatus(line="GSM1", up=True, at=NOW))
        await eventually(lambda: owner.jobs(), what="the job handed to office-1")
        assert owner.jobs()[0].id == mid
        await attacker.send(
            p.JobAck(id=mid),
            p.Delivered(event_id=3, job_id=mid, at=NOW, final=True, delivered=False),
            p.Failed(event_id=4, job_id=mid, at=NOW, reason="attack"),
            p.Delivered(event_id=5, job_id=web_mid, at=NOW, final=True, delivered=False),
        )
        await eventually(lambda: attacker.acked(5), what="events handled")
        assert await state() == "queued"
        assert await state(web_mid) == "queued"

        # The owner still can (the check could fail).
        await owner.send(p.JobAck(id=mid), p.Sent(event_id=1, job_id=mid, at=NOW))
        await eventually(lambda: owner.acked(1), what="office-1's Sent stored")
        assert await state() == "sent"

        agents = {a["name"]: a for a in (await api.get("/api/agents")).json()}
        assert agents["office-2"]["line_status"] == []
        # The forged SMS reached no account (kept unattached, for the admins).
        inbox = (await api.get("/api/messages", params={"direction": "in"})).json()["messages"]
        assert [(m["account"], m["text"]) for m in inbox] == [(None, "forged")]
        assert "agent 'office-2'" in inbox[0]["detail"]
        metrics = (await api.get("/metrics")).text
        assert refused(metrics, "office-2", "not-its-job") == 6
        assert refused(metrics, "office-2", "not-its-line") == 2
        assert refused(metrics, "office-1", "not-its-job") == 0
        await attacker.ws.close()
        await owner.ws.close()
        await api.aclose()
