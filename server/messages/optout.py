"""Opt-out: an incoming SMS that says STOP (or another of the account's keywords) puts
its sender on the suppression list; a send to a suppressed number is refused, unless it
is transactional and the account allows that. Numbers are compared in E.164.

The matching is pure; the rest reads and writes the `optouts` table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Collection, Mapping

import msgspec
from sqlalchemy import Connection, event, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sms.diacritics import strip_diacritics

from ..db.tables import OptOut, utc

DEFAULT_KEYWORDS = ("STOP", "ODHLASIT")
CHANGED = "smsbridge.optouts_changed"  # a connection.info flag
_EDGE = " \t\r\n.,;:!?\"'()[]-"


def _fold(word: str) -> str:
    return strip_diacritics(word).casefold().strip(_EDGE)


def keywords_of(config: Mapping[str, str]) -> frozenset[str]:
    raw = config.get("optout_keywords")
    words = raw.split(",") if raw else DEFAULT_KEYWORDS
    return frozenset(w for w in (_fold(x) for x in words) if w)


def is_optout(text: str, keywords: Collection[str]) -> bool:
    """The whole text, or its first word, is a keyword (case and diacritics ignored)."""
    whole = _fold(text)
    if not whole:
        return False
    return whole in keywords or _fold(whole.split()[0]) in keywords


class Suppressed(msgspec.Struct, frozen=True):
    number: str
    account: int | None  # None: every account
    time: dt.datetime
    reason: str


async def suppressed(
    session: AsyncSession, account_id: int, numbers: Collection[str]
) -> dict[str, Suppressed]:
    """Of `numbers` (E.164), those opted out of this account or of all, earliest first."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(OptOut)
        .where(
            OptOut.number.in_(list(numbers)),
            or_(OptOut.account_id.is_(None), OptOut.account_id == account_id),
        )
        .order_by(OptOut.created_at)
    )
    out: dict[str, Suppressed] = {}
    for row in rows.scalars():
        out.setdefault(row.number, suppression(row))
    return out


def suppression(row: OptOut) -> Suppressed:
    return Suppressed(row.number, row.account_id, utc(row.created_at) or row.created_at, row.reason)


def refusal(s: Suppressed) -> str:
    scope = "every account" if s.account is None else f"account {s.account}"
    return f"to: {s.number} opted out of {scope} at {s.time.isoformat()} ({s.reason})"


async def add(
    session: AsyncSession, number: str, account_id: int | None, reason: str, at: dt.datetime
) -> OptOut:
    """Put `number` on the list (once per scope: an existing entry is kept as it is)."""
    same = OptOut.account_id.is_(None) if account_id is None else OptOut.account_id == account_id
    found = (await session.execute(select(OptOut).where(OptOut.number == number, same))).scalar()
    if found is not None:
        return found
    row = OptOut(number=number, account_id=account_id, reason=reason, created_at=at)
    session.add(row)
    await session.flush()
    return row


async def note_incoming(
    session: AsyncSession,
    account_id: int,
    account_name: str,
    config: Mapping[str, str],
    sender: str,
    text: str,
    at: dt.datetime,
) -> OptOut | None:
    """An incoming SMS that opts its sender out: the entry made (or already there)."""
    if not sender.startswith("+") or not is_optout(text, keywords_of(config)):
        return None
    everywhere = (config.get("optout_scope") or "").lower() == "all"
    reason = f"{_fold(text).split()[0].upper()} received on account {account_name!r}"
    entry = await add(session, sender, None if everywhere else account_id, reason, at)
    (await session.connection()).info[CHANGED] = True  # for OptOutCache, at commit
    return entry


class OptOutCache:
    """The suppression list held in memory, so that a send costs no query for it. It is
    reloaded when this process changes it (`invalidate`) and, after `ttl` seconds, when
    the table's size or newest id changed (another server process's change)."""

    def __init__(
        self, sessions: async_sessionmaker, engine: AsyncEngine | None = None, ttl: float = 5.0
    ) -> None:
        self._sessions = sessions
        if engine is not None:
            # An incoming STOP is stored deep in the receive path, which knows no cache:
            # it marks its connection, and that connection's commit invalidates this.
            event.listen(engine.sync_engine, "commit", self._on_commit)
        self._ttl = ttl
        self._by_number: dict[str, list[Suppressed]] | None = None
        self._mark: tuple[int, int] | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._by_number = None

    def _on_commit(self, conn: Connection) -> None:
        if conn.info.pop(CHANGED, False):
            self.invalidate()

    async def find(self, account_id: int, numbers: Collection[str]) -> dict[str, Suppressed]:
        table = await self._table()
        out: dict[str, Suppressed] = {}
        for number in numbers:
            for s in table.get(number, ()):
                if s.account is None or s.account == account_id:
                    out[number] = s
                    break
        return out

    async def _table(self) -> dict[str, list[Suppressed]]:
        table = self._by_number
        if table is not None and time.monotonic() - self._checked < self._ttl:
            return table
        async with self._lock:  # one reload, however many sends find it stale
            if self._by_number is not None and time.monotonic() - self._checked < self._ttl:
                return self._by_number
            async with self._sessions() as session:
                count, newest = (
                    await session.execute(select(func.count(), func.max(OptOut.id)))
                ).one()
                mark = (int(count), int(newest or 0))
                if self._by_number is None or mark != self._mark:
                    rows = await session.execute(select(OptOut).order_by(OptOut.created_at))
                    loaded: dict[str, list[Suppressed]] = {}
                    for row in rows.scalars():
                        loaded.setdefault(row.number, []).append(suppression(row))
                    self._by_number, self._mark = loaded, mark
            self._checked = time.monotonic()
            return self._by_number
