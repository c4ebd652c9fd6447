"""The smsbrana gateway against the fake service over real HTTP: every error code, every
retry path, the backup host, and no double send when an answer is lost."""

from __future__ import annotations

import logging
import socket
import threading

import httpx
import pytest

from server.gateways.dispatch import Policy
from server.gateways.smsbrana.client import Credentials, SmsbranaClient
from server.gateways.smsbrana.gateway import SmsbranaGateway

from .conftest import InstantSleep, MemorySink, job
from .fakes.smsbrana import FakeSmsbrana

PASSWORD = "s3cret-Pa55"


def make(
    http: httpx.AsyncClient, sink: MemorySink, instant: InstantSleep, **policy: float
) -> SmsbranaGateway:
    settings = {"max_attempts": 3, "base_delay": 1.0, "rate": 0.0} | policy
    return SmsbranaGateway(http, sink, policy=Policy(**settings), sleep=instant)  # type: ignore[arg-type]


def config(fake: FakeSmsbrana, **extra: str) -> dict[str, str]:
    return {"login": "acme", "url": fake.url} | extra


SECRETS = {"password": PASSWORD}


async def send(gw: SmsbranaGateway, *jobs_: object) -> None:
    await gw.hand_off(list(jobs_))  # type: ignore[arg-type]
    await gw.dispatcher.drain()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/smsconnect/http.php"


async def test_a_message_is_sent_with_hashed_auth_and_our_id_as_user_id(
    http, sink, instant, fake_smsbrana
) -> None:
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1") == ("sent", None, None)
    [sent] = fake_smsbrana.sent("acme")
    assert (sent.number, sent.message, sent.user_id, sent.data_code) == (
        "+420777123456",
        "Hello world",
        "m1",
        "7bit",
    )
    assert sink.refs["m1"] == str(sent.sms_id)
    params = dict(fake_smsbrana.requests[0].query)
    assert "password" not in params and {"login", "sul", "auth", "time"} <= set(params)


async def test_diacritics_go_as_ucs2(http, sink, instant, fake_smsbrana) -> None:
    gw = make(http, sink, instant)
    await send(
        gw, job("m1", text="Příliš žluťoučký kůň", config=config(fake_smsbrana), secrets=SECRETS)
    )
    [sent] = fake_smsbrana.sent("acme")
    assert (sent.message, sent.data_code) == ("Příliš žluťoučký kůň", "ucs2")


async def test_plain_password_only_when_hash_is_false(http, sink, instant, fake_smsbrana) -> None:
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana, hash="false"), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    assert fake_smsbrana.requests[0].params()["password"] == PASSWORD
    assert "auth" not in fake_smsbrana.requests[0].params()


@pytest.mark.parametrize(
    ("setup", "err", "reason"),
    [
        (lambda f, c: c.update(login="nobody"), 2, "smsbrana_invalid_login"),
        (lambda f, c: c.update(wrong_password="1"), 3, "smsbrana_invalid_password"),
        (lambda f, c: f.advance_clock(3600), 4, "smsbrana_time_skew"),
        (lambda f, c: f.accounts["acme"].allowed_ips.clear(), 5, "smsbrana_ip_not_allowed"),
        (lambda f, c: f.force_error(6), 6, "smsbrana_invalid_action"),
        (lambda f, c: f.set_credit("acme", 0.5), 9, "smsbrana_no_credit"),
        (lambda f, c: c.update(to="12345"), 10, "invalid_number"),
        (lambda f, c: c.update(text=""), 11, "empty_text"),
        (lambda f, c: c.update(text="x" * 460), 12, "text_too_long"),
    ],
)
async def test_final_errors_fail_the_message_at_once(
    http, sink, instant, fake_smsbrana, setup, err, reason
) -> None:
    cfg = config(fake_smsbrana)
    setup(fake_smsbrana, cfg)
    secrets = {"password": "wrong"} if cfg.pop("wrong_password", None) else SECRETS
    to = cfg.pop("to", "+420777123456")
    text = cfg.pop("text", "Hello")
    gw = make(http, sink, instant)
    await send(gw, job("m1", to=to, text=text, config=cfg, secrets=secrets))
    state, got_reason, detail = sink.state_of("m1")
    assert (state, got_reason) == ("failed", reason)
    assert detail and "(gave up" not in detail
    assert instant.delays == []  # final: no retry
    assert len(fake_smsbrana.requests) == 1
    assert fake_smsbrana.sent("acme") == []


async def test_err_7_is_retried_at_once_with_a_new_salt(http, sink, instant, fake_smsbrana) -> None:
    fake_smsbrana.force_error(7)
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    salts = [r.params()["sul"] for r in fake_smsbrana.requests]
    assert len(salts) == 2 and salts[0] != salts[1]
    assert instant.delays == []  # at once, no backoff


async def test_a_reused_salt_is_caught_by_the_fake_and_never_loops(
    http, sink, instant, fake_smsbrana
) -> None:
    gw = SmsbranaGateway(
        http, sink, policy=Policy(max_attempts=2, rate=0), sleep=instant, salt=lambda: "samesalt"
    )
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    await send(gw, job("m2", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    state, reason, detail = sink.state_of("m2")
    assert (state, reason) == ("failed", "smsbrana_salt_reused")
    assert "gave up after 2 attempts" in (detail or "")
    assert len(fake_smsbrana.sent("acme")) == 1


@pytest.mark.parametrize(
    ("err", "reason"), [(8, "smsbrana_database_down"), (1, "smsbrana_unknown_error")]
)
async def test_err_8_and_1_are_retried_later_with_growing_backoff(
    http, sink, instant, fake_smsbrana, err, reason
) -> None:
    fake_smsbrana.force_error(err, times=2)
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    assert len(instant.delays) == 2
    # jitter keeps each delay within [half, full] of 1 s, then 2 s
    assert 0.5 <= instant.delays[0] <= 1.0 and 1.0 <= instant.delays[1] <= 2.0


async def test_err_8_for_good_fails_after_the_last_attempt(
    http, sink, instant, fake_smsbrana
) -> None:
    fake_smsbrana.always = 8
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "smsbrana_database_down")
    assert "gave up after 3 attempts" in (detail or "")


async def test_an_unknown_code_is_an_unknown_error(http, sink, instant, fake_smsbrana) -> None:
    fake_smsbrana.always = 42
    gw = make(http, sink, instant, max_attempts=1)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "smsbrana_unknown_error")
    assert "42" in (detail or "")


async def test_err_minus_1_means_already_sent(http, sink, instant, fake_smsbrana) -> None:
    fake_smsbrana.accounts["acme"].user_ids.add("m1")
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1") == ("sent", None, None)
    assert fake_smsbrana.sent("acme") == []


async def test_a_lost_answer_then_a_retry_does_not_send_twice(
    http, sink, instant, fake_smsbrana
) -> None:
    fake_smsbrana.drop_next = 1
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    assert len(fake_smsbrana.requests) == 2  # the lost one and the retry (answered -1)
    assert len(fake_smsbrana.sent("acme")) == 1


async def test_a_lost_answer_on_the_primary_goes_to_the_backup_without_a_second_sms(
    http, fake_smsbrana
) -> None:
    # Both "hosts" are the same fake service, as primary and backup share one database.
    fake_smsbrana.drop_next = 1
    urls = (fake_smsbrana.url, fake_smsbrana.url)
    c = SmsbranaClient(http, Credentials("acme", PASSWORD, True, urls))
    answer = await c.send("m1", "+420777123456", "Hi")
    assert answer.err == -1 and answer.info.state.value == "sent"
    assert len(fake_smsbrana.sent("acme")) == 1


async def test_the_backup_host_is_used_when_the_primary_does_not_answer(
    http, fake_smsbrana
) -> None:
    c = SmsbranaClient(
        http, Credentials("acme", PASSWORD, True, (closed_port_url(), fake_smsbrana.url))
    )
    answer = await c.send("m1", "+420777123456", "Hi")
    assert answer.err == 0
    assert len(fake_smsbrana.sent("acme")) == 1


async def test_an_outage_queues_beyond_the_attempt_limit_then_sends(
    http, sink, instant, fake_smsbrana
) -> None:
    fake_smsbrana.unavailable = 6  # twice the attempt limit
    gw = make(http, sink, instant)
    await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    assert [r[1] for r in sink.reports] == ["sent"]  # never failed on the way
    assert len(instant.delays) == 6


async def test_when_the_backlog_is_full_new_messages_fail_clearly(
    http, sink, instant, fake_smsbrana
) -> None:
    fake_smsbrana.gate = threading.Event()
    gw = make(http, sink, instant, backlog=1)
    await gw.hand_off([job("m1", config=config(fake_smsbrana), secrets=SECRETS)])
    await gw.hand_off([job("m2", config=config(fake_smsbrana), secrets=SECRETS)])
    state, reason, detail = sink.state_of("m2")
    assert (state, reason) == ("failed", "gateway_backlog_full")
    assert detail and "waiting" in detail
    fake_smsbrana.gate.set()
    await gw.dispatcher.drain()
    assert sink.state_of("m1")[0] == "sent"


async def test_an_account_without_login_keeps_its_messages_queued(http, sink, instant) -> None:
    gw = make(http, sink, instant)
    await send(gw, job("m1", config={"login": ""}, secrets={"password": ""}))
    assert sink.reports == []


async def test_credit_info(http, fake_smsbrana) -> None:
    gw = SmsbranaGateway(http, MemorySink())
    fake_smsbrana.set_credit("acme", 42.5)
    answer = await gw.client(config(fake_smsbrana), SECRETS).credit()
    assert answer.err == 0 and answer.number("credit") == 42.5


async def test_no_secret_in_any_log_line_or_error_text(
    http, sink, instant, fake_smsbrana, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gw = make(http, sink, instant, max_attempts=2)
    fake_smsbrana.drop_next = 1
    await send(gw, job("m1", config=config(fake_smsbrana, hash="false"), secrets=SECRETS))
    await send(
        gw, job("m2", config=config(fake_smsbrana), secrets={"password": "wrong-" + PASSWORD})
    )
    fake_smsbrana.always = 8
    await send(gw, job("m3", config=config(fake_smsbrana, hash="false"), secrets=SECRETS))
    text = "\n".join(r.getMessage() for r in caplog.records)
    text += "\n".join(str(r) for r in sink.reports)
    assert "HTTP Request" in text  # httpx did log, without the query
    assert PASSWORD not in text


async def test_a_timeout_is_retried_and_still_sends_once(sink, fake_smsbrana) -> None:
    fake_smsbrana.gate = threading.Event()  # the service holds its answers

    async def open_gate_then_retry(seconds: float) -> None:
        fake_smsbrana.gate.set()  # the service recovers; the held request goes through

    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as slow:
        gw = SmsbranaGateway(slow, sink, policy=Policy(rate=0), sleep=open_gate_then_retry)
        await send(gw, job("m1", config=config(fake_smsbrana), secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent"
    assert len(fake_smsbrana.requests) == 2
    assert len(fake_smsbrana.sent("acme")) == 1
