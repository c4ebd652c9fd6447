"""POST /api/messages/batch: up to 1,000 messages with shared defaults. Each item is
checked and committed on its own (one bad number refuses only its item) and gets its own
result with its index; an item's `key` is its Idempotency-Key. The items go through the
one send path concurrently, so the group-commit writer stores them in few transactions."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import msgspec
from litestar import post
from litestar.params import JSONBody
from sqlalchemy import select

from ..db.tables import Message
from ..messages import optout
from ..runtime import Server
from .auth import Caller, CallerDep, ServerDep
from .errors import AUTH, ApiError, documented, forbidden
from .schemas import BatchIn, BatchOut, BatchResult, SendIn

log = logging.getLogger("smsbridge.server.messages")


def _item(defaults: dict[str, Any], item: dict[str, Any]) -> tuple[str | None, SendIn]:
    merged = {**defaults, **item}
    key = merged.pop("key", None)
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 200):
        raise ApiError(400, "invalid_request", "key: a string of 1 to 200 characters")
    try:
        return key, msgspec.convert(merged, SendIn)
    except msgspec.ValidationError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None


async def _opted_out(
    server: Server, caller: Caller, items: list[SendIn | None]
) -> dict[tuple[int, str], str]:
    """One query per account for every number of the batch (not one per item)."""
    from .messages import choose_account, recipient

    wanted: dict[int, set[str]] = defaultdict(set)
    for data in items:
        if data is None:
            continue
        try:
            account = await choose_account(server, caller, data.account)
            wanted[account.id].add(recipient(data.to))
        except ApiError:
            continue  # the item's own send says what is wrong
    out: dict[tuple[int, str], str] = {}
    if not wanted:
        return out
    async with server.sessions() as session:
        for account_id, numbers in wanted.items():
            found = await optout.suppressed(session, account_id, numbers)
            out.update({(account_id, n): optout.refusal(s) for n, s in found.items()})
    return out


async def _used_keys(server: Server, caller: Caller, keys: list[str | None]) -> set[str]:
    """Which of the batch's keys this user has used before (one query, not one per item):
    only those items look up their first answer."""
    wanted = [k for k in keys if k is not None]
    if not wanted:
        return set()
    async with server.sessions() as session:
        rows = await session.execute(
            select(Message.idempotency_key).where(
                Message.user_id == caller.id, Message.idempotency_key.in_(wanted)
            )
        )
        return {k for (k,) in rows}


async def send_batch(server: Server, caller: Caller, batch: BatchIn) -> BatchOut:
    from .messages import send

    if not caller.can_send:
        raise forbidden(f"user {caller.name!r} may not send SMS")
    parsed: list[tuple[str | None, SendIn] | ApiError] = []
    for raw in batch.messages:
        try:
            parsed.append(_item(batch.defaults, raw))
        except ApiError as exc:
            parsed.append(exc)
    opted_out = await _opted_out(
        server, caller, [p[1] if isinstance(p, tuple) else None for p in parsed]
    )
    used = await _used_keys(server, caller, [p[0] for p in parsed if isinstance(p, tuple)])

    async def one(index: int, item: tuple[str | None, SendIn] | ApiError) -> BatchResult:
        key = None if isinstance(item, ApiError) else item[0]
        try:
            if isinstance(item, ApiError):
                raise item
            new = key is not None and key not in used
            accepted = await send(server, caller, item[1], key, opted_out, new_key=new)
        except ApiError as exc:
            return BatchResult(index, key, exc.status, error=exc.error, detail=exc.detail)
        except Exception as exc:
            log.exception("batch item %d failed", index)
            return BatchResult(index, key, 500, error="internal", detail=type(exc).__name__)
        return BatchResult(
            index, key, 202, id=accepted.id, state=accepted.state, parts=accepted.parts
        )

    results = await asyncio.gather(*(one(i, item) for i, item in enumerate(parsed)))
    accepted = sum(1 for r in results if r.status == 202)
    return BatchOut(accepted=accepted, refused=len(results) - accepted, results=list(results))


@post(
    "/api/messages/batch",
    status_code=200,
    summary="Send up to 1,000 SMS with shared defaults; each item has its own result",
    security=AUTH,
    responses=documented(400, 401, 403),
)
async def send_messages_batch(
    server: ServerDep, caller: CallerDep, data: JSONBody[BatchIn]
) -> BatchOut:
    return await send_batch(server, caller, data)
