"""The O2 receive → store → confirm loop (§2.4, §4.3). `receive` returns the head of the
BA's queue until it is confirmed, so each item is stored durably first and confirmed
after; an item seen again (confirm lost) is recognised by its msgID and only confirmed."""

from __future__ import annotations

import logging

import msgspec
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import GatewayType

from ...keys import SecretBox
from ..polling import AccountPoller, PollError
from ..records import Records
from . import protocol
from .gateway import O2Gateway, O2Unreachable, account_of
from .protocol import ItemKind
from .tls import CertificateError

log = logging.getLogger("smsbridge.server.gateways.o2")

MAX_ITEMS = 500  # per account and round: a queue that never empties must not hold us


class ReceiveResult(msgspec.Struct):
    stored: int = 0
    reports: int = 0
    confirmed: int = 0


async def receive_all(
    gateway: O2Gateway,
    records: Records,
    account_id: int,
    config: dict[str, str],
    secrets: dict[str, str],
) -> ReceiveResult:
    acct = account_of(config, secrets)
    result = ReceiveResult()
    try:
        for _ in range(MAX_ITEMS):
            status, item = await gateway.call(account_id, acct, protocol.receive_params(acct.ba_id))
            if not 200 <= status < 300:
                raise PollError(protocol.failure(status, item)[1])
            if item.empty:
                break
            await _store(records, account_id, item, result)
            status, answer = await gateway.call(
                account_id, acct, protocol.confirm_params(acct.ba_id, item)
            )
            if protocol.verdict(status, answer) is not protocol.Verdict.OK:
                raise PollError(
                    f"confirm of {item.get('msgID')}: {protocol.failure(status, answer)[1]}"
                )
            result.confirmed += 1
    except (CertificateError, O2Unreachable) as exc:
        raise PollError(str(exc)) from None
    return result


async def _store(
    records: Records, account_id: int, item: protocol.Answer, result: ReceiveResult
) -> None:
    kind = protocol.kind_of(item)
    if kind is ItemKind.INCOMING:
        stored = await records.store_incoming(
            account_id,
            "o2:" + item.get("msgID")[:61],
            item.get("fromNumber"),
            item.get("text"),
            protocol.parse_timestamp(item.get("timestamp")),
        )
        result.stored += stored is not None
        return
    outcome = protocol.report_state(item)
    if outcome is None:
        return  # delivered to the network only, or a kind we do not take: confirm it
    message_id = await records.outbound_by_ref(account_id, item.get("refMsgID"))
    if message_id is None:
        log.info("O2 report for %s matches no message of ours", item.get("refMsgID"))
        return
    state, reason, detail = outcome
    await records.report(message_id, state.value, reason, detail)
    result.reports += 1


def receive_poller(
    sessions: async_sessionmaker,
    box: SecretBox,
    records: Records,
    gateway: O2Gateway,
    *,
    interval: float = 60.0,
) -> AccountPoller:
    async def poll_account(
        account_id: int, config: dict[str, str], secrets: dict[str, str]
    ) -> ReceiveResult:
        return await receive_all(gateway, records, account_id, config, secrets)

    return AccountPoller(
        "o2 receive", GatewayType.O2, sessions, box, poll_account, interval=interval
    )
