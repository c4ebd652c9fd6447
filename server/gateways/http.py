"""The HTTP client the web gateways share, and the guard that keeps secrets out of logs.

httpx logs every request at INFO with its full URL. smsbrana's plain login and the URL
gateway's template carry secrets in the query string, so the URL is logged without it.
"""

from __future__ import annotations

import logging
import ssl

import httpx

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)


class HideQuery(logging.Filter):
    """Rewrites httpx's request log line: `https://host/path?…` instead of the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def redact(url: str) -> str:
    base, sep, _ = url.partition("?")
    return f"{base}?…" if sep else base


def guard_logs() -> None:
    """Idempotent: attaches HideQuery once to the httpx logger."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, HideQuery) for f in logger.filters):
        logger.addFilter(HideQuery())


def excerpt(text: str, limit: int = 120) -> str:
    """A short single-line piece of a body for an error text."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def make_client(
    *, verify: ssl.SSLContext | bool = True, timeout: httpx.Timeout = TIMEOUT
) -> httpx.AsyncClient:
    """One client per gateway, so connections to a service are reused across messages."""
    guard_logs()
    return httpx.AsyncClient(
        timeout=timeout, limits=LIMITS, verify=verify, follow_redirects=False, trust_env=False
    )


class LazyClient:
    """Builds the client on first use: creating one loads the CA store (~0.1 s), which a
    server whose accounts never use the gateway should not pay at every start."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, timeout: httpx.Timeout = TIMEOUT):
        self._verify = verify
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = make_client(verify=self._verify, timeout=self._timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
