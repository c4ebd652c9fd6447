"""Every SQL statement the SMSLib line issues, blocking (the line runs them in a worker
thread). Each one touches rows by primary key (`id = ?`, `id IN (…)`, `id > ?`): no
full-table scans, except the first inbound read on a first start (no cursor yet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agent.errors import AgentError
from sms import gsm7

from .events import SpoolJob
from .smslib_tables import SmslibTables

MAX_TEXT = 1000  # smsserver_out.text is varchar(1000)
MAX_RECIPIENT = 16  # smsserver_out.recipient is varchar(16)


class SmslibJobError(AgentError, ValueError):
    """A job the SMSLib tables cannot hold (too long, bad number)."""


def digits(number: str) -> str:
    n = number.strip().replace(" ", "").replace("-", "")
    return n[1:] if n.startswith("+") else n[2:] if n.startswith("00") else n


def outbound_row(job: SpoolJob, *, gateway_id: str, plus_prefix: bool) -> dict[str, Any]:
    """Every column set explicitly: defaults differ between the shipped scripts (§2.2)."""
    number = digits(job.to)
    if not (number.isascii() and number.isdigit()):
        raise SmslibJobError(f"job {job.id}: {job.to!r} is not a phone number")
    recipient = f"+{number}" if plus_prefix else number  # 3.5: '+' = international
    if len(recipient) > MAX_RECIPIENT:
        raise SmslibJobError(f"job {job.id}: number {recipient} is longer than {MAX_RECIPIENT}")
    if len(job.text) > MAX_TEXT:
        raise SmslibJobError(f"job {job.id}: text is {len(job.text)} long, SMSLib holds {MAX_TEXT}")
    return {
        "type": "O",
        "recipient": recipient,
        "text": job.text,
        # exact to the second: the key that finds the row again after a crash
        "create_date": datetime.now().replace(microsecond=0),
        "originator": "",
        "encoding": "7" if gsm7.is_gsm7(job.text) else "U",
        "status_report": int(job.report),
        "flash_sms": int(job.flash),
        "src_port": -1,
        "dst_port": -1,
        "priority": 0,
        "status": "U",
        "errors": 0,
        "gateway_id": gateway_id or "*",
    }


class SmslibQueries:
    def __init__(
        self, engine: sa.Engine, tables: SmslibTables, *, gateway_id: str, batch: int
    ) -> None:
        self.engine = engine
        self.t = tables
        self.gateway_id = gateway_id
        self.batch = batch
        self.count = 0  # statements issued, for health and the bench

    def check_tables(self) -> None:
        """Raises ConnectionError saying which database and tables did not answer."""
        t = self.t
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(t.out.c.id).where(sa.false()))
                conn.execute(sa.select(t.inbound.c.id, t.inbound.c.process).where(sa.false()))
        except sa.exc.DBAPIError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            raise ConnectionError(
                f"cannot read tables {t.out.name}/{t.inbound.name} at {where}: {exc.orig}"
            ) from None

    def find_outbound(self, recipient: str, created: datetime, text: str) -> int | None:
        out = self.t.out
        self.count += 1
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(out.c.id).where(
                    out.c.recipient == recipient, out.c.create_date == created, out.c.text == text
                )
            ).scalar()

    def insert_outbound(self, row: dict[str, Any]) -> int:
        self.count += 1
        with self.engine.begin() as conn:
            result = conn.execute(sa.insert(self.t.out).values(**row))
            return int(result.inserted_primary_key[0])

    def outbound_status(self, ids: list[int]) -> dict[int, Any]:
        out = self.t.out
        cols = (out.c.id, out.c.status, out.c.ref_no, out.c.sent_date, out.c.errors)
        rows: dict[int, Any] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                self.count += 1
                query = sa.select(*cols, out.c.gateway_id).where(out.c.id.in_(ids[i : i + 500]))
                rows.update({r.id: r for r in conn.execute(query)})
        return rows

    def inbound_after(self, cursor: int | None) -> list[Any]:
        """Unprocessed rows above the cursor, oldest first, for our gateway."""
        t = self.t.inbound
        query = sa.select(t).where(t.c.process == 0).order_by(t.c.id).limit(self.batch)
        if cursor is not None:
            query = query.where(t.c.id > cursor)
        if self.gateway_id not in ("", "*"):
            query = query.where(t.c.gateway_id == self.gateway_id)
        self.count += 1
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def mark_processed(self, row_id: int) -> None:
        t = self.t.inbound
        self.count += 1
        with self.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id == row_id, t.c.process == 0).values(process=1))

    def max_inbound_id(self) -> int:
        t = self.t.inbound
        self.count += 1
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)
