"""Storing an incoming message with the visibility its account's sharing mode gives it.
Called by whatever receives messages (web gateway callbacks, the agents' bridge)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sms.model import Direction, MessageState, Sharing
from sms.phone import PhoneNumberError, normalize
from sms.segment import segment

from ..accounts.config import stored_values
from ..db.tables import Account, Message
from . import changes, optout


async def reader_for(session: AsyncSession, account: Account, sender: str) -> int | None:
    """The one user (besides admins) who may read a message from `sender` on `account`;
    None with sharing `all` (every reader) or when nobody fits (admins only)."""
    mode = Sharing(account.sharing)
    if mode is Sharing.ALL:
        return None
    if mode is Sharing.REPLY_TO_SENDER:
        last_writer = (
            await session.execute(
                select(Message.user_id)
                .where(
                    Message.account_id == account.id,
                    Message.direction == Direction.OUT.value,
                    Message.peer == sender,
                    Message.user_id.is_not(None),
                )
                .order_by(Message.seq.desc())
                .limit(1)
            )
        ).scalar()
        if last_writer is not None:
            return last_writer
    return account.owner_id


async def store_inbound(
    session: AsyncSession,
    account: Account | None,
    sender: str,
    text: str,
    received_at: dt.datetime | None = None,
    *,
    gateway: str | None = None,
    detail: str | None = None,
    line: str | None = None,
) -> Message:
    """Store an incoming SMS and its `message.received` event. `account` None: it came on
    a line no account names; it is kept all the same (admins see it), with `gateway` and a
    `detail` that says where. `line`: the agent line it came on (replies go out on it)."""
    try:
        peer = normalize(sender).value
    except PhoneNumberError:
        peer = sender.strip()[:32]  # keep what the network gave us; it is still the sender
    seg = segment(text)
    message = Message(
        id=uuid.uuid4().hex,
        direction=Direction.IN.value,
        account_id=account.id if account else None,
        gateway=account.gateway if account else gateway or "modem",
        user_id=None,
        peer=peer,
        text=text,
        encoding=seg.encoding.value,
        parts=seg.count,
        state=MessageState.RECEIVED.value,
        sharing=account.sharing if account else Sharing.PRIVATE.value,
        visible_to=await reader_for(session, account, peer) if account else None,
        detail=detail,
        line=line,
        created_at=received_at or dt.datetime.now(dt.UTC),
    )
    session.add(message)
    await session.flush()
    await changes.received(session, message)
    if account is not None:
        entry = await optout.note_incoming(
            session,
            account.id,
            account.name,
            stored_values(account.config),
            peer,
            text,
            message.created_at,
        )
        if entry is not None:
            message.detail = f"opt-out: {peer} is on the suppression list ({entry.reason})"
    return message
