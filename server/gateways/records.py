"""The database side of the web gateways: the service's id of a sent message, finding a
message again from a delivery report, and storing an incoming SMS once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import Direction, MessageState

from ..db.tables import Account, Message
from ..messages.inbound import store_inbound
from .base import StateSink


class Records:
    def __init__(self, sessions: async_sessionmaker, states: StateSink) -> None:
        self._sessions = sessions
        self._states = states

    async def report(
        self, message_id: str, state: str, reason: str | None = None, detail: str | None = None
    ) -> None:
        await self._states.report(message_id, state, reason, detail)

    async def sent(self, message_id: str, ref: str | None) -> None:
        """Remember the service's id first: a delivery report may follow the answer fast."""
        if ref is not None:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(Message).where(Message.id == message_id).values(gateway_ref=ref)
                )
        await self._states.report(message_id, MessageState.SENT.value)

    async def outbound_by_ref(self, account_id: int, ref: str) -> str | None:
        async with self._sessions() as session:
            return (
                await session.execute(
                    select(Message.id).where(
                        # A message of an agent-backed account sent through this account
                        # as its fallback has this account as its route.
                        or_(
                            Message.account_id == account_id,
                            Message.route == f"account:{account_id}",
                        ),
                        Message.gateway_ref == ref,
                        Message.direction == Direction.OUT.value,
                    )
                )
            ).scalar()

    async def store_incoming(
        self, account_id: int, key: str, sender: str, text: str, at: dt.datetime | None
    ) -> str | None:
        """Store an incoming SMS unless one with `key` is already stored on the account.
        Returns the new message id, None for a duplicate or a deleted account."""
        async with self._sessions.begin() as session:
            account = await session.get(Account, account_id)
            if account is None:
                return None
            seen = (
                await session.execute(
                    select(Message.id).where(
                        Message.account_id == account_id,
                        Message.gateway_ref == key,
                        Message.direction == Direction.IN.value,
                    )
                )
            ).first()
            if seen is not None:
                return None
            message = await store_inbound(session, account, sender, text, at)
            message.gateway_ref = key
            return message.id
