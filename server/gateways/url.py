"""The URL gateway: the account's `url` template with [PHONE] and [MSG] replaced by the
URL-encoded number and text, fetched with GET. 2xx is sent; anything else is failed with
the status and a short excerpt of the body.

Nothing else in the template is touched, and the values are percent-encoded with no safe
characters, so a text cannot add a parameter, a path, a header or a line to the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import httpx

from .base import Job
from .dispatch import Dispatcher, Failed, Outcome, Policy, RefSink, Retry, Sent, Sleep
from .http import excerpt

MARKS = re.compile(r"\[PHONE\]|\[MSG\]")


def render(template: str, to: str, text: str) -> str:
    """One pass over the template, so a value can never be substituted again."""
    values = {"[PHONE]": quote(to, safe=""), "[MSG]": quote(text, safe="")}
    return MARKS.sub(lambda m: values[m.group(0)], template)


def host_of(url: str) -> str:
    """The host (and port) for a message's detail: never the URL's user-info."""
    return urlsplit(url).netloc.rpartition("@")[2] or "the URL gateway"


def outcome_of(status: int, body: str, host: str) -> Outcome:
    if 200 <= status < 300:
        return Sent()
    detail = f"{host} answered HTTP {status}: {excerpt(body) or '(empty body)'}"
    if status >= 500 or status == 429:
        return Retry("url_http_error", detail)  # the service's trouble: try again later
    return Failed("url_http_error", detail)


class UrlGateway:
    def __init__(
        self,
        http: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        sink: RefSink,
        *,
        policy: Policy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._http = http if callable(http) else (lambda: http)
        self.dispatcher = Dispatcher("url", self.send_one, sink, policy=policy, sleep=sleep)

    async def hand_off(self, jobs: list[Job]) -> None:
        await self.dispatcher.hand_off(jobs)

    async def send_one(self, job: Job) -> Outcome:
        # A URL with credentials is kept whole among the secrets (config shows it masked).
        template = job.secrets.get("url") or job.config.get("url", "")
        host = host_of(template)
        try:
            response = await self._http().get(render(template, job.to, job.text))
        except httpx.ConnectError as exc:
            # Nothing reached the service: safe to wait and try again, without limit.
            return Retry("url_unreachable", f"{host}: {type(exc).__name__}", outage=True)
        except httpx.TimeoutException:
            # The request may have arrived: retried, but a bounded number of times.
            return Retry("url_timeout", f"{host}: no answer in time")
        except httpx.TransportError as exc:
            return Retry("url_transport_error", f"{host}: {type(exc).__name__}")
        except httpx.InvalidURL:
            return Failed("url_invalid", f"the account's url is not a valid URL ({host})")
        return outcome_of(response.status_code, response.text, host)
