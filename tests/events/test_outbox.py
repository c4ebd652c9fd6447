"""The transactional outbox: each state change writes its event in its own transaction,
a rolled-back change leaves no event, and no code changes a message's state but
server/messages/changes.py."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select

from bridge import protocol as p
from server.agents import store
from server.db.tables import Agent, Event, Message
from server.messages import changes
from server.runtime import Server
from sms.model import MessageState
from tests.server.conftest import Api

ROOT = Path(__file__).resolve().parents[2]


async def events_of(srv: Server, message_id: str | None = None) -> list[tuple[str, dict]]:
    async with srv.sessions() as session:
        query = select(Event).order_by(Event.seq)
        if message_id is not None:
            query = query.where(Event.message_id == message_id)
        rows = (await session.execute(query)).scalars().all()
    return [(e.type, msgspec.json.decode(e.data)) for e in rows]


async def send(api: Api, **body: object) -> str:
    r = await api.post("/api/messages", json={"to": "+420777123456", "text": "Ahoj"} | body)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def test_a_sent_message_has_queued_then_sent(api: Api, server: Server) -> None:
    account = (await api.account())["id"]
    message_id = await send(api, account=account)
    got = await events_of(server, message_id)
    assert [t for t, _ in got] == ["message.queued", "message.sent"]
    queued = got[0][1]
    assert queued["message"] == message_id and queued["account"] == account
    assert (queued["to"], queued["text"], queued["state"]) == ("+420777123456", "Ahoj", "queued")


async def test_failed_carries_reason_and_detail_and_nothing_moves_back(
    api: Api, server: Server
) -> None:
    account = (await api.account())["id"]
    message_id = await send(api, account=account)
    await server.states.report(message_id, "failed", "expired", "the SMS expired")
    await server.states.report(message_id, "failed", "again", "ignored: already failed")
    await server.states.report(message_id, "delivered")  # backwards: no change, no event
    got = await events_of(server, message_id)
    assert [t for t, _ in got] == ["message.queued", "message.sent", "message.failed"]
    assert got[-1][1].items() >= {"reason": "expired", "detail": "the SMS expired"}.items()


async def test_a_change_rolled_back_leaves_no_event(api: Api, server: Server) -> None:
    account = (await api.account())["id"]
    message_id = await send(api, account=account)
    before = await events_of(server)
    with pytest.raises(RuntimeError):
        async with server.sessions.begin() as session:
            at = dt.datetime.now(dt.UTC)
            assert await changes.advance(session, message_id, MessageState.DELIVERED, at)
            raise RuntimeError("the transaction fails after the change")
    assert await events_of(server) == before
    async with server.sessions() as session:
        state = (
            await session.execute(select(Message.state).where(Message.id == message_id))
        ).scalar()
    assert state == "sent"


async def test_agent_reports_write_their_events(api: Api, server: Server) -> None:
    r = await api.post("/api/agents", json={"name": "office-1"})
    assert r.status_code == 201, r.text
    account = await api.account(
        gateway="modem",
        config="device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1",
        sharing="all",
    )
    message_id = await send(api, account=account["id"])
    now = dt.datetime.now(dt.UTC)
    async with server.sessions.begin() as session:
        agent = (await session.execute(select(Agent))).scalar_one()
        await store.jobs_acked(session, [p.JobAck(id=message_id, accepted=True)], "conn-1")
        line = account["name"]
        await store.save_line_status(session, agent, p.LineStatus(line=line, up=True, at=now))
        await store.save_line_status(session, agent, p.LineStatus(line=line, up=True, at=now))
        reports: list[p.Event] = [
            p.Sent(event_id=1, job_id=message_id, at=now),
            p.Delivered(
                event_id=2, job_id=message_id, part=1, final=True, delivered=True, status=0, at=now
            ),
            p.Received(
                event_id=3, line=line, sender="+420602111222", text="Ano", at=now, received_at=now
            ),
        ]
        for event in reports:
            await store.apply_event(session, agent, event)
        down = p.LineStatus(line=line, up=False, at=now, detail="no network", last_error="CREG 0")
        await store.save_line_status(session, agent, down)
    types = [t for t, _ in await events_of(server)]
    assert types == [
        "message.queued",
        "message.dispatched",
        "line.up",  # once: the second status did not change it
        "message.sent",
        "message.part",
        "message.delivered",
        "message.received",
        "line.down",
    ]
    got = dict(await events_of(server))
    assert got["line.down"] == {"agent": "office-1", "line": line, "reason": "CREG 0"}
    assert got["message.received"]["from"] == "+420602111222"
    assert got["message.received"]["text"] == "Ano"
    assert got["message.part"].items() >= {"part": 1, "delivered": True, "status": 0}.items()


def _updates_messages(call: ast.Call) -> bool:
    """Whether `<...>.values(...)` hangs off `update(Message)` (or insert)."""
    node: ast.AST = call.func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("update", "insert"):
            return any(getattr(a, "id", "") == "Message" for a in node.args)
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _state_writers() -> list[str]:
    """Modules that set messages.state: `update(Message)...values(state=...)`, or a
    `"state":` key in a module that works with the Message table."""
    found = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text()
        uses_messages = "Message" in source and "db.tables import" in source
        for node in ast.walk(ast.parse(source)):
            is_values = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "values"
            if (
                is_values
                and any(k.arg == "state" for k in node.keywords)  # type: ignore[union-attr]
                and _updates_messages(node)  # type: ignore[arg-type]
            ):
                found.append(rel)
            if (
                uses_messages
                and isinstance(node, ast.Dict)
                and any(isinstance(k, ast.Constant) and k.value == "state" for k in node.keys)
            ):
                found.append(rel)
    return sorted(set(found))


def test_only_changes_py_updates_a_messages_state() -> None:
    assert _state_writers() == [
        "server/api/messages.py",  # the new row for the writer, which writes its event
        "server/messages/changes.py",
        "server/messages/states.py",  # builds the statement that only changes.py runs
    ]
    users = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "server").rglob("*.py")
        if "advance_statement(" in p.read_text()
    ]
    assert sorted(users) == ["server/messages/changes.py", "server/messages/states.py"]
    # The writer is the one path that inserts messages rows in bulk; it writes the events.
    assert "changes.queued(" in (ROOT / "server/messages/writer.py").read_text()


async def test_every_event_of_a_batch_is_in_the_feed_order(api: Api, server: Server) -> None:
    account = (await api.account())["id"]
    ids = [await send(api, account=account, text=f"m{i}") for i in range(5)]
    async with server.sessions() as session:
        n = (await session.execute(select(func.count()).select_from(Event))).scalar()
    assert n == 10
    order = [d["message"] for _, d in await events_of(server)]
    assert order == [i for i in ids for _ in range(2)]
