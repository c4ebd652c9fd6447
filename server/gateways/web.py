"""The web gateways of a running server, built at start and closed at stop: one HTTP client
each, their records, the inbox poller, and the resumption of messages left `queued`."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from sms.model import Direction, GatewayType, MessageState

from ..accounts.config import stored_values
from ..db.tables import Account, Message, utc
from ..keys import SecretBox
from .base import Gateway, Holding, Job, Registry, StateSink
from .http import LazyClient
from .leader import Leadership, RoundLock
from .o2.gateway import O2Gateway, O2Refused, O2Unreachable
from .o2.receive import receive_poller
from .o2.tls import CertificateError
from .records import Records
from .smsbrana.client import Unreachable
from .smsbrana.gateway import SmsbranaGateway
from .smsbrana.inbox import inbox_poller
from .smsbrana.protocol import ProtocolError
from .url import UrlGateway

log = logging.getLogger("smsbridge.server.gateways")

WEB = (GatewayType.SMSBRANA, GatewayType.URL, GatewayType.O2)
RESUME_BATCH = 1000


class NotSupported(Exception):
    """The account's gateway cannot do what was asked (credit of a URL gateway...)."""


class GatewayUnavailable(Exception):
    """The service did not give a usable answer; the text says why, without secrets."""


class WebGateways:
    def __init__(
        self,
        sessions: async_sessionmaker,
        box: SecretBox,
        states: StateSink,
        *,
        poll_interval: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self.records = Records(sessions, states)
        self._clients: list[LazyClient] = []
        self._leadership: Leadership | None = None
        self.smsbrana = SmsbranaGateway(self._client(), self.records)
        self.smsbrana_inbox = inbox_poller(
            sessions, box, self.records, self.smsbrana.client, interval=poll_interval
        )
        self.url = UrlGateway(self._client(), self.records)
        self.o2 = O2Gateway(self.records)
        self.o2_receive = receive_poller(
            sessions, box, self.records, self.o2, interval=poll_interval
        )

    def _client(self) -> LazyClient:
        client = LazyClient()
        self._clients.append(client)
        return client

    def register(self, registry: Registry) -> None:
        """Fill only the places still held: a test or bench may have put its own there."""
        impls: tuple[tuple[GatewayType, Gateway], ...] = (
            (GatewayType.SMSBRANA, self.smsbrana),
            (GatewayType.URL, self.url),
            (GatewayType.O2, self.o2),
        )
        for gateway, impl in impls:
            if isinstance(registry.get(gateway), Holding):
                registry.replace(gateway, impl)

    async def start(self, registry: Registry, engine: AsyncEngine | None = None) -> None:
        """Register the gateways, start polling, and when this process leads (see
        leader.py) hand over what is still queued."""
        self.register(registry)
        rounds = RoundLock(engine)
        self.smsbrana_inbox.round_lock = self.o2_receive.round_lock = rounds
        leads = True
        if engine is not None:
            self._leadership = Leadership(engine)
            leads = await self._leadership.acquire()
        if not leads:
            # Another process resumes and polls on the interval; this one still polls when
            # smsbrana's push reaches it (RoundLock keeps rounds from overlapping).
            log.info("another process of this server resumes and polls the web gateways")
            self.smsbrana_inbox.interval = self.o2_receive.interval = None
        self.smsbrana_inbox.start()
        self.o2_receive.start()
        if leads:
            await self.resume(registry)

    async def resume(self, registry: Registry) -> int:
        """Hand the web gateways what is still `queued` (after a restart). Resending is safe:
        smsbrana answers -1 for a user_id it has seen."""
        handed = 0
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Message, Account)
                    .join(Account, Account.id == Message.account_id)
                    .where(
                        Message.state == MessageState.QUEUED.value,
                        Message.direction == Direction.OUT.value,
                        Message.gateway.in_([g.value for g in WEB]),
                    )
                    .order_by(Message.seq)
                    .limit(RESUME_BATCH)
                )
            ).all()
        for message, account in rows:
            job = Job(
                id=message.id,
                account_id=account.id,
                to=message.peer,
                text=message.text,
                parts=message.parts,
                config=stored_values(account.config),
                secrets=self._box.open(account.secrets),
                sender=message.sender,
                valid_until=utc(message.valid_until),
            )
            await registry.get(GatewayType(account.gateway)).hand_off([job])
            handed += 1
        if handed:
            log.info("handed %d queued messages to the web gateways again", handed)
        return handed

    def _config(self, account: Account) -> tuple[dict[str, str], dict[str, str]]:
        return stored_values(account.config), self._box.open(account.secrets)

    async def credit(self, account: Account) -> float:
        """smsbrana's remaining credit (CZK); raises GatewayUnavailable with a clear text."""
        if account.gateway != GatewayType.SMSBRANA.value:
            raise NotSupported(
                f"account {account.id} uses {account.gateway}; only smsbrana has credit"
            )
        config, secrets = self._config(account)
        if not config.get("login"):
            raise GatewayUnavailable(
                "the smsbrana account has no login yet: set 'login' and 'password'"
            )
        try:
            answer = await self.smsbrana.client(config, secrets).credit()
        except (Unreachable, ProtocolError) as exc:
            raise GatewayUnavailable(str(exc)) from None
        credit = answer.number("credit")
        if answer.err != 0 or credit is None:
            raise GatewayUnavailable(answer.info.text)
        return credit

    async def test(self, account: Account) -> str:
        """The account's "test connection": what worked, or GatewayUnavailable saying why."""
        if account.gateway == GatewayType.SMSBRANA.value:
            credit = await self.credit(account)
            return f"smsbrana answered; credit {credit:.2f} CZK"
        if account.gateway == GatewayType.O2.value:
            config, secrets = self._config(account)
            try:
                return await self.o2.ping(account.id, config, secrets)
            except (CertificateError, O2Unreachable, O2Refused) as exc:
                raise GatewayUnavailable(str(exc)) from None
        raise NotSupported(f"gateway {account.gateway} has no connection test")

    async def close(self) -> None:
        await self.smsbrana_inbox.close()
        await self.smsbrana.dispatcher.close()
        await self.url.dispatcher.close()
        await self.o2_receive.close()
        await self.o2.close()
        for client in self._clients:
            await client.aclose()
        if self._leadership is not None:
            await self._leadership.release()
