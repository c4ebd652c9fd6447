"""The server's tables. Alembic migrations in server/migrations/ create them; this module is
what the code queries. Change both together (tests/server/test_migrations.py checks that
they agree)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
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
    # The pages' language ("cs", "en") and time zone (IANA) this user chose; None: the
    # browser's language, the server's default_language and time_zone.
    language: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str | None] = mapped_column(String(64))
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


class WebSession(Base):
    """A logged-in web session (the cookie holds its id, sealed): logging out deletes it,
    "log out everywhere" deletes all of a user's, and an expired one is pruned at login."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Call(Base):
    """An incoming call a modem line hung up (issue 17): who called, on which line, when."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent: Mapped[str] = mapped_column(String(100))
    line: Mapped[str] = mapped_column(String(110))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    caller: Mapped[str] = mapped_column(String(40))  # "" when the network withheld the number
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_calls_at", "at"),)


class Event(Base):
    """The transactional outbox of what happened (server/events/): written in the same
    transaction as the change it reports. `seq` is the feed's cursor; event writers take a
    lock first (events/outbox.py), so seq order is commit order and a cursor never skips
    an event that commits late. The visibility columns copy the message's (sharing modes,
    as GET /api/messages); events without a message are the admins'."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)  # "evt_...", the webhook-id
    type: Mapped[str] = mapped_column(String(40))
    time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Events of one subject (a message, an agent, a line) reach a webhook in order.
    subject: Mapped[str] = mapped_column(String(220))
    message_id: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str | None] = mapped_column(String(3))
    user_id: Mapped[int | None] = mapped_column(Integer)
    visible_to: Mapped[int | None] = mapped_column(Integer)
    sharing: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)  # JSON object


class Webhook(Base):
    """An endpoint of the CRM that is sent every event of its types (server/webhooks/)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(Text)  # comma-separated types, or "*"
    secret: Mapped[bytes] = mapped_column(LargeBinary)  # sealed under the server key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # ok, failing (a delivery gave up after the retry period), disabled (answered 410)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    status_detail: Mapped[str | None] = mapped_column(Text)
    # The last event seq copied into its deliveries.
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook, until delivered (or given up). It carries its payload, so
    it outlives the event's retention; redelivery keeps `event_id` (the webhook-id)."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(220))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The process attempting it now, and until when (then another may).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "webhook_id", "state", "next_at"),
        Index("ix_webhook_deliveries_subject", "webhook_id", "subject", "state"),
    )


class WebhookAttempt(Base):
    """Every attempt of a delivery: when, the answer's status (None: no answer), how long it
    took, the first 200 bytes of the answer or what went wrong."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    response: Mapped[str] = mapped_column(Text, default="")


class OptOut(Base):
    """A number that asked not to be written to (STOP), for one account or all (None)."""

    __tablename__ = "optouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
