"""The thin I/O shell around protocol.py: one HTTP GET per action, the backup host when the
primary does not answer, a fresh salt for every request and a new one at once on err 7."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec

from . import protocol
from .protocol import Answer, Inbox

T = TypeVar("T", Answer, Inbox)

# err 7 means the salt was used already today; a fresh one fixes it, so a few quick tries
# are enough (the Django client makes four) and more would only hide a broken salt source.
SALT_ATTEMPTS = 4


class Credentials(msgspec.Struct, frozen=True):
    login: str
    password: str
    hashed: bool = True
    urls: tuple[str, ...] = (protocol.PRIMARY_URL, protocol.BACKUP_URL)

    def __repr__(self) -> str:  # never show the password, not even in a traceback
        return f"Credentials(login={self.login!r}, hashed={self.hashed}, urls={self.urls!r})"


class Unreachable(Exception):
    """No host gave an HTTP 200. The text names hosts and what went wrong, never a query."""


def host_of(url: str) -> str:
    """For an error text: the host (and port), never a user-info with its password."""
    return urlsplit(url).netloc.rpartition("@")[2] or "the smsbrana URL"


class SmsbranaClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        creds: Credentials,
        *,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        salt: Callable[[], str] = protocol.new_salt,
    ) -> None:
        self._http = http
        self._creds = creds
        self._now = now
        self._salt = salt

    async def call(self, params: dict[str, str], parse: Callable[[bytes], T]) -> T:
        """Run one action; raises Unreachable or protocol.ProtocolError."""
        for _ in range(SALT_ATTEMPTS):
            answer = parse(await self._get(params))
            if answer.err != 7:
                return answer
        return answer

    async def send(self, message_id: str, to: str, text: str, sender: str | None = None) -> Answer:
        params = protocol.send_params(message_id, to, text, sender_phone=sender)
        return await self.call(params, protocol.parse_answer)

    async def credit(self) -> Answer:
        return await self.call({"action": "credit_info"}, protocol.parse_answer)

    async def inbox(self, *, delete: bool) -> Inbox:
        params = {"action": "inbox"} | ({"delete": "1"} if delete else {})
        return await self.call(params, protocol.parse_inbox)

    def _signed(self, params: dict[str, str]) -> str:
        c = self._creds
        auth = protocol.auth_params(
            c.login, c.password, hashed=c.hashed, now=self._now(), salt=self._salt()
        )
        return protocol.query(auth | params)

    async def _get(self, params: Sequence[tuple[str, str]] | dict[str, str]) -> bytes:
        problems: list[str] = []
        for url in self._creds.urls:
            # Signed per attempt: the backup host must not see the primary's salt again.
            target = f"{url}?{self._signed(dict(params))}"
            try:
                response = await self._http.get(target)
            except httpx.TimeoutException:
                problems.append(f"{host_of(url)}: no answer in time")
                continue
            except httpx.TransportError as exc:
                problems.append(f"{host_of(url)}: {type(exc).__name__}")
                continue
            if response.status_code != 200:
                problems.append(f"{host_of(url)}: HTTP {response.status_code}")
                continue
            return response.content
        raise Unreachable("smsbrana did not answer (" + "; ".join(problems) + ")")
