"""O2 SMS Connector: the key=value core, the PKCS#12 client certificate, and the gateway
against the fake HTTPS service that requires a client certificate."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trustme

from server.gateways.dispatch import Policy
from server.gateways.o2 import protocol as p
from server.gateways.o2.gateway import O2Gateway
from server.gateways.o2.tls import CertificateError, client_context
from tests.server.conftest import Api

from .conftest import InstantSleep, MemorySink, job
from .fakes.o2 import FakeO2, p12_from

BA = "1992125"
P12_PASSWORD = "p12-pass"


# --- the pure core ----------------------------------------------------------------------


def test_the_real_send_answer_is_parsed() -> None:
    body = (
        "selector=Response\nresponseType=SUCCESS\nresponseCode=ISUC_001\n"
        "responseDescription=Pozadavek Send uspesne zpracovan - ISUC_001 - Send request "
        "successfully processed\nbaID=1992125\nrefBaID=1992125\n"
        "msgID=ID-48555-1585223320437-1-2900914\ntimestamp=2020-03-29T13:35:00\n"
        "refMsgID=ID-48555-1585223320437-1-2900913\n"
    )
    a = p.parse(body)
    assert (a.type, a.code, a.get("refMsgID")) == (
        "SUCCESS",
        "ISUC_001",
        "ID-48555-1585223320437-1-2900913",
    )
    assert p.verdict(200, a) is p.Verdict.OK


def test_lines_split_at_the_first_equals_and_continue_without_one() -> None:
    a = p.parse("\n text = a=b \r\nsecond line\n\ncode=ISUC_000\n")
    assert a.fields == {"text": "a=b\nsecond line", "code": "ISUC_000"}
    assert a.code == "ISUC_000"  # the clone's spelling


def test_an_empty_body_is_an_empty_queue() -> None:
    assert p.parse("").empty


@pytest.mark.parametrize(
    ("status", "kind", "verdict"),
    [
        (200, "SUCCESS", p.Verdict.OK),
        (500, "INTERNAL_ERROR", p.Verdict.RETRY),
        (502, "", p.Verdict.RETRY),
        (400, "FORMAT_ERROR", p.Verdict.FINAL),
        (403, "AUTHORIZATION_ERROR", p.Verdict.FINAL),
        (400, "APPL_ERROR", p.Verdict.FINAL),
        (200, "APPL_ERROR", p.Verdict.FINAL),
    ],
)
def test_verdicts_follow_the_status_and_response_type(status, kind, verdict) -> None:
    assert p.verdict(status, p.Answer({"responseType": kind})) is verdict


def test_send_parameters() -> None:
    params = p.send_params(BA, "+420777123456", "x" * 161)
    assert params["multipart"] == "TRUE" and params["deliveryReport"] == "TRUE"
    assert params["intruder"] == "FALSE" and "fromNumber" not in params
    assert p.send_params(BA, "+420777123456", "hi")["multipart"] == "FALSE"


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"selector": "TextSms"}, p.ItemKind.INCOMING),
        ({"selector": "Response", "responseCode": "ISUC_005"}, p.ItemKind.DELIVERED),
        ({"selector": "Response", "responseCode": "ISUC_010"}, p.ItemKind.IN_NETWORK),
        ({"selector": "Response", "responseCode": "XYZ_777"}, p.ItemKind.NOT_DELIVERED),
        ({"selector": "BinarySms"}, p.ItemKind.OTHER),
    ],
)
def test_received_items_are_classified(fields, kind) -> None:
    assert p.kind_of(p.Answer(fields)) is kind


def test_timestamps_are_prague_local() -> None:
    assert p.parse_timestamp("2020-03-29T14:02:11") == dt.datetime(
        2020, 3, 29, 12, 2, 11, tzinfo=dt.UTC
    )


# --- the certificate ------------------------------------------------------------------


@pytest.fixture(scope="module")
def leaf() -> trustme.LeafCert:
    return trustme.CA().issue_cert("client.test")


def test_a_pkcs12_becomes_a_tls_context(leaf) -> None:
    ctx = client_context(p12_from(leaf, "pw"), "pw")
    assert ctx.verify_mode.name == "CERT_REQUIRED"


def test_a_wrong_password_is_named(leaf) -> None:
    with pytest.raises(CertificateError, match="certPasswd"):
        client_context(p12_from(leaf, "pw"), "not-it")


def test_a_file_that_is_not_pkcs12_is_named() -> None:
    with pytest.raises(CertificateError, match="PKCS#12"):
        client_context(b"-----BEGIN CERTIFICATE-----\n", "pw")


def test_an_expired_certificate_is_named(leaf) -> None:
    with pytest.raises(CertificateError, match="expired"):
        client_context(p12_from(leaf, "pw"), "pw", now=dt.datetime(9000, 1, 1, tzinfo=dt.UTC))


# --- against the fake service -----------------------------------------------------------


@pytest.fixture
def fake_o2() -> Iterator[FakeO2]:
    fake = FakeO2()
    with fake.running():
        yield fake


@pytest.fixture
def o2_config(fake_o2: FakeO2, tmp_path: Path) -> dict[str, str]:
    cert = fake_o2.issue_client(BA, tmp_path, P12_PASSWORD)
    return {"id": BA, "cert": str(cert), "ca": str(fake_o2.ca_file(tmp_path)), "url": fake_o2.url}


SECRETS = {"certPasswd": P12_PASSWORD}


async def send(gw: O2Gateway, *jobs: object) -> None:
    await gw.hand_off(list(jobs))  # type: ignore[arg-type]
    await gw.dispatcher.drain()


@pytest.fixture
async def gw(sink: MemorySink, instant: InstantSleep) -> AsyncIterator[O2Gateway]:
    gateway = O2Gateway(sink, policy=Policy(max_attempts=3, rate=0), sleep=instant)
    yield gateway
    await gateway.close()


async def test_a_message_is_sent_with_the_client_certificate(gw, sink, fake_o2, o2_config) -> None:
    await send(gw, job("m1", text="Ahoj", config=o2_config, secrets=SECRETS))
    assert sink.state_of("m1") == ("sent", None, None)
    [sent] = fake_o2.sent
    assert sent.ba_id == BA and sent.params["toNumber"] == "+420777123456"
    assert sent.params["text"] == "Ahoj" and sent.params["deliveryReport"] == "TRUE"
    assert sink.refs["m1"] == sent.ref_msg_id


async def test_long_texts_go_multipart_and_over_900_fail(gw, sink, fake_o2, o2_config) -> None:
    await send(gw, job("m1", text="y" * 500, config=o2_config, secrets=SECRETS))
    await send(gw, job("m2", text="y" * 901, config=o2_config, secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent" and fake_o2.sent[0].params["multipart"] == "TRUE"
    assert sink.state_of("m2")[:2] == ("failed", "text_too_long")


async def test_an_internal_error_is_retried(gw, sink, instant, fake_o2, o2_config) -> None:
    fake_o2.fail_next = 2
    await send(gw, job("m1", config=o2_config, secrets=SECRETS))
    assert sink.state_of("m1")[0] == "sent" and len(instant.delays) == 2


async def test_a_format_error_fails_with_o2s_words(gw, sink, fake_o2, o2_config) -> None:
    await send(gw, job("m1", to="777123456", config=o2_config, secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "o2_format_error")
    assert "HTTP 400" in detail and "FAKE_FORMAT_001" in detail


async def test_a_baid_not_matching_the_certificate_is_an_authorization_error(
    gw, sink, fake_o2, o2_config
) -> None:
    await send(gw, job("m1", config=o2_config | {"id": "1"}, secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "o2_authorization_error")
    assert "check 'id'" in detail


async def test_a_certificate_from_another_ca_fails_clearly(
    gw, sink, fake_o2, o2_config, tmp_path
) -> None:
    rogue = tmp_path / "rogue.p12"
    rogue.write_bytes(p12_from(trustme.CA().issue_cert("client.test"), P12_PASSWORD))
    await send(gw, job("m1", config=o2_config | {"cert": str(rogue)}, secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "o2_certificate")
    assert "refused our client certificate" in detail
    assert fake_o2.sent == []


async def test_o2s_server_is_not_trusted_without_its_ca(gw, sink, fake_o2, o2_config) -> None:
    config = {k: v for k, v in o2_config.items() if k != "ca"}
    await send(gw, job("m1", config=config, secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "o2_certificate")
    assert "set 'ca'" in detail


async def test_a_wrong_certificate_password_fails_clearly(gw, sink, fake_o2, o2_config) -> None:
    await send(gw, job("m1", config=o2_config, secrets={"certPasswd": "nope"}))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "o2_certificate") and "certPasswd" in detail


async def test_a_missing_certificate_file_is_named(gw, sink, fake_o2, o2_config) -> None:
    await send(gw, job("m1", config=o2_config | {"cert": "/nonexistent/o2.p12"}, secrets=SECRETS))
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "o2_certificate") and "/nonexistent/o2.p12" in detail


async def test_ping(gw, fake_o2, o2_config) -> None:
    assert "ISUC_000" in await gw.ping(1, o2_config, SECRETS)


async def test_no_secret_in_logs_or_errors(
    gw, sink, fake_o2, o2_config, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await send(gw, job("m1", config=o2_config, secrets=SECRETS))
    await send(gw, job("m2", config=o2_config, secrets={"certPasswd": "wrong-" + P12_PASSWORD}))
    text = "\n".join(r.getMessage() for r in caplog.records) + str(sink.reports)
    assert P12_PASSWORD not in text


# --- in the running server: receive → store → confirm ---------------------------------


async def o2_account(api: Api, config: dict[str, str], **fields: object) -> int:
    text = "\n".join(f"{k} = {v}" for k, v in config.items()) + f"\ncertPasswd = {P12_PASSWORD}"
    account = await api.account(gateway="o2", config=text, **fields)
    return int(account["id"])  # type: ignore[call-overload]


async def test_reports_and_incoming_sms_are_stored_then_confirmed(
    api, srv, fake_o2, o2_config
) -> None:
    alice = await api.user("alice", "send", "read")
    account = await o2_account(api, o2_config, poll_incoming=True, owner="alice")
    r = await api.post(
        "/api/messages", alice, json={"to": "+420777123456", "text": "Hi", "account": account}
    )
    message_id = r.json()["id"]
    await srv.web.o2.dispatcher.drain()
    assert (await api.get(f"/api/messages/{message_id}")).json()["state"] == "sent"
    fake_o2.inject_incoming(BA, "+420602111222", "ANO")

    results = await srv.web.o2_receive.poll_all()
    assert (results[account].stored, results[account].reports, results[account].confirmed) == (
        1,
        1,
        3,
    )
    assert fake_o2.queues[BA] == []
    got = (await api.get(f"/api/messages/{message_id}")).json()
    assert got["state"] == "delivered"
    inbound = (await api.get("/api/messages?direction=in", alice)).json()["messages"]
    assert [(m["from"], m["text"]) for m in inbound] == [("+420602111222", "ANO")]


async def test_an_item_whose_confirm_was_lost_is_stored_once(api, srv, fake_o2, o2_config) -> None:
    account = await o2_account(api, o2_config, poll_incoming=True)
    fake_o2.inject_incoming(BA, "+420602111222", "jednou")
    fake_o2.fail_confirm = 1
    first = await srv.web.o2_receive.poll_all()
    assert "confirm" in first[account]
    second = await srv.web.o2_receive.poll_all()
    assert second[account].stored == 0 and second[account].confirmed == 1
    inbound = (await api.get("/api/messages?direction=in")).json()["messages"]
    assert [m["text"] for m in inbound] == ["jednou"]


async def test_a_failed_report_fails_the_message(api, srv, fake_o2, o2_config) -> None:
    fake_o2.report_codes = ("ISUC_010", "FAKE_UNDELIVERABLE_1")
    account = await o2_account(api, o2_config, poll_incoming=True)
    r = await api.post(
        "/api/messages", json={"to": "+420777123456", "text": "Hi", "account": account}
    )
    await srv.web.o2.dispatcher.drain()
    await srv.web.o2_receive.poll_all()
    got = (await api.get(f"/api/messages/{r.json()['id']}")).json()
    assert (got["state"], got["reason"]) == ("failed", "not_delivered")


async def test_test_connection_pings_o2(api, srv, fake_o2, o2_config, tmp_path) -> None:
    good = await o2_account(api, o2_config)
    r = await api.post(f"/api/accounts/{good}/test")
    assert r.json()["ok"] is True and "ISUC_000" in r.json()["detail"]
    rogue = tmp_path / "rogue.p12"
    rogue.write_bytes(p12_from(trustme.CA().issue_cert("client.test"), P12_PASSWORD))
    bad = await o2_account(api, o2_config | {"cert": str(rogue)})
    r = await api.post(f"/api/accounts/{bad}/test")
    assert r.json()["ok"] is False and "client certificate" in r.json()["detail"]


async def test_a_late_report_finds_its_message_on_a_later_round(
    api, srv, fake_o2, o2_config
) -> None:
    fake_o2.report_codes = ()
    account = await o2_account(api, o2_config, poll_incoming=True)
    r = await api.post(
        "/api/messages", json={"to": "+420777123456", "text": "Hi", "account": account}
    )
    await srv.web.o2.dispatcher.drain()
    assert (await srv.web.o2_receive.poll_all())[account].confirmed == 0
    fake_o2.add_report(BA, fake_o2.sent[0].ref_msg_id, "ISUC_010")
    fake_o2.add_report(BA, fake_o2.sent[0].ref_msg_id, "ISUC_005")
    assert (await srv.web.o2_receive.poll_all())[account].reports == 1
    assert (await api.get(f"/api/messages/{r.json()['id']}")).json()["state"] == "delivered"


async def test_receiving_with_a_wrong_certificate_reports_why(api, srv, fake_o2, o2_config) -> None:
    account = await o2_account(api, o2_config | {"id": "1"}, poll_incoming=True)
    result = (await srv.web.o2_receive.poll_all())[account]
    assert isinstance(result, str) and "AUTHORIZATION_ERROR" in result
