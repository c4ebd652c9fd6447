"""The SMSLib line on SQLite and on the real MariaDB and PostgreSQL servers, with a
stand-in SMSServer (tests/spool/smsserver_standin.py). Each test gets its own table
names (a unique prefix) and drops them afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa

from agent.spool.events import (
    SpoolDelivered,
    SpoolDispatched,
    SpoolFailed,
    SpoolJob,
    SpoolProblem,
    SpoolReceived,
    SpoolSent,
)
from agent.spool.smslib_line import SmslibConfig, SmslibLine, SmslibPending
from agent.spool.smslib_queries import SmslibJobError
from agent.spool.smslib_tables import SmslibTables
from tests.peers import MARIADB_URL, POSTGRES_URL
from tests.spool.recorder import Recorder
from tests.spool.smsserver_standin import StandinSMSServer


def _sync_pg(url: str) -> str:
    # tests.peers names an asyncio driver; the SMSLib line is sync (SQLAlchemy Core in a
    # worker thread) with the pure-Python pg8000.
    return sa.make_url(url).set(drivername="postgresql+pg8000").render_as_string(False)


class Db(msgspec.Struct):
    url: str
    engine: sa.Engine
    tables: SmslibTables
    smsserver: StandinSMSServer


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("mariadb", marks=pytest.mark.peer("mariadb")),
        pytest.param("postgresql", marks=pytest.mark.peer("postgresql")),
    ]
)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    url = {
        "sqlite": f"sqlite:///{tmp_path}/smslib.db",
        "mariadb": MARIADB_URL,
        "postgresql": _sync_pg(POSTGRES_URL),
    }[request.param]
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    tables = SmslibTables(f"{prefix}smsserver_out", f"{prefix}smsserver_in")
    engine = sa.create_engine(url)
    tables.create(engine)
    try:
        yield Db(url, engine, tables, StandinSMSServer(engine, tables))
    finally:
        tables.drop(engine)
        engine.dispose()


def config(db: Db, tmp_path: Path, **kw: object) -> SmslibConfig:
    values: dict[str, object] = {
        "sqlDriver": None,
        "sqlURL": db.url,
        "gatewayId": "modem1",
        "state_dir": str(tmp_path / "state"),
        "table_out": db.tables.out.name,
        "table_in": db.tables.inbound.name,
        "poll_seconds": 0.05,
    }
    values.update(kw)
    return SmslibConfig.from_account(values)


class Running(msgspec.Struct):
    line: SmslibLine
    rec: Recorder


@pytest.fixture
async def running(db: Db, tmp_path: Path) -> AsyncIterator[Running]:
    rec = Recorder()
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=3600), rec)
    await line.start()  # polls once at start, then sleeps: tests call poll_once()
    yield Running(line, rec)
    await line.stop()


JOB = SpoolJob(id="j-1", to="+420 777 123 456", text="Dobrý den", report=False)


async def test_submit_inserts_a_complete_row_and_reports_dispatched(
    db: Db, running: Running
) -> None:
    await running.line.submit(SpoolJob(id="j-1", to="420777123456", text="Dobrý den", report=True))
    assert await running.rec.next() == SpoolDispatched(line="sql", job_id="j-1")
    with db.engine.connect() as conn:
        (row,) = conn.execute(sa.select(db.tables.out)).all()
    assert (row.type, row.recipient, row.text, row.encoding) == (
        "O",
        "+420777123456",
        "Dobrý den",
        "U",
    )
    assert (row.status, row.errors, row.gateway_id, row.status_report) == ("U", 0, "modem1", 1)
    assert (row.flash_sms, row.src_port, row.dst_port, row.priority) == (0, -1, -1, 0)
    assert row.create_date is not None


async def test_gsm_text_is_written_with_encoding_7(db: Db, running: Running) -> None:
    await running.line.submit(SpoolJob(id="j-7", to="1", text="Hello [world] €"))
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(db.tables.out.c.encoding)).scalar_one() == "7"


async def test_submitting_the_same_job_twice_inserts_one_row(db: Db, running: Running) -> None:
    await running.line.submit(JOB)
    await running.line.submit(JOB)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.tables.out)).scalar() == 1


async def test_row_sent_by_smsserver_becomes_sent(db: Db, running: Running) -> None:
    await running.line.submit(JOB)
    await running.rec.next()
    await running.line.poll_once()
    assert running.rec.empty()  # still U
    db.smsserver.outbound_poll()
    await running.line.poll_once()
    event = await running.rec.next()
    assert isinstance(event, SpoolSent)
    assert (event.job_id, event.message_ref, event.modem) == ("j-1", 1, "modem1")
    assert running.line.health().pending == 0


async def test_row_failed_after_smsserver_retries_becomes_failed(db: Db, running: Running) -> None:
    db.smsserver.fail.add("+420777123456")
    await running.line.submit(JOB)
    await running.rec.next()
    for _ in range(2):  # errors 1, 2: back to U, nothing to say
        db.smsserver.outbound_poll()
        await running.line.poll_once()
        assert running.rec.empty()
    db.smsserver.outbound_poll()  # errors 3 > retries 2: F
    await running.line.poll_once()
    event = await running.rec.next()
    assert isinstance(event, SpoolFailed)
    assert (event.job_id, event.reason) == ("j-1", "gateway-gave-up")
    assert "3 failed attempts" in event.detail


async def test_report_row_makes_the_job_delivered(db: Db, running: Running) -> None:
    await running.line.submit(SpoolJob(id="r-1", to="+420777123456", text="x", report=True))
    db.smsserver.outbound_poll()
    await running.line.poll_once()
    await running.rec.next_of(SpoolSent)
    report_row = db.smsserver.status_report("420777123456", 1, delivered=True)
    await running.line.poll_once()
    event = await running.rec.next()
    assert isinstance(event, SpoolDelivered)
    assert (event.job_id, event.message_ref) == ("r-1", 1)
    assert db.smsserver.in_process(report_row) == 1
    assert running.line.health().pending == 0


async def test_outbound_status_from_report_makes_the_job_delivered_or_failed(
    db: Db, running: Running
) -> None:
    db.smsserver.update_outbound = True
    for job_id in ("ok", "ko"):
        await running.line.submit(
            SpoolJob(id=job_id, to=f"+42077712345{len(job_id)}", text="x", report=True)
        )
    await running.line.submit(SpoolJob(id="ko", to="+420777000000", text="x", report=True))
    db.smsserver.outbound_poll()
    await running.line.poll_once()
    sent = {}
    for _ in range(2):
        e = await running.rec.next_of(SpoolSent)
        assert isinstance(e, SpoolSent)
        sent[e.job_id] = e
    # mark rows D/A directly, as SMSServer does (reports for the in-table come later)
    out = db.tables.out
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(out).where(out.c.ref_no == str(sent["ok"].message_ref)).values(status="D")
        )
        conn.execute(
            sa.update(out).where(out.c.ref_no == str(sent["ko"].message_ref)).values(status="A")
        )
    await running.line.poll_once()
    got = {type(await running.rec.next()), type(await running.rec.next())}
    assert got == {SpoolDelivered, SpoolFailed}
    assert running.line.health().pending == 0


async def test_incoming_row_becomes_received_then_is_marked_processed(
    db: Db, running: Running
) -> None:
    row_id = db.smsserver.receive("+420602111222", "Ahoj, jak se máš?")
    await running.line.poll_once()
    event = await running.rec.next()
    assert isinstance(event, SpoolReceived)
    assert (event.sender, event.text, event.modem) == (
        "+420602111222",
        "Ahoj, jak se máš?",
        "modem1",
    )
    assert event.source_id.endswith(f":{row_id}")
    assert db.smsserver.in_process(row_id) == 1


async def test_incoming_row_stays_unprocessed_until_the_callback_stored_it(
    db: Db, running: Running
) -> None:
    row_id = db.smsserver.receive("+420602111222", "again")
    running.rec.fail_next = 1
    with pytest.raises(RuntimeError, match="outbox full"):
        await running.line.poll_once()
    assert db.smsserver.in_process(row_id) == 0
    await running.line.poll_once()
    assert isinstance(await running.rec.next(), SpoolReceived)
    assert db.smsserver.in_process(row_id) == 1


async def test_binary_incoming_row_is_given_as_hex(db: Db, running: Running) -> None:
    db.smsserver.receive("+420602111222", "0102FF", encoding="8")
    await running.line.poll_once()
    event = await running.rec.next()
    assert isinstance(event, SpoolReceived)
    assert (event.text, event.data_hex) == (None, "0102FF")


async def test_rows_of_another_gateway_are_left_alone(db: Db, running: Running) -> None:
    other = db.smsserver.receive("+420602111222", "not ours", gateway="modem2")
    await running.line.poll_once()
    assert running.rec.empty()
    assert db.smsserver.in_process(other) == 0


async def test_rows_that_arrived_while_stopped_are_taken_and_old_ones_not_again(
    db: Db, tmp_path: Path
) -> None:
    rec = Recorder()
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=3600), rec)
    await line.start()
    first = db.smsserver.receive("+1", "first")
    await line.poll_once()
    await line.stop()
    second = db.smsserver.receive("+1", "while stopped")
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=3600), rec)
    await line.start()
    try:
        texts = [getattr(await rec.next(), "text", None) for _ in range(2)]
        assert texts == ["first", "while stopped"]
        assert rec.empty()
        assert db.smsserver.in_process(first) == db.smsserver.in_process(second) == 1
    finally:
        await line.stop()


async def test_insert_cut_by_a_crash_is_found_at_start(db: Db, tmp_path: Path) -> None:
    rec = Recorder()
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=3600), rec)
    await line.start()
    await line.submit(JOB)
    await line.stop()
    # as if the agent died after INSERT and before writing the row id down
    path = tmp_path / "state" / "smslib" / "pending" / "j-1.json"
    pending = msgspec.json.decode(path.read_bytes(), type=SmslibPending)
    row_id = pending.row_id
    pending.row_id = None
    path.write_bytes(msgspec.json.encode(pending))
    never = SmslibPending(
        job_id="j-2", row_id=None, recipient="+1", text="never inserted",
        created=pending.created, report=False, since=pending.since,
    )  # fmt: skip
    (path.parent / "j-2.json").write_bytes(msgspec.json.encode(never))
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=3600), rec)
    await line.start()
    try:
        assert line.health().pending == 1
        await line.submit(JOB)  # the bridge offers it again: no second row
        with db.engine.connect() as conn:
            ids = conn.execute(sa.select(db.tables.out.c.id)).scalars().all()
        assert ids == [row_id]
    finally:
        await line.stop()


async def test_polling_loop_reports_without_being_asked(db: Db, tmp_path: Path) -> None:
    rec = Recorder()
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=0.05), rec)
    await line.start()
    try:
        await line.submit(JOB)
        db.smsserver.outbound_poll()
        assert isinstance(await rec.next_of(SpoolSent), SpoolSent)
        db.smsserver.receive("+1", "hello")
        assert isinstance(await rec.next_of(SpoolReceived), SpoolReceived)
    finally:
        await line.stop()


async def test_idle_poll_is_one_primary_key_range_query(db: Db, running: Running) -> None:
    before = running.line.queries
    await running.line.poll_once()
    assert running.line.queries - before == 1


async def test_missing_tables_give_a_clear_error(db: Db, tmp_path: Path) -> None:
    line = SmslibLine("sql", config(db, tmp_path, table_out="nope_out"), Recorder())
    with pytest.raises(ConnectionError, match="cannot read tables nope_out"):
        await line.start()


async def test_jobs_the_table_cannot_hold_are_refused(running: Running) -> None:
    with pytest.raises(SmslibJobError, match="1000"):
        await running.line.submit(SpoolJob(id="big", to="1", text="x" * 1001))
    with pytest.raises(SmslibJobError, match="not a phone number"):
        await running.line.submit(SpoolJob(id="bad", to="Alice", text="x"))


def test_password_is_not_in_the_config_repr(tmp_path: Path) -> None:
    c = SmslibConfig.from_account(
        {"sqlURL": "jdbc:mysql://h/db", "sqlPassword": "s3cret", "state_dir": str(tmp_path)}
    )
    assert "s3cret" not in repr(c)


async def test_failed_insert_leaves_no_trace_and_the_job_can_be_offered_again(
    db: Db, running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = running.line._sql
    assert sql is not None
    real_insert = sql.insert_outbound

    def broken(row: dict[str, object]) -> int:
        raise ConnectionError("database went away")

    monkeypatch.setattr(sql, "insert_outbound", broken)
    with pytest.raises(ConnectionError):
        await running.line.submit(JOB)
    assert running.line.health().pending == 0
    monkeypatch.setattr(sql, "insert_outbound", real_insert)
    await running.line.submit(JOB)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.tables.out)).scalar() == 1


async def test_insert_that_committed_before_failing_is_not_repeated(
    db: Db, running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = running.line._sql
    assert sql is not None
    real_insert = sql.insert_outbound

    def lost_answer(row: dict[str, object]) -> int:
        real_insert(row)
        raise ConnectionError("connection lost after COMMIT")

    monkeypatch.setattr(sql, "insert_outbound", lost_answer)
    with pytest.raises(ConnectionError):
        await running.line.submit(JOB)
    monkeypatch.setattr(sql, "insert_outbound", real_insert)
    await running.line.submit(JOB)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.tables.out)).scalar() == 1


async def test_row_put_back_from_q_to_u_is_reported_once(db: Db, running: Running) -> None:
    await running.line.submit(JOB)
    await running.rec.next()
    out = db.tables.out
    for status in ("Q", "U", "Q", "U"):  # SMSServer took it, restarted, took it again …
        with db.engine.begin() as conn:
            conn.execute(sa.update(out).values(status=status))
        await running.line.poll_once()
    problem = await running.rec.next()
    assert isinstance(problem, SpoolProblem)
    assert "back from Q to U" in problem.detail
    assert running.rec.empty()
    assert running.line.health().pending == 1


async def test_with_poll_incoming_off_sms_rows_are_left_and_reports_still_read(
    db: Db, tmp_path: Path
) -> None:
    rec = Recorder()
    line = SmslibLine("sql", config(db, tmp_path, poll_seconds=3600, poll_incoming=False), rec)
    await line.start()
    try:
        await line.submit(SpoolJob(id="r-1", to="+420777123456", text="x", report=True))
        db.smsserver.outbound_poll()
        await line.poll_once()
        await rec.next_of(SpoolSent)
        sms = db.smsserver.receive("+420602111222", "for someone else")
        report = db.smsserver.status_report("420777123456", 1, delivered=True)
        await line.poll_once()
        event = await rec.next()
        assert isinstance(event, SpoolDelivered) and event.job_id == "r-1"
        assert rec.empty()  # no Received
        assert db.smsserver.in_process(sms) == 0  # left for whoever reads it
        assert db.smsserver.in_process(report) == 1
        assert "incoming SMS" in " ".join(line.health().cannot_know)
    finally:
        await line.stop()
