"""The conversation page without a browser: one thread per number, in and out, as the API
lets the user see it; the reply goes through the account the number last wrote to; the
live preview counts parts and shows the text without diacritics."""

from __future__ import annotations

import re

import httpx
import pytest

from server.runtime import Server

from .conftest import ADMIN_TOKEN, Api
from .test_visibility import SENDER, receive
from .test_web_pages import csrf_of, login

THREAD_IDS = re.compile(r'data-id="([^"]+)" data-direction="(in|out)"')


@pytest.fixture
async def admin(api: Api) -> httpx.AsyncClient:
    assert (await login(api.client, token=ADMIN_TOKEN)).status_code == 303
    return api.client


async def test_the_thread_holds_both_directions_oldest_first_and_the_reply_takes_the_last_account(
    api: Api, server: Server, admin
):
    first = await api.account(name="first", sharing="all")
    second = await api.account(name="second", sharing="all")
    out = await api.post(
        "/api/messages", json={"to": SENDER, "text": "Dobrý den", "account": first["id"]}
    )
    assert out.status_code == 202
    inbound = await receive(server, second["id"], "Děkuji, ozvu se")
    other = await receive(server, first["id"], "someone else", sender="+420602000111")

    page = await admin.get(f"/conversations/{SENDER}")
    assert page.status_code == 200
    ids = THREAD_IDS.findall(page.text)
    assert ids == [(out.json()["id"], "out"), (inbound, "in")]
    assert other not in page.text
    assert f'name="account" value="{second["id"]}"' in page.text

    # The messages page links the number to this page.
    listing = await admin.get("/messages")
    assert f'href="/conversations/%2B{SENDER[1:]}"' in listing.text

    r = await admin.post(
        f"/conversations/{SENDER}",
        data={"_csrf": csrf_of(page.text), "text": "Reply", "account": str(second["id"])},
    )
    assert r.status_code == 303
    sent_id = r.headers["location"].rsplit("sent=", 1)[1]
    sent = (await api.get(f"/api/messages/{sent_id}")).json()
    assert (sent["account"], sent["to"], sent["text"]) == (second["id"], SENDER, "Reply")


async def test_an_empty_or_undeliverable_reply_is_refused_beside_the_box(api: Api, admin):
    page = await admin.get("/conversations/Alza.cz")
    assert 'id="reply"' not in page.text and "A sender name, not a number" in page.text
    empty = await admin.post(
        "/conversations/Alza.cz", data={"_csrf": csrf_of(page.text), "text": " "}
    )
    assert empty.status_code == 422 and "a text is needed" in empty.text
    name = await admin.post(
        "/conversations/Alza.cz", data={"_csrf": csrf_of(page.text), "text": "hi"}
    )
    assert name.status_code == 422 and "is a sender name, not a number" in name.text


async def test_the_preview_counts_parts_and_strips_diacritics_as_the_account_would(api: Api, admin):
    account = await api.account(name="plain", strip_diacritics=True)
    page = await admin.get(f"/conversations/{SENDER}")
    csrf = csrf_of(page.text)
    r = await admin.post(
        "/conversations/preview",
        data={"_csrf": csrf, "text": "Příliš žluťoučký kůň", "account": str(account["id"])},
    )
    assert r.status_code == 200
    assert 'data-parts="1"' in r.text and "GSM 7-bit" in r.text
    assert "Prilis zlutoucky kun" in r.text
    long = await admin.post(
        "/conversations/preview",
        data={"_csrf": csrf, "text": "ř" * 71},
    )
    assert 'data-parts="2"' in long.text and "UCS-2" in long.text


async def test_a_reader_sees_only_what_the_sharing_mode_lets_them(api: Api, server: Server):
    private = await api.account(name="private", sharing="private")
    hidden = await receive(server, private["id"], "secret")
    reader = await api.user("reader", "read")
    client = api.client
    assert (await login(client, token=reader)).status_code == 303
    page = await client.get(f"/conversations/{SENDER}")
    assert page.status_code == 200 and hidden not in page.text
    assert 'id="reply"' not in page.text  # no right to send: no reply box
