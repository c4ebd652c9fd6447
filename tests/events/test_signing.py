"""Signatures as the Standard Webhooks library checks them, the README's hand-written
check, URL and secret refusals, and the small HTTP client's reading of answers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from server.webhooks import signing
from server.webhooks.http import Endpoint, ExchangeError
from server.webhooks.urls import url_error
from tests.gateways.fakes.httpserver import DROP, Response, serve

ROOT = Path(__file__).resolve().parents[2]
BODY = b'{"id":"evt_1","type":"message.sent","time":"2026-12-04T19:00:00Z","data":{}}'


def test_the_library_verifies_our_signature_and_refuses_a_changed_body() -> None:
    secret = signing.new_secret()
    headers = signing.headers(secret, "evt_1", int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers)["id"] == "evt_1"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"sent", b"failed"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def test_the_readmes_verify_function_agrees() -> None:
    readme = (ROOT / "README.md").read_text()
    [code] = re.findall(r"```python\n(import base64.*?)```", readme, re.S)
    namespace: dict[str, object] = {}
    exec(code, namespace)  # the CRM's few lines, as documented
    verify = namespace["verify"]
    secret = signing.new_secret()
    headers = signing.headers(secret, "evt_1", int(time.time()), BODY)
    assert verify(secret, headers, BODY)  # type: ignore[operator]
    assert not verify(secret, headers, BODY + b" ")  # type: ignore[operator]
    old = signing.headers(secret, "evt_1", int(time.time()) - 600, BODY)
    assert not verify(secret, old, BODY)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("secret", "words"),
    [("abc", "must start with"), ("whsec_***", "not base64"), ("whsec_AAAA", "24 to 64 bytes")],
)
def test_bad_secrets_are_named(secret: str, words: str) -> None:
    assert words in (signing.secret_error(secret) or "")


def test_urls_of_other_schemes_or_this_server_are_refused() -> None:
    own = {("127.0.0.1", 8765), ("sms.example", 443)}
    assert url_error("https://crm.example/hook", own) is None
    assert url_error("http://127.0.0.1:9000/hook", own) is None  # another local service
    assert "'gopher'" in (url_error("gopher://crm.example/", own) or "")
    assert "this server" in (url_error("http://localhost:8765/api", own) or "")
    assert "this server" in (url_error("https://sms.example/x", own) or "")
    assert "no host" in (url_error("http:///path", own) or "")


async def test_the_client_keeps_200_bytes_and_retries_a_stale_connection_once() -> None:
    answers = iter(
        [
            Response(201, b"created"),
            Response(500, b"x" * 5000),
            DROP,
            Response(204, b""),
            DROP,
        ]
    )
    with serve(lambda request: next(answers)) as base:
        endpoint = Endpoint(base + "/hook?x=1")
        assert await endpoint.post(BODY, {}, 5) == (201, b"created")
        status, answer = await endpoint.post(BODY, {}, 5)
        assert (status, len(answer)) == (500, 200)  # only the first 200 bytes are kept
        # A kept connection that closes without an answer: once more on a new one.
        assert await endpoint.post(BODY, {}, 5) == (204, b"")
        endpoint.close()
        with pytest.raises(ExchangeError, match="closed"):  # a new connection: no retry
            await Endpoint(base + "/hook").post(BODY, {}, 5)
    with pytest.raises(ExchangeError, match="refused"):
        await Endpoint(base + "/hook").post(BODY, {}, 5)
