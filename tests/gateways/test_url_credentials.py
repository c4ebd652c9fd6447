"""A URL gateway's credentials (issue #19, item 6) travel whole to the service, and never
into a message's detail: against a local HTTP server that records what it got."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from server.accounts.config import parse_config
from server.gateways.dispatch import Policy
from server.gateways.url import UrlGateway
from sms.model import GatewayType

from .conftest import job
from .fakes.recorder import Recorder


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    with rec.running():
        yield rec


async def test_the_whole_url_reaches_the_service_and_no_credential_reaches_the_detail(
    http, sink, instant, recorder
) -> None:
    host = recorder.url.removeprefix("http://")
    checked = parse_config(
        GatewayType.URL, f"url = http://joe:s3cret@{host}/send?to=[PHONE]&text=[MSG]&key=k3y"
    )
    assert "s3cret" not in checked.values["url"] and "k3y" not in checked.values["url"]
    gw = UrlGateway(http, sink, policy=Policy(max_attempts=1, rate=0.0), sleep=instant)
    recorder.script = [(200, "OK"), (400, "bad request")]
    for mid in ("m1", "m2"):
        await gw.hand_off([job(mid, config=checked.values, secrets=checked.secrets)])
        await gw.dispatcher.drain()
    first, _ = recorder.requests
    assert dict(first.query)["key"] == "k3y"
    assert base64.b64decode(first.headers["authorization"].split()[1]) == b"joe:s3cret"
    assert sink.state_of("m1")[0] == "sent"
    state, _reason, detail = sink.state_of("m2")
    assert state == "failed" and detail is not None
    assert host in detail and "joe" not in detail and "s3cret" not in detail


async def test_an_smsbrana_url_with_a_password_stays_out_of_the_answer(api, srv) -> None:
    # Nothing listens on port 9: the credit answer says which host failed, and only that.
    config = "login = acme\npassword = pw\nurl = http://joe:s3cret@127.0.0.1:9/api"
    account = (await api.account(gateway="smsbrana", config=config))["id"]
    shown = (await api.get(f"/api/accounts/{account}")).json()["config"]
    assert "url = http://joe:(set)@127.0.0.1:9/api" in shown
    r = await api.get(f"/api/accounts/{account}/credit")
    assert r.status_code == 200 and r.json()["credit"] is None
    assert "127.0.0.1:9" in r.json()["detail"] and "s3cret" not in r.json()["detail"]
