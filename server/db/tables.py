"""The server's tables. Alembic migrations in server/migrations/ create them; this module is
what the code queries. Change both together (tests/server/test_migrations.py checks that
they agree)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL wants 64 bits for messages.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc(when: dt.datetime | None) -> dt.datetime | None:
    """Aware UTC. SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones."""
    if when is None:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


class Meta(Base):
    """Facts about this installation that must survive restarts (e.g. what was seeded)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    rights: Mapped[str] = mapped_column(String(100))  # "admin,send,read", sorted
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # For the web pages: a password hash (argon2/scrypt string) set by an admin; None
    # means the user logs in with the token only.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The server process holding the agent's WebSocket now (None: offline). With several
    # replicas on one PostgreSQL, the others route their wake-ups through NOTIFY.
    connection: Mapped[str | None] = mapped_column(String(64))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(32), default="")
    gateway: Mapped[str] = mapped_column(String(16))
    strip_diacritics: Mapped[bool] = mapped_column(Boolean, default=False)
    # The configuration text with every secret replaced by "(set)"; the secrets themselves
    # are in `secrets`, a Fernet token of their JSON under the server key.
    config: Mapped[str] = mapped_column(Text, default="")
    secrets: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The agent that runs an agent-backed account (its `agent = ...` key), for routing.
    agent: Mapped[str | None] = mapped_column(String(100), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    poll_incoming: Mapped[bool] = mapped_column(Boolean, default=False)
    sharing: Mapped[str] = mapped_column(String(16), default="private")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        # At most one default account, enforced by the database as well as by the API.
        Index(
            "ix_accounts_one_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )


class Message(Base):
    __tablename__ = "messages"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)  # chosen by the server
    direction: Mapped[str] = mapped_column(String(3))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    gateway: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    peer: Mapped[str] = mapped_column(String(32))  # recipient (out) or sender (in)
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    parts: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    # Inbound only: the one user who may read it besides admins; NULL with sharing "all".
    visible_to: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sharing: Mapped[str | None] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Agent-backed messages: the connection that sent the job and until when it waits for
    # the agent's ack before another connection may send it again.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Web gateways: the service's id for an outbound message (smsbrana sms_id, O2 refMsgID),
    # which its delivery reports quote; for an inbound one, the key that de-duplicates it.
    gateway_ref: Mapped[str | None] = mapped_column(String(64))
    # Agent-backed accounts: the line ("<agent>/<line>") that carried an outbound message
    # (set when it is handed to the agent) or received an inbound one. It paces the line
    # (segments sent per minute and day) and keeps a conversation on one sender number.
    line: Mapped[str | None] = mapped_column(String(210))
    # The route an outbound message took: its line, or "account:<id>" for a fallback.
    route: Mapped[str | None] = mapped_column(String(210))
    # Control over when and how (issue 14): not before send_at (state `scheduled` until
    # then), not after valid_until (then failed/expired); priority 0 high, 1 normal,
    # 2 bulk; the sender name or number the gateway should show; flash = class 0.
    send_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    sender: Mapped[str | None] = mapped_column(String(32))
    flash: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    category: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_messages_idem"),
        Index("ix_messages_account_gateway_ref", "account_id", "gateway_ref"),
        Index("ix_messages_line_sent", "line", "sent_at"),
        Index("ix_messages_peer", "peer"),
        Index("ix_messages_state_send_at", "state", "send_at"),
    )


class AccountLine(Base):
    """Every line of every agent-backed account, derived from the account's configuration
    (rewritten when the account is saved): what the dispatcher routes to, what each agent
    is pushed, and how an incoming SMS finds its account."""

    __tablename__ = "account_lines"
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    agent: Mapped[str] = mapped_column(String(100))
    line: Mapped[str] = mapped_column(String(110))  # its name on the agent
    per_minute: Mapped[int | None] = mapped_column(Integer)
    per_day: Mapped[int | None] = mapped_column(Integer)
    per_recipient_day: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_account_lines_agent_line", "agent", "line"),)


class AgentEvent(Base):
    """Events already applied, per agent: a resent event is acknowledged, not applied twice.
    Kept for a while after the agent's ack, then pruned (the agent never reuses an id)."""

    __tablename__ = "agent_events"
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AgentLine(Base):
    """The last status each agent reported for each of its lines (modem or spool health)."""

    __tablename__ = "agent_lines"
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[str] = mapped_column(String(100), primary_key=True)
    up: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(Text, default="{}")  # the LineStatus frame, JSON
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartReport(Base):
    """Delivery of each part of an agent-sent message: the message is delivered when every
    part the device sent has a final report that says so (one failed part fails it)."""

    __tablename__ = "part_reports"
    message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    delivered: Mapped[bool | None] = mapped_column(Boolean)  # None: sent, no final report yet
    status: Mapped[int | None] = mapped_column(Integer)


class OptOut(Base):
    """A number that asked not to be written to (STOP), for one account or all (None)."""

    __tablename__ = "optouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
