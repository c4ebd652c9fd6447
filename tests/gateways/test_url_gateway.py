"""The URL gateway against a local HTTP server that records what it got."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from server.gateways.dispatch import Policy
from server.gateways.url import UrlGateway, render

from .conftest import InstantSleep, MemorySink, job
from .fakes.recorder import Recorder


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    with rec.running():
        yield rec


def make(
    http: httpx.AsyncClient, sink: MemorySink, instant: InstantSleep, **kw: float
) -> UrlGateway:
    policy = Policy(**({"max_attempts": 3, "base_delay": 1.0, "rate": 0.0} | kw))  # type: ignore[arg-type]
    return UrlGateway(http, sink, policy=policy, sleep=instant)


async def send(gw: UrlGateway, *jobs: object) -> None:
    await gw.hand_off(list(jobs))  # type: ignore[arg-type]
    await gw.dispatcher.drain()


def test_only_the_two_marks_are_replaced_and_values_are_fully_encoded() -> None:
    url = render("https://gw.example/s?to=[PHONE]&t=[MSG]&k=[KEY]", "+420777", "a&b=c [PHONE]\r\nX")
    assert url == ("https://gw.example/s?to=%2B420777&t=a%26b%3Dc%20%5BPHONE%5D%0D%0AX&k=[KEY]")


async def test_a_2xx_answer_means_sent_and_the_values_arrive_intact(
    http, sink, instant, recorder
) -> None:
    gw = make(http, sink, instant)
    config = {"url": recorder.url + "/send?to=[PHONE]&text=[MSG]&user=crm"}
    text = "Příliš žluťoučký kůň & co. 100% +1\nnový řádek"
    await send(gw, job("m1", text=text, config=config))
    assert sink.state_of("m1") == ("sent", None, None)
    [req] = recorder.requests
    assert req.method == "GET" and req.path == "/send"
    assert dict(req.query) == {"to": "+420777123456", "text": text, "user": "crm"}


async def test_the_number_and_text_can_sit_in_the_path(http, sink, instant, recorder) -> None:
    gw = make(http, sink, instant)
    await send(gw, job("m1", text="a/b?c", config={"url": recorder.url + "/sms/[PHONE]/[MSG]"}))
    assert recorder.requests[0].path == "/sms/%2B420777123456/a%2Fb%3Fc"
    assert sink.state_of("m1")[0] == "sent"


@pytest.mark.parametrize("status", [400, 401, 404, 302])
async def test_a_client_error_fails_at_once_with_status_and_excerpt(
    http, sink, instant, recorder, status
) -> None:
    recorder.script = [(status, "<html>\n  <b>Invalid   API key</b>\n</html>" + "x" * 500)]
    gw = make(http, sink, instant)
    await send(gw, job("m1", config={"url": recorder.url + "/s?to=[PHONE]&t=[MSG]"}))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "url_http_error")
    assert f"HTTP {status}" in detail and "<b>Invalid API key</b>" in detail
    assert len(detail) < 200
    assert instant.delays == []


async def test_a_server_error_is_retried_with_backoff(http, sink, instant, recorder) -> None:
    recorder.script = [(503, "busy"), (500, "oops")]
    gw = make(http, sink, instant)
    await send(gw, job("m1", config={"url": recorder.url + "/s?to=[PHONE]&t=[MSG]"}))
    assert sink.state_of("m1")[0] == "sent"
    assert len(recorder.requests) == 3 and len(instant.delays) == 2


async def test_a_lasting_server_error_fails_after_the_last_attempt(
    http, sink, instant, recorder
) -> None:
    recorder.script = [(500, "down")] * 3
    gw = make(http, sink, instant)
    await send(gw, job("m1", config={"url": recorder.url + "/s?to=[PHONE]&t=[MSG]"}))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "url_http_error")
    assert "HTTP 500" in detail and "gave up after 3 attempts" in detail


async def test_an_unreachable_service_queues_instead_of_failing(http, sink, instant) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gw = make(http, sink, instant, max_attempts=1)
    count = 0

    async def sleep_then_give_up(seconds: float) -> None:
        nonlocal count
        count += 1
        if count == 5:  # the message was still waiting after 5 outage retries: stop here
            raise asyncio.CancelledError

    gw.dispatcher._sleep = sleep_then_give_up
    await gw.hand_off([job("m1", config={"url": f"http://127.0.0.1:{port}/s?[PHONE]&[MSG]"})])
    await gw.dispatcher.drain()
    assert count == 5 and sink.reports == []  # still queued, never failed


async def test_a_timeout_is_retried(sink, instant, recorder) -> None:
    recorder.gate = threading.Event()
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2)) as slow:
        gw = make(slow, sink, instant, max_attempts=2)
        await send(gw, job("m1", config={"url": recorder.url + "/s?[PHONE]&[MSG]"}))
    recorder.gate.set()
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "url_timeout")
    assert "no answer in time" in detail


async def test_the_url_never_reaches_a_log_line_or_an_error_text(
    http, sink, instant, recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.script = [(500, "no"), (403, "denied")]
    gw = make(http, sink, instant)
    secret = "apikey-9f8e7d"
    await send(gw, job("m1", config={"url": recorder.url + f"/s?key={secret}&to=[PHONE]&t=[MSG]"}))
    text = "\n".join(r.getMessage() for r in caplog.records) + str(sink.reports)
    assert "HTTP Request" in text and secret not in text
