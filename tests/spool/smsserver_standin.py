"""A small stand-in for SMSLib 3.5's SMSServer, doing to the tables what the spec says
it does (docs/smslib.md §4): take `U` rows (priority DESC, id), mark
them `Q`, then `S` (sent_date, ref_no, gateway_id) or count an error and go back to `U`
until `errors > retries` makes them `F`; insert received messages and status reports
into the inbound table; with update_outbound_on_statusreport also mark the outbound
row D/A."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from agent.spool.smslib_tables import SmslibTables


class StandinSMSServer:
    def __init__(
        self,
        engine: sa.Engine,
        tables: SmslibTables,
        *,
        gateway: str = "modem1",
        retries: int = 2,
        update_outbound_on_statusreport: bool = False,
    ) -> None:
        self.engine = engine
        self.t = tables
        self.gateway = gateway
        self.retries = retries
        self.update_outbound = update_outbound_on_statusreport
        self.fail: set[str] = set()  # recipients whose sending fails
        self._mr = 0

    def outbound_poll(self) -> None:
        out = self.t.out
        with self.engine.begin() as conn:
            rows = list(
                conn.execute(
                    sa.select(out)
                    .where(out.c.status == "U")
                    .order_by(out.c.priority.desc(), out.c.id)
                )
            )
        for row in rows:
            with self.engine.begin() as conn:
                conn.execute(sa.update(out).where(out.c.id == row.id).values(status="Q"))
            with self.engine.begin() as conn:
                if row.recipient in self.fail:
                    errors = row.errors + 1
                    status = "F" if errors > self.retries else "U"
                    conn.execute(
                        sa.update(out)
                        .where(out.c.id == row.id)
                        .values(status=status, errors=errors)
                    )
                else:
                    self._mr = (self._mr + 1) % 256
                    conn.execute(
                        sa.update(out)
                        .where(out.c.id == row.id)
                        .values(
                            status="S",
                            sent_date=datetime.now().replace(microsecond=0),
                            gateway_id=self.gateway,
                            ref_no=str(self._mr),
                        )
                    )

    def receive(
        self, originator: str, text: str, *, encoding: str = "7", gateway: str | None = None
    ) -> int:
        return self._insert_in(
            type="I", originator=originator, text=text, encoding=encoding, gateway_id=gateway
        )

    def status_report(self, recipient_digits: str, ref_no: int, *, delivered: bool) -> int:
        text = (
            "00 - Succesful Delivery." if delivered else "02 - Errors, stopped retrying dispatch."
        )
        row_id = self._insert_in(
            type="S",
            originator=recipient_digits,
            text=text,
            encoding="7",
            original_ref_no=str(ref_no),
            original_receive_date=datetime.now().replace(microsecond=0),
        )
        if self.update_outbound:
            out = self.t.out
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(out)
                    .where(
                        sa.or_(
                            out.c.recipient == recipient_digits,
                            out.c.recipient == "+" + recipient_digits,
                        ),
                        out.c.ref_no == str(ref_no),
                        out.c.gateway_id == self.gateway,
                    )
                    .values(status="D" if delivered else "A")
                )
        return row_id

    def _insert_in(self, **values: object) -> int:
        now = datetime.now().replace(microsecond=0)
        values.setdefault("gateway_id", None)
        if values["gateway_id"] is None:
            values["gateway_id"] = self.gateway
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.insert(self.t.inbound).values(
                    process=0, message_date=now, receive_date=now, **values
                )
            )
            return int(result.inserted_primary_key[0])

    def out_row(self, row_id: int) -> sa.Row:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(self.t.out).where(self.t.out.c.id == row_id)).one()

    def in_process(self, row_id: int) -> int:
        t = self.t.inbound
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(t.c.process).where(t.c.id == row_id)).scalar_one())
