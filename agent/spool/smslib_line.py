"""The SMSLib line: jobs become `smsserver_out` rows for SMSLib's SMSServer, row status
changes and `smsserver_in` rows become events (docs/smslib.md).

SMSLib offers no notification, so the line polls every `poll_seconds`, with at most two
indexed queries per round: the pending outbound rows by primary key, and inbound rows
above a durable cursor (`id > :last`, a primary-key range). No full-table scans after
the first start (the cursor starts at the first unprocessed row then).

Nothing lost, nothing sent twice: before inserting, the line records the job (with
the exact `create_date` it will write); a crash between insert and bookkeeping is
resolved at start by finding the row by (recipient, create_date, text).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from bridge.protocol import JOB_ID_PATTERN, is_job_id

from .account import convert_account
from .events import (
    SpoolDelivered,
    SpoolDispatched,
    SpoolEvent,
    SpoolEventCallback,
    SpoolFailed,
    SpoolHealth,
    SpoolJob,
    SpoolProblem,
    SpoolReceived,
    SpoolSent,
)
from .smslib_queries import SmslibQueries, digits, outbound_row
from .smslib_tables import SmslibTables
from .smslib_url import sqlalchemy_url
from .smstools_headers import number

log = logging.getLogger(__name__)

FINAL_WITH_REPORT = {"D", "A", "F"}


class SmslibConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The account keys (`sqlDriver`, `sqlURL`, `sqlUser`, `sqlPassword`, `gatewayId`)
    plus the agent's own. The password never appears in repr or logs."""

    sql_url: str = msgspec.field(name="sqlURL")
    sql_driver: str | None = msgspec.field(name="sqlDriver", default=None)
    sql_user: str | None = msgspec.field(name="sqlUser", default=None)
    sql_password: str | None = msgspec.field(name="sqlPassword", default=None)
    gateway_id: str = msgspec.field(name="gatewayId", default="*")
    state_dir: str
    table_out: str = "smsserver_out"
    table_in: str = "smsserver_in"
    poll_seconds: float = 2.0
    batch: int = 100
    plus_prefix: bool = True  # SMSLib 3.5: '+' marks international numbers; 3.3: no '+'
    forget_after_seconds: float = 7 * 24 * 3600
    # The account's "poll incoming messages": off, SMS rows stay unprocessed for other
    # readers of smsserver_in; status reports (type S) of our jobs are still read.
    poll_incoming: bool = True

    @classmethod
    def from_account(cls, values: dict[str, Any]) -> SmslibConfig:
        return convert_account(cls, values)

    def __repr__(self) -> str:
        return f"SmslibConfig(sqlURL={self.sql_url!r}, gatewayId={self.gateway_id!r}, …)"


class SmslibPending(msgspec.Struct, kw_only=True):
    job_id: str
    row_id: int | None
    recipient: str  # as written to the row
    text: str
    created: datetime  # the create_date written, to find the row after a crash
    report: bool
    sent_reported: bool = False
    message_ref: int | None = None
    since: float = 0.0
    seen_queued: bool = False  # SMSServer had taken the row (status Q)
    requeue_reported: bool = False


def _ref(value: str | None) -> int | None:
    return number(value)


class SmslibLine:
    kind = "smslib"

    def __init__(
        self,
        name: str,
        config: SmslibConfig,
        on_event: SpoolEventCallback,
        *,
        engine: sa.Engine | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self._on_event = on_event
        self._engine = engine
        self._tables = SmslibTables(config.table_out, config.table_in)
        self._sql: SmslibQueries | None = None
        self._state_dir = Path(config.state_dir) / "smslib"
        self._pending: dict[str, SmslibPending] = {}
        self._cursor: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_error: str | None = None
        self._lock = asyncio.Lock()  # one poll or submit at a time

    # --- the SpoolBackend interface --------------------------------------------------------------

    async def start(self) -> None:
        c = self.config
        if self._engine is None:
            url = sqlalchemy_url(c.sql_driver, c.sql_url, c.sql_user, c.sql_password)
            self._engine = sa.create_engine(url, pool_pre_ping=True)
        self._sql = SmslibQueries(
            self._engine, self._tables, gateway_id=c.gateway_id, batch=c.batch
        )
        (self._state_dir / "pending").mkdir(parents=True, exist_ok=True)
        self._load()
        try:
            await asyncio.to_thread(self._sql.check_tables)
        except ConnectionError as exc:
            raise ConnectionError(f"smslib line {self.name}: {exc}") from None
        await asyncio.to_thread(self._recover)
        await self._poll_safely()  # what arrived while the agent was down, before returning
        self._task = asyncio.create_task(self._loop(), name=f"smslib-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def submit(self, job: SpoolJob) -> None:
        self._pending_path(job.id)  # raises for an id that cannot be a file name
        async with self._lock:
            pending = self._pending.get(job.id)
            if pending is not None and pending.row_id is None:  # an earlier insert failed
                pending = await asyncio.to_thread(self._resolve, pending)
            if pending is None:  # else the row exists: never insert twice
                await self._insert(job)
        await self._on_event(SpoolDispatched(line=self.name, job_id=job.id))

    async def _insert(self, job: SpoolJob) -> None:
        row = outbound_row(
            job, gateway_id=self.config.gateway_id, plus_prefix=self.config.plus_prefix
        )
        pending = SmslibPending(
            job_id=job.id,
            row_id=None,
            recipient=row["recipient"],
            text=row["text"],
            created=row["create_date"],
            report=job.report,
            since=time.time(),
        )
        self._save(pending)
        try:
            pending.row_id = await asyncio.to_thread(self._need_sql().insert_outbound, row)
        except Exception:
            # The INSERT may have committed before the error (a lost connection): look.
            # If even that fails, the job stays unresolved until the next submit or start.
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._resolve, pending)
            raise
        self._save(pending)

    def health(self) -> SpoolHealth:
        return SpoolHealth(
            line=self.name,
            kind=self.kind,
            running=self._task is not None and not self._task.done(),
            pending=len(self._pending),
            can_know=(
                "dispatched",
                "sent",
                "failed (after SMSServer's retries)",
                "delivered (report rows; status D/A with update_outbound_on_statusreport)",
                *(("received",) if self.config.poll_incoming else ()),
            ),
            cannot_know=(
                "whether a row that went back from Q to U (SMSServer restart) was sent",
                "anything before SMSServer polls (its outbound_interval, default 60 s)",
                *(
                    ()
                    if self.config.poll_incoming
                    else ("incoming SMS: 'poll incoming' is off, their rows are left alone",)
                ),
            ),
            last_error=self._last_error,
        )

    async def poll_once(self) -> None:
        """One round: outbound status, then new inbound rows (tests call it directly)."""
        async with self._lock:
            await self._poll_outbound()
            await self._poll_inbound()

    @property
    def queries(self) -> int:
        """SQL statements issued so far (health, bench)."""
        return self._sql.count if self._sql else 0

    def _need_sql(self) -> SmslibQueries:
        if self._sql is None:
            raise RuntimeError(f"smslib line {self.name} is not started")
        return self._sql

    def _recover(self) -> None:
        """Settle rows inserted just before a crash (see the module doc); blocking."""
        for p in [p for p in self._pending.values() if p.row_id is None]:
            self._resolve(p)

    def _resolve(self, p: SmslibPending) -> SmslibPending | None:
        """Find the row of a job whose INSERT outcome is unknown; blocking."""
        row_id = self._need_sql().find_outbound(p.recipient, p.created, p.text)
        if row_id is None:
            self._drop(p)  # never inserted: the bridge offers the job again
            return None
        p.row_id = row_id
        self._save(p)
        return p

    # --- state ------------------------------------------------------------------------------

    def _pending_path(self, job_id: str) -> Path:
        """The job's file: its id is a file name only when it has the protocol's form
        (no separator, no leading dot), and the result is checked to be in pending/."""
        folder = self._state_dir / "pending"
        if not is_job_id(job_id):
            raise ValueError(f"job id {job_id!r} does not match {JOB_ID_PATTERN}")
        path = folder / f"{job_id}.json"
        if path.parent != folder:
            raise ValueError(f"job id {job_id!r} is not a plain file name")
        return path

    def _load(self) -> None:
        for path in (self._state_dir / "pending").glob("*.json"):
            p = msgspec.json.decode(path.read_bytes(), type=SmslibPending)
            if p.since < time.time() - self.config.forget_after_seconds:
                path.unlink()
            else:
                self._pending[p.job_id] = p
        cursor = self._state_dir / "cursor"
        if cursor.exists():
            self._cursor = int(cursor.read_text())

    def _save(self, p: SmslibPending) -> None:
        path = self._pending_path(p.job_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(p))
        tmp.replace(path)
        self._pending[p.job_id] = p

    def _drop(self, p: SmslibPending) -> None:
        self._pending.pop(p.job_id, None)
        self._pending_path(p.job_id).unlink(missing_ok=True)

    def _save_cursor(self, value: int) -> None:
        self._cursor = value
        tmp = self._state_dir / "cursor.tmp"
        tmp.write_text(str(value))
        tmp.replace(self._state_dir / "cursor")

    # --- polling ----------------------------------------------------------------------------

    async def _poll_safely(self) -> bool:
        try:
            await self.poll_once()
        except Exception as exc:  # the database may be down, the bridge may refuse
            self._last_error = str(exc)
            log.warning("smslib line %s: %s", self.name, exc)
            return False
        self._last_error = None
        return True

    async def _loop(self) -> None:
        delay = self.config.poll_seconds
        while True:
            await asyncio.sleep(delay)
            ok = await self._poll_safely()
            delay = self.config.poll_seconds if ok else min(delay * 2, 60.0)

    async def _poll_outbound(self) -> None:
        ids = [p.row_id for p in self._pending.values() if p.row_id is not None]
        if not ids:
            return
        rows = await asyncio.to_thread(self._need_sql().outbound_status, ids)
        for p in list(self._pending.values()):
            if p.row_id is None:
                continue
            row = rows.get(p.row_id)
            if row is None:
                await self._emit(
                    SpoolFailed(
                        line=self.name,
                        job_id=p.job_id,
                        reason="unknown",
                        detail=f"row {p.row_id} was deleted from {self._tables.out.name}",
                    )
                )
                self._drop(p)
                continue
            await self._outbound_status(p, row)

    async def _outbound_status(self, p: SmslibPending, row: Any) -> None:
        status = row.status
        if status == "Q" and not p.seen_queued:
            p.seen_queued = True
            self._save(p)
        if status == "U" and p.seen_queued and not p.requeue_reported:
            # Q -> U: SMSServer restarted mid-send (docs/smslib.md §4.1), or has no such gateway.
            p.requeue_reported = True
            self._save(p)
            await self._emit(
                SpoolProblem(
                    line=self.name,
                    detail=f"job {p.job_id}: SMSServer put row {p.row_id} back from Q to U "
                    f"(it restarted while sending, or has no gateway "
                    f"'{self.config.gateway_id}'); if the modem had sent it already, the "
                    "SMS goes out twice",
                )
            )
        if status in ("U", "Q"):
            return
        if status == "F":
            await self._emit(
                SpoolFailed(
                    line=self.name,
                    job_id=p.job_id,
                    reason="gateway-gave-up",
                    detail=f"SMSServer gave up after {row.errors} failed attempts",
                )
            )
            self._drop(p)
            return
        if not p.sent_reported:
            p.message_ref = _ref(row.ref_no)
            await self._emit(
                SpoolSent(
                    line=self.name,
                    job_id=p.job_id,
                    at=row.sent_date,
                    message_ref=p.message_ref,
                    modem=row.gateway_id,
                )
            )
            p.sent_reported = True
            self._save(p)
        if status == "P" or (status == "S" and p.report):
            return  # a report may still come (row D/A, or a report row)
        if status == "D":
            await self._emit(self._delivered(p.job_id, p.recipient, p.message_ref, None))
        elif status == "A":
            await self._emit(
                SpoolFailed(
                    line=self.name,
                    job_id=p.job_id,
                    reason="not-delivered",
                    detail="status report: the network gave up (A)",
                )
            )
        self._drop(p)

    def _delivered(self, job_id: str | None, to: str, ref: int | None, at: Any) -> SpoolDelivered:
        return SpoolDelivered(
            line=self.name, job_id=job_id, to=to, message_ref=ref, status=None, at=at
        )

    async def _poll_inbound(self) -> None:
        # First start: the top id is read *before* the unprocessed rows, so a row that
        # arrives between the two queries is above it and is not skipped.
        sql = self._need_sql()
        top = await asyncio.to_thread(sql.max_inbound_id) if self._cursor is None else None
        rows = await asyncio.to_thread(sql.inbound_after, self._cursor)
        for row in rows:
            if row.type != "S" and not self.config.poll_incoming:
                self._save_cursor(row.id)  # not ours to take: left unprocessed
                continue
            event = self._inbound_event(row)
            if event is not None:
                await self._emit(event)  # raises: row stays unprocessed, next round
            await asyncio.to_thread(sql.mark_processed, row.id)
            self._save_cursor(row.id)
        if not rows and top is not None:  # nothing waiting: from now on only above the top
            self._save_cursor(top)

    def _inbound_event(self, row: Any) -> SpoolEvent | None:
        if row.type == "S":  # status report: text "00 - Succesful Delivery." etc.
            ref = _ref(row.original_ref_no)
            match = next(
                (
                    p
                    for p in self._pending.values()
                    if p.sent_reported
                    and p.message_ref == ref
                    and digits(p.recipient) == digits(row.originator)
                ),
                None,
            )
            code = row.text[:2]
            if code == "01":
                return None  # still trying: not final
            job_id = match.job_id if match else None
            if match:
                self._drop(match)
            if code == "00":
                return self._delivered(job_id, row.originator, ref, row.original_receive_date)
            return SpoolFailed(
                line=self.name, job_id=job_id, reason="not-delivered", detail=row.text
            )
        binary = row.encoding == "8"
        return SpoolReceived(
            line=self.name,
            source_id=f"{self._tables.inbound.name}:{row.id}",
            sender=row.originator,
            text=None if binary else row.text,
            data_hex=row.text if binary else None,
            sent_at=row.message_date,
            received_at=row.receive_date,
            modem=row.gateway_id,
        )

    async def _emit(self, event: SpoolEvent) -> None:
        await self._on_event(event)
