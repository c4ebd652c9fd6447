"""The fakes themselves follow their specs (smsbrana §5, O2 §5): what the gateway tests
rely on is checked here directly, with plain HTTP requests."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import httpx
import pytest

from server.gateways.o2.tls import client_context
from server.gateways.smsbrana.protocol import parse_answer, parse_inbox

from .fakes.o2 import FakeO2
from .fakes.smsbrana import PRAGUE, FakeSmsbrana

PASSWORD = "s3cret-Pa55"


def signed(fake: FakeSmsbrana, salt: str, *, iso: bool = False, **params: str) -> dict[str, str]:
    now = fake.now().astimezone(PRAGUE)
    time = now.isoformat(timespec="seconds") if iso else now.strftime("%Y%m%dT%H%M%S")
    digest = hashlib.md5((PASSWORD + time + salt).encode()).hexdigest()
    return {"login": "acme", "time": time, "sul": salt, "auth": digest} | params


async def call(fake: FakeSmsbrana, params: dict[str, str], **kw: object) -> int:
    async with httpx.AsyncClient() as c:
        r = await c.get(fake.url, params=params, **kw)  # type: ignore[arg-type]
    assert r.status_code == 200 and r.content.startswith(b"<?xml")
    return parse_answer(r.content).err


async def test_check_order_login_before_ip_before_auth(fake_smsbrana) -> None:
    fake_smsbrana.accounts["acme"].allowed_ips.clear()
    assert await call(fake_smsbrana, {"login": "nobody", "password": "x"}) == 2
    assert await call(fake_smsbrana, {"login": "acme", "password": "x"}) == 5


async def test_time_then_salt_then_digest(fake_smsbrana) -> None:
    params = signed(fake_smsbrana, "salt1", action="credit_info")
    assert await call(fake_smsbrana, params | {"time": "20000101T000000"}) == 4
    assert await call(fake_smsbrana, params | {"auth": "0" * 32}) == 3
    assert await call(fake_smsbrana, params) == 0
    assert await call(fake_smsbrana, params) == 7  # same salt, same day


async def test_iso_time_and_the_hash_alias_are_accepted(fake_smsbrana) -> None:
    params = signed(fake_smsbrana, "salt2", iso=True, action="credit_info")
    params["hash"] = params.pop("auth")
    assert await call(fake_smsbrana, params) == 0


async def test_a_salt_may_be_reused_the_next_day(fake_smsbrana) -> None:
    assert await call(fake_smsbrana, signed(fake_smsbrana, "s", action="credit_info")) == 0
    fake_smsbrana.advance_clock(86400)
    assert await call(fake_smsbrana, signed(fake_smsbrana, "s", action="credit_info")) == 0


async def test_unknown_action_and_plain_login(fake_smsbrana) -> None:
    plain = {"login": "acme", "password": PASSWORD}
    assert await call(fake_smsbrana, plain | {"action": "nope"}) == 6
    assert await call(fake_smsbrana, plain | {"action": "credit_info"}) == 0


@pytest.mark.parametrize(
    ("number", "err"),
    [("777123456", 0), ("+420777123456", 0), ("00420777123456", 0), ("7771234", 10), ("+42a", 10)],
)
async def test_number_validity(fake_smsbrana, number, err) -> None:
    plain = {"login": "acme", "password": PASSWORD, "action": "send_sms", "message": "x"}
    assert await call(fake_smsbrana, plain | {"number": number}) == err


async def test_parts_and_credit(fake_smsbrana) -> None:
    fake_smsbrana.set_credit("acme", 3.3)
    plain = {"login": "acme", "password": PASSWORD, "action": "send_sms", "number": "777123456"}
    assert await call(fake_smsbrana, plain | {"message": "€" * 80}) == 0  # 160 septets: 1 part
    assert await call(fake_smsbrana, plain | {"message": "ž" * 71, "data_code": "ucs2"}) == 0
    assert [s.parts for s in fake_smsbrana.sent("acme")] == [1, 2]
    assert await call(fake_smsbrana, plain | {"message": "x"}) == 9  # 0.00 left


async def test_form_bodies_are_read_leniently(fake_smsbrana) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.post(
            fake_smsbrana.url,
            data={"login": "acme", "password": PASSWORD, "action": "credit_info"},
        )
    assert parse_answer(r.content).err == 0


async def test_inbox_returns_then_deletes(fake_smsbrana) -> None:
    fake_smsbrana.inject_incoming("acme", "+420602111222", "a")
    plain = {"login": "acme", "password": PASSWORD, "action": "inbox"}
    async with httpx.AsyncClient() as c:
        kept = parse_inbox((await c.get(fake_smsbrana.url, params=plain)).content)
        deleted = parse_inbox(
            (await c.get(fake_smsbrana.url, params=plain | {"delete": "1"})).content
        )
        empty = parse_inbox((await c.get(fake_smsbrana.url, params=plain)).content)
    assert len(kept.incoming) == len(deleted.incoming) == 1 and empty.incoming == []


def test_the_fakes_clock_moves_only_when_told() -> None:
    fake = FakeSmsbrana()
    before = fake.now()
    fake.advance_clock(3600)
    assert fake.now() - before >= dt.timedelta(hours=1)


async def test_o2_accepts_a_form_post_and_boolean_spellings(tmp_path: Path) -> None:
    fake = FakeO2()
    cert = fake.issue_client("42", tmp_path, "pw")
    ctx = client_context(cert.read_bytes(), "pw", ca_file=str(fake.ca_file(tmp_path)))
    with fake.running():
        async with httpx.AsyncClient(verify=ctx) as c:
            form = {"action": "send", "baID": "42", "toNumber": "+420777123456", "text": "x"}
            r = await c.post(fake.url, data=form | {"multipart": "1", "deliveryReport": ""})
            assert r.status_code == 200 and "ISUC_001" in r.text
            r = await c.get(fake.url, params=form | {"multipart": "maybe"})
            assert r.status_code == 400 and "FORMAT_ERROR" in r.text
            r = await c.get(fake.url, params={"action": "receive", "baID": "42"})
            assert r.status_code == 200 and r.text == ""  # no report was asked for
