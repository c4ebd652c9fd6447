"""The accounts as the send path needs them, held in memory.

Sending must not cost a database query for the account on every message: the table is
small and changes rarely. The whole table is loaded at once and reused until an account
handler of this process changes it (`invalidate`) or `ttl` seconds pass (the bound on how
stale another process's change can be, when several servers share one database).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import msgspec
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import GatewayType

from ..keys import SecretBox
from .config import stored_values
from .store import with_owner


class AccountView(msgspec.Struct, frozen=True):
    id: int
    name: str
    owner_id: int | None
    owner: str | None
    gateway: GatewayType
    strip_diacritics: bool
    is_default: bool
    config: Mapping[str, str]
    secrets: Mapping[str, str]

    def usable_by(self, user_id: int) -> bool:
        return self.owner_id is None or self.owner_id == user_id


class AccountCache:
    def __init__(self, sessions: async_sessionmaker, box: SecretBox, ttl: float = 5.0) -> None:
        self._sessions = sessions
        self._box = box
        self._ttl = ttl
        self._accounts: dict[int, AccountView] | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._accounts = None

    async def all(self) -> dict[int, AccountView]:
        accounts = self._accounts
        if accounts is not None and time.monotonic() - self._loaded_at < self._ttl:
            return accounts
        async with self._lock:  # one reload, however many requests find it stale
            if self._accounts is not None and time.monotonic() - self._loaded_at < self._ttl:
                return self._accounts
            started = time.monotonic()
            async with self._sessions() as session:
                rows = (await session.execute(with_owner())).all()
            loaded = {
                a.id: AccountView(
                    id=a.id,
                    name=a.name,
                    owner_id=a.owner_id,
                    owner=owner,
                    gateway=GatewayType(a.gateway),
                    strip_diacritics=a.strip_diacritics,
                    is_default=a.is_default,
                    config=stored_values(a.config),
                    secrets=self._box.open(a.secrets),
                )
                for a, owner in rows
            }
            self._accounts, self._loaded_at = loaded, started
            return loaded

    async def get(self, account_id: int) -> AccountView | None:
        return (await self.all()).get(account_id)

    async def default_for(self, user_id: int) -> AccountView | None:
        return next(
            (a for a in (await self.all()).values() if a.is_default and a.usable_by(user_id)),
            None,
        )
