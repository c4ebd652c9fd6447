"""The smsbrana gateway: the account's configuration turned into a client, one send_sms per
message, and what its answer makes of the message."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

import httpx

from ..base import Job
from ..dispatch import Dispatcher, Failed, Outcome, Policy, RefSink, Retry, Sent, Sleep
from . import protocol
from .client import Credentials, SmsbranaClient, Unreachable
from .protocol import Action

log = logging.getLogger("smsbridge.server.gateways.smsbrana")

_FALSE = frozenset({"false", "no", "off", "0"})


def credentials(config: Mapping[str, str], secrets: Mapping[str, str]) -> Credentials:
    """`url` replaces both default hosts (a custom URL has no known backup)."""
    url = (secrets.get("url") or config.get("url", "")).strip()  # whole if it has credentials
    return Credentials(
        login=config.get("login", ""),
        password=secrets.get("password", ""),
        hashed=config.get("hash", "true").strip().lower() not in _FALSE,
        urls=(url,) if url else (protocol.PRIMARY_URL, protocol.BACKUP_URL),
    )


class SmsbranaGateway:
    def __init__(
        self,
        http: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        sink: RefSink,
        *,
        policy: Policy | None = None,
        sleep: Sleep | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        salt: Callable[[], str] = protocol.new_salt,
    ) -> None:
        # A client, or a function giving it (built lazily, see http.LazyClient).
        self._http = http if callable(http) else (lambda: http)
        self._now = now
        self._salt = salt
        self.dispatcher = Dispatcher("smsbrana", self.send_one, sink, policy=policy, sleep=sleep)

    def client(self, config: Mapping[str, str], secrets: Mapping[str, str]) -> SmsbranaClient:
        return SmsbranaClient(
            self._http(), credentials(config, secrets), now=self._now, salt=self._salt
        )

    async def hand_off(self, jobs: list[Job]) -> None:
        ready = []
        for job in jobs:
            if not job.config.get("login"):
                # The first-start account before anyone typed its login: the message
                # waits in `queued` (see accounts/config.py) rather than failing.
                log.info(
                    "smsbrana account %s has no login yet; message %s waits", job.account_id, job.id
                )
                continue
            ready.append(job)
        await self.dispatcher.hand_off(ready)

    async def send_one(self, job: Job) -> Outcome:
        client = self.client(job.config, job.secrets)
        try:
            answer = await client.send(job.id, job.to, job.text, job.sender)
        except Unreachable as exc:
            return Retry("smsbrana_unreachable", str(exc), outage=True)
        except protocol.ProtocolError as exc:
            return Retry("smsbrana_bad_answer", str(exc))
        info = answer.info
        if info.action is Action.DONE:
            sms_id = answer.fields.get("sms_id") or None
            return Sent(sms_id)
        if info.action is Action.FINAL:
            return Failed(info.reason, info.text)
        # RETRY_NOW left over means four fresh salts were all refused: treat it like a
        # service fault and back off rather than hammer the service.
        return Retry(info.reason, info.text)
