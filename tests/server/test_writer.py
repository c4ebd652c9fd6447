"""Group commit: many concurrent messages, few transactions, each caller told the truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.db.tables import Message
from server.messages.states import StateRecorder
from server.messages.writer import MessageWriter, WriterStopped
from server.runtime import Server
from sms.model import MessageState


def row(message_id: str | None = None) -> dict[str, object]:
    return {
        "id": message_id or uuid.uuid4().hex,
        "direction": "out",
        "account_id": None,
        "gateway": "url",
        "user_id": None,
        "peer": "+420774884138",
        "text": "x",
        "encoding": "gsm7",
        "parts": 1,
        "state": "queued",
        "created_at": dt.datetime.now(dt.UTC),
    }


async def stored_ids(server: Server) -> set[str]:
    async with server.sessions() as session:
        return set((await session.execute(select(Message.id))).scalars())


async def test_concurrent_messages_share_transactions(server: Server) -> None:
    writer = MessageWriter(server.engine, batch_max=64)
    await writer.start()
    try:
        rows = [row() for _ in range(200)]

        async def insert_and_check(r: dict[str, object]) -> None:
            await writer.insert(r)
            # Committed before insert() returned: another session sees it at once.
            assert r["id"] in await stored_ids(server)

        await asyncio.gather(*(insert_and_check(r) for r in rows))
    finally:
        await writer.stop()
    assert writer.rows == 200
    assert writer.batches < 50  # one transaction per request would be 200


async def test_a_bad_row_fails_alone(server: Server) -> None:
    writer = MessageWriter(server.engine)
    await writer.start()
    try:
        await writer.insert(row("taken"))
        good = [row() for _ in range(5)]
        results = await asyncio.gather(
            *(writer.insert(r) for r in [*good[:2], row("taken"), *good[2:]]),
            return_exceptions=True,
        )
    finally:
        await writer.stop()
    assert [type(r) for r in results] == [type(None)] * 2 + [IntegrityError] + [type(None)] * 3
    assert {str(r["id"]) for r in good} <= await stored_ids(server)


async def test_a_stopped_writer_refuses_work(server: Server) -> None:
    writer = MessageWriter(server.engine)
    with pytest.raises(WriterStopped):
        await writer.insert(row())


async def test_states_only_move_forward_with_their_times(server: Server) -> None:
    await server.writer.insert(row("m1"))
    states = StateRecorder(server.sessions)
    await states.report("m1", MessageState.SENT)
    await states.report("m1", MessageState.DISPATCHED)  # late: ignored
    await states.report("m1", MessageState.DELIVERED)
    await states.report("m1", MessageState.FAILED, "late", "ignored too")
    async with server.sessions() as session:
        m = (await session.execute(select(Message).where(Message.id == "m1"))).scalar_one()
    assert m.state == "delivered"
    assert m.dispatched_at is None and m.sent_at is not None and m.delivered_at is not None
    assert (m.failed_at, m.reason) == (None, None)


async def test_failure_keeps_reason_and_detail(server: Server) -> None:
    await server.writer.insert(row("m2"))
    await server.states.report("m2", MessageState.FAILED, "invalid_login", "smsbrana: bad login")
    async with server.sessions() as session:
        m = (await session.execute(select(Message).where(Message.id == "m2"))).scalar_one()
        count = (await session.execute(select(func.count()).select_from(Message))).scalar()
    assert (m.state, m.reason, m.detail) == ("failed", "invalid_login", "smsbrana: bad login")
    assert m.failed_at is not None
    assert count == 1


async def test_gateways_cannot_report_inbound_states(server: Server) -> None:
    with pytest.raises(ValueError, match="cannot report"):
        await server.states.report("m3", MessageState.RECEIVED)
