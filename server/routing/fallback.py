"""Hands messages routed to a fallback account to that account's web gateway. The
message keeps its own account (the one the CRM asked for); its `route` says which
account sent it, and the web gateway reports its states by message id as usual."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..gateways.base import Job
from .store import Queued

if TYPE_CHECKING:
    from ..runtime import Server

log = logging.getLogger("smsbridge.server.routing")


def fallback_sender(server: Server):  # type: ignore[no-untyped-def]
    async def send(messages: list[tuple[Queued, int]]) -> None:
        accounts = await server.accounts.all()
        for message, fallback_id in messages:
            account = accounts.get(fallback_id)
            if account is None:
                log.warning("fallback account %d of message %s is gone", fallback_id, message.id)
                continue
            job = Job(
                id=message.id,
                account_id=account.id,
                to=message.peer,
                text=message.text,
                parts=message.parts,
                config=account.config,
                secrets=account.secrets,
            )
            try:
                await server.gateways.get(account.gateway).hand_off([job])
            except Exception:
                log.exception("fallback gateway %s refused message %s", account.gateway, job.id)

    return send
