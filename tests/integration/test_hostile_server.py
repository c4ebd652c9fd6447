"""A compromised server against a real `sms-agent run` process (started as README starts
it): a small WebSocket server here speaks the protocol from bridge/ and pushes hostile
configuration. Every push is refused with a reason naming the key, and nothing is
created, moved or read outside `allow` (issue #19, items 2-5)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from websockets.asyncio.server import ServerConnection, serve

from bridge import protocol as p
from tests.waiting import eventually

from .chaos_tools import Process

TOKEN = "sba_test-token-for-the-hostile-server"


class FakeServer:
    """Welcomes the agent, then sends what the test queues; keeps every frame it got."""

    def __init__(self) -> None:
        self.got: list[p.AnyFrame] = []
        self.outgoing: asyncio.Queue[p.Frame] = asyncio.Queue()
        self.port = 0
        self.auth: list[str | None] = []

    async def handler(self, ws: ServerConnection) -> None:
        self.auth.append(ws.request.headers.get("Authorization") if ws.request else None)
        hello = p.decode(await ws.recv())
        assert isinstance(hello, p.Hello)
        await ws.send(p.encode(p.Welcome()).decode())

        async def pump() -> None:
            while True:
                await ws.send(p.encode(await self.outgoing.get()).decode())

        sender = asyncio.create_task(pump())
        try:
            async for raw in ws:  # until the agent goes
                frame = p.decode(raw)
                self.got.append(frame)
                if isinstance(frame, p.EVENT_TYPES):
                    await ws.send(p.encode(p.EventAck(event_ids=[frame.event_id])).decode())
        except websockets.ConnectionClosed:
            pass
        finally:
            sender.cancel()

    def results(self) -> dict[str, p.ConfigResult]:
        return {f.line: f for f in self.got if isinstance(f, p.ConfigResult)}


@contextlib.asynccontextmanager
async def fake_server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    async with serve(fake.handler, "127.0.0.1", 0, max_size=p.MAX_FRAME_BYTES) as server:
        fake.port = server.sockets[0].getsockname()[1]
        yield fake


def snapshot(root: Path) -> dict[str, tuple[bool, bytes | None]]:
    """Every path under `root` (symlinks not followed) and the bytes of each file."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            out[str(path.relative_to(root))] = (path.is_symlink(), data)
    return out


LOOT = b"From: 420777123456\nReceived: 26-11-26 10:00:00\n\nthe server must never read this"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """spool/{in,out} and dev/modem0 are allowed; outside/ holds what must stay put; a
    symlink in the spool and one among the modems lead outside."""
    for d in ("spool/in", "spool/out", "spool/sent", "outside/report", "dev", "state"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "outside" / "report" / "GSM1.loot").write_bytes(LOOT)
    (tmp_path / "outside" / "secret").write_text("x")
    (tmp_path / "spool" / "link").symlink_to(tmp_path / "outside")
    (tmp_path / "dev" / "modem-link").symlink_to(tmp_path / "outside" / "secret")
    return tmp_path


def hostile_pushes(site: Path) -> dict[str, tuple[p.ConfigPush, str]]:
    """line name -> (the push, words its refusal must contain)."""
    spool, outside = site / "spool", site / "outside"
    ok = {"in": f"{spool}/in", "out": f"{spool}/out"}

    def tools(**extra: str) -> dict[str, str]:
        return {**ok, **extra}

    cases: dict[str, tuple[str, dict[str, str], str]] = {
        "report-outside": ("smstools", tools(report=f"{outside}/report"), "'report'"),
        "archive-outside": ("smstools", tools(archive=f"{outside}/archive"), "'archive'"),
        "in-symlink": ("smstools", tools(**{"in": f"{spool}/link/report"}), "leads to"),
        "in-dotdot": ("smstools", tools(**{"in": f"{spool}/in/../../outside"}), "'..'"),
        "in-home": ("smstools", tools(**{"in": "~/report"}), "absolute path"),
        "in-empty": ("smstools", tools(**{"in": ""}), "'in' is empty"),
        "in-space": ("smstools", tools(**{"in": f" {spool}/in"}), "absolute path"),
        "in-nul": ("smstools", tools(**{"in": f"{spool}/in\x00"}), "control character"),
        "unknown-key": ("smstools", tools(spool=str(outside)), "unknown key 'spool'"),
        "state-dir": ("smstools", tools(state_dir=str(outside)), "'state_dir' is set by the agent"),
        "sqlite-dotdot": ("smslib", {"sqlURL": f"sqlite:///{spool}/../X.db"}, "'..'"),
        "jdbc-sqlite-dotdot": ("smslib", {"sqlURL": f"jdbc:sqlite:{spool}/../X.db"}, "'..'"),
        "sqlite-elsewhere": ("smslib", {"sqlURL": f"sqlite:///{outside}/X.db"}, "allow-list"),
        "pg-query-host": (
            "smslib",
            {"sqlURL": "postgresql://127.0.0.1/smslib?host=evil.example"},
            "option host",
        ),
        "pg-other-port": ("smslib", {"sqlURL": "jdbc:postgresql://127.0.0.1:6543/smslib"}, "6543"),
        "modem-etc": ("modem", {"device": "/etc/passwd"}, "allow-list"),
        "modem-link": ("modem", {"device": f"{site}/dev/modem-link"}, "leads to"),
        "gammu-outside": ("gammu", {"device": f"{outside}/secret", "connection": "at"}, "'device'"),
    }
    return {
        line: (p.ConfigPush(line=line, gateway=gw, config=config), words)  # type: ignore[arg-type]
        for line, (gw, config, words) in cases.items()
    }


async def test_a_hostile_server_cannot_make_the_agent_touch_anything_outside_allow(site: Path):
    pushes = hostile_pushes(site)
    # Valid configurations under hostile line names: applied, their state kept inside.
    spool = {"in": f"{site}/spool/in", "out": f"{site}/spool/out", "sent": f"{site}/spool/sent"}
    good_name, other_name = "../../ESCAPED", f"{site}/x/ESCAPED"
    good = p.ConfigPush(line=good_name, gateway="smstools", config=spool)
    other = p.ConfigPush(line=other_name, gateway="smstools", config=spool)
    outside_before = snapshot(site / "outside")
    async with fake_server() as fake:
        (site / "agent.toml").write_text(
            f'server = "ws://127.0.0.1:{fake.port}/agent"\nname = "office-1"\n'
            f'token = "{TOKEN}"\nstate_dir = "{site}/state"\n'
            f'allow = ["{site}/spool/**", "{site}/dev/modem*", "postgresql://127.0.0.1/smslib"]\n'
            "reconnect_max_seconds = 1.0\n"
        )
        agent = Process(
            "sms-agent", ["sms-agent", "run", "--config", str(site / "agent.toml")], site, {}
        )
        agent.start()
        try:
            await eventually(lambda: fake.auth, 20, "the agent to connect")
            await fake.outgoing.put(p.LineSet(lines=[*pushes, good_name, other_name]))
            for push, _ in pushes.values():
                await fake.outgoing.put(push)
            await fake.outgoing.put(good)
            await fake.outgoing.put(other)
            results = await eventually(
                lambda: len(fake.results()) == len(pushes) + 2 and fake.results(),
                20,
                "a result for every push",
            )
            for line, (_, words) in pushes.items():
                assert not results[line].applied, line
                assert words in results[line].detail, (line, results[line].detail)
            assert results[good_name].applied, results[good_name].detail
            assert results[other_name].applied, results[other_name].detail

            # A job whose id would be a path: failed, not written anywhere.
            job = p.Job(id="../../../ESCAPED", line=good_name, to="+420777123456", text="x")
            await fake.outgoing.put(job)
            failed = await eventually(
                lambda: [f for f in fake.got if isinstance(f, p.Failed) and f.job_id == job.id],
                20,
                "the job to fail",
            )
            assert failed[0].reason == "refused"
        except BaseException:
            agent.stop()
            raise
    # Stopped once the fake is gone: Process.stop() blocks this event loop, where the fake
    # runs, so the agent would wait out its WebSocket close timeout (10 s) for its answer.
    agent.stop()
    assert fake.auth[0] == f"Bearer {TOKEN}"
    assert snapshot(site / "outside") == outside_before  # nothing moved, made or changed
    assert not [f for f in fake.got if isinstance(f, p.Received)]  # the loot was never read
    escaped = [str(q) for q in site.rglob("*ESCAPED*") if not q.is_relative_to(site / "state")]
    assert not escaped and not Path("/tmp/x/ESCAPED").exists()
    assert not list(site.rglob("X.db"))
    folders = sorted(f.name for f in (site / "state" / "lines").iterdir())  # slug + hash
    assert len(folders) == 2, folders
    assert all(re.fullmatch(r"[a-z0-9-]{1,40}-[0-9a-f]{16}", f) for f in folders), folders
    assert not (site / "x").exists()
    assert sorted(os.listdir(site / "spool" / "out")) == []
    assert "Traceback" not in agent.tail(100_000)
