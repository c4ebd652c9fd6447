"""Opt-out: an incoming SMS that says STOP (or another of the account's keywords) puts
its sender on the suppression list; a send to a suppressed number is refused, unless it
is transactional and the account allows that. Numbers are compared in E.164.

The matching is pure; the rest reads and writes the `optouts` table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sms.diacritics import strip_diacritics

from ..db.tables import OptOut, utc

DEFAULT_KEYWORDS = ("STOP", "ODHLASIT")
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
    return await add(session, sender, None if everywhere else account_id, reason, at)
