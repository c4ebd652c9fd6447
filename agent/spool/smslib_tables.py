"""SMSLib 3.5 SMSServer tables (docs/smslib.md §2, §5) as SQLAlchemy Core.

The agent never creates or alters these tables on a site (SMSServer owns them);
`create` exists for tests and for setting up a fresh SMSServer database. Table names
come from configuration (`<id>.tables.sms_out` etc. in SMSServer's config).
"""

from __future__ import annotations

import sqlalchemy as sa


class SmslibTables:
    def __init__(self, out_name: str = "smsserver_out", in_name: str = "smsserver_in") -> None:
        meta = sa.MetaData()
        # Types as in the MySQL script; portable equivalents elsewhere.
        self.out = sa.Table(
            out_name,
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("type", sa.String(1), nullable=False, server_default="O"),
            sa.Column("recipient", sa.String(16), nullable=False),
            sa.Column("text", sa.String(1000), nullable=False),
            sa.Column("wap_url", sa.String(100)),
            sa.Column("wap_expiry_date", sa.DateTime),
            sa.Column("wap_signal", sa.String(1)),
            sa.Column("create_date", sa.DateTime, nullable=False),
            sa.Column("originator", sa.String(16), nullable=False, server_default=" "),
            sa.Column("encoding", sa.String(1), nullable=False, server_default="7"),
            sa.Column("status_report", sa.Integer, nullable=False, server_default="0"),
            sa.Column("flash_sms", sa.Integer, nullable=False, server_default="0"),
            sa.Column("src_port", sa.Integer, nullable=False, server_default="-1"),
            sa.Column("dst_port", sa.Integer, nullable=False, server_default="-1"),
            sa.Column("sent_date", sa.DateTime),
            sa.Column("ref_no", sa.String(64)),
            sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
            sa.Column("status", sa.String(1), nullable=False, server_default="U"),
            sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
            sa.Column("gateway_id", sa.String(64), nullable=False, server_default="*"),
        )
        self.inbound = sa.Table(
            in_name,
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("process", sa.Integer, nullable=False),
            sa.Column("originator", sa.String(16), nullable=False),
            sa.Column("type", sa.String(1), nullable=False),
            sa.Column("encoding", sa.String(1), nullable=False),
            sa.Column("message_date", sa.DateTime, nullable=False),
            sa.Column("receive_date", sa.DateTime, nullable=False),
            sa.Column("text", sa.String(1000), nullable=False),
            sa.Column("original_ref_no", sa.String(64)),
            sa.Column("original_receive_date", sa.DateTime),
            sa.Column("gateway_id", sa.String(64)),
        )
        self.metadata = meta

    def create(self, engine: sa.Engine) -> None:
        self.metadata.create_all(engine)

    def drop(self, engine: sa.Engine) -> None:
        self.metadata.drop_all(engine)
