"""The O2 gateway: one HTTPS client per account (its own client certificate), `send` per
message, `ping` for "test connection", and the errors a person can act on."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import ssl
from collections.abc import Callable, Mapping

import httpx
import msgspec

from ..base import Job
from ..dispatch import Dispatcher, Failed, Outcome, Policy, RefSink, Retry, Sent, Sleep
from ..http import TIMEOUT, make_client
from . import protocol
from .protocol import Answer, Verdict
from .tls import CertificateError, client_context, read_cert_file


class O2Unreachable(Exception):
    """O2 did not answer; a network problem, not the account's."""


class O2Refused(Exception):
    """O2 answered, with an error (responseType and code in the text)."""


class O2Account(msgspec.Struct, frozen=True):
    ba_id: str
    cert: str
    password: str
    ca: str
    url: str

    def __repr__(self) -> str:  # never show the password, not even in a traceback
        return f"O2Account(ba_id={self.ba_id!r}, cert={self.cert!r}, url={self.url!r})"


def account_of(config: Mapping[str, str], secrets: Mapping[str, str]) -> O2Account:
    return O2Account(
        ba_id=config.get("id", ""),
        cert=config.get("cert", ""),
        password=secrets.get("certPasswd", ""),
        ca=config.get("ca", ""),
        url=secrets.get("url") or config.get("url", "") or protocol.DEFAULT_URL,
    )


def tls_failure(exc: Exception) -> CertificateError | None:
    """Recognise a TLS failure in an httpx error and say which side's certificate it was."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return CertificateError(
            "O2's server certificate is not trusted: set 'ca' to O2's CA bundle (CA O2 CZ)"
        )
    if "alert" in text.lower() or "certificate" in text.lower():
        return CertificateError(
            "O2 refused our client certificate in the TLS handshake: 'cert' must be the "
            "certificate O2 issued for this BA"
        )
    return None


class O2Gateway:
    def __init__(
        self,
        sink: RefSink,
        *,
        policy: Policy | None = None,
        sleep: Sleep | None = None,
        timeout: httpx.Timeout = TIMEOUT,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._timeout = timeout
        self._now = now
        self._clients: dict[tuple[object, ...], httpx.AsyncClient] = {}
        self.dispatcher = Dispatcher("o2", self.send_one, sink, policy=policy, sleep=sleep)

    async def hand_off(self, jobs: list[Job]) -> None:
        await self.dispatcher.hand_off(jobs)

    async def _client(self, account_id: int, acct: O2Account) -> httpx.AsyncClient:
        """Cached per account and certificate; a replaced file or password builds anew."""
        try:
            mtime = os.stat(acct.cert).st_mtime_ns
        except OSError as exc:
            raise CertificateError(f"'cert' {acct.cert}: {exc.strerror or exc}") from None
        pw = hashlib.sha256(acct.password.encode()).hexdigest()
        key = (account_id, acct.cert, mtime, acct.ca, pw)
        client = self._clients.get(key)
        if client is None:
            for old in [k for k in self._clients if k[0] == account_id]:
                await self._clients.pop(old).aclose()
            context = client_context(
                read_cert_file(acct.cert), acct.password, ca_file=acct.ca or None, now=self._now()
            )
            client = self._clients[key] = make_client(verify=context, timeout=self._timeout)
        return client

    async def call(
        self, account_id: int, acct: O2Account, params: dict[str, str]
    ) -> tuple[int, Answer]:
        """One GET; raises CertificateError (fix the account) or O2Unreachable."""
        client = await self._client(account_id, acct)
        try:
            response = await client.get(acct.url, params=params)
        except httpx.TimeoutException:
            raise O2Unreachable("O2 did not answer in time") from None
        except (httpx.TransportError, ssl.SSLError) as exc:
            # anyio lets some ssl.SSLError through httpx unwrapped (an alert on read).
            cert_problem = tls_failure(exc)
            if cert_problem is not None:
                raise cert_problem from None
            raise O2Unreachable(f"O2 did not answer ({type(exc).__name__})") from None
        return response.status_code, protocol.parse(response.text)

    async def send_one(self, job: Job) -> Outcome:
        if len(job.text) > protocol.MULTIPART_LIMIT:
            return Failed("text_too_long", "O2 accepts at most 900 characters in one SMS")
        acct = account_of(job.config, job.secrets)
        params = protocol.send_params(acct.ba_id, job.to, job.text, sender=job.sender or "")
        try:
            status, answer = await self.call(job.account_id, acct, params)
        except CertificateError as exc:
            return Failed("o2_certificate", str(exc))
        except O2Unreachable as exc:
            return Retry("o2_unreachable", str(exc), outage=True)
        verdict = protocol.verdict(status, answer)
        if verdict is Verdict.OK:
            return Sent(answer.get("refMsgID") or None)
        reason, detail = protocol.failure(status, answer)
        return Retry(reason, detail) if verdict is Verdict.RETRY else Failed(reason, detail)

    async def ping(
        self, account_id: int, config: Mapping[str, str], secrets: Mapping[str, str]
    ) -> str:
        """The account's "test connection". Raises CertificateError, O2Unreachable or
        O2Refused, each with a text for the person who clicked."""
        acct = account_of(config, secrets)
        status, answer = await self.call(account_id, acct, protocol.ping_params(acct.ba_id))
        if protocol.verdict(status, answer) is not Verdict.OK:
            raise O2Refused(protocol.failure(status, answer)[1])
        return f"O2 answered ping: {answer.summary()}"

    async def close(self) -> None:
        await self.dispatcher.close()
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
