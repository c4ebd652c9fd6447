"""Sessions and tokens end on the server (issue #19, items 7 and 9): logging out ends
that session even for a copy of its cookie, "log out everywhere" ends all of a user's,
and the agents and users pages rotate and remove tokens."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from .conftest import ADMIN_TOKEN, Api
from .test_web_pages import csrf_of, form_csrf, login

COOKIE = "smsbridge_session"


@pytest.fixture
async def pages(api: Api) -> httpx.AsyncClient:
    assert (await login(api.client, token=ADMIN_TOKEN)).status_code == 303
    return api.client


def browser(app: Litestar, cookie: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://smsbridge.test",
        cookies={COOKIE: cookie} if cookie else None,
    )


async def test_logout_ends_the_session_even_for_a_copy_of_its_cookie(api: Api, app: Litestar):
    async with browser(app) as client:
        assert (await login(client, token=ADMIN_TOKEN)).status_code == 303
        copy = client.cookies[COOKIE]
        csrf = await form_csrf(client)
        r = await client.post("/logout", data={"_csrf": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    async with browser(app, copy) as thief:
        r = await thief.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_log_out_everywhere_ends_every_session_of_the_user(api: Api, app: Litestar):
    token = await api.user("clerk", "send")
    async with browser(app) as office, browser(app) as home, browser(app) as admin:
        for client in (office, home, admin):
            who = ADMIN_TOKEN if client is admin else token
            assert (await login(client, token=who)).status_code == 303
        assert (await home.get("/")).status_code == 200
        csrf = await form_csrf(office)
        r = await office.post("/logout", data={"_csrf": csrf, "everywhere": "1"})
        assert r.status_code == 303
        assert (await home.get("/")).status_code == 303  # the other session ended too
        assert (await admin.get("/")).status_code == 200  # another user's did not


async def test_the_pages_rotate_and_remove_agents_and_users(api: Api, pages: httpx.AsyncClient):
    admin = pages
    agent_token = (await api.post("/api/agents", json={"name": "office-1"})).json()["token"]
    await api.post(
        "/api/accounts",
        json={
            "name": "GSM1",
            "gateway": "modem",
            "config": "device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1",
        },
    )
    csrf = await form_csrf(admin, "/agents")
    r = await admin.post("/agents/office-1/token", data={"_csrf": csrf})
    assert r.status_code == 200
    assert "has a new token" in r.text and agent_token not in r.text
    r = await admin.post("/agents/office-1/delete", data={"_csrf": csrf, "confirm": "1"})
    assert r.status_code == 303
    assert "office-1 is removed" in (await admin.get(r.headers["location"])).text
    assert (await api.get("/api/agents")).json() == []
    assert "not registered" in (await admin.get("/")).text  # its account says so

    clerk = await api.user("clerk", "send")
    csrf = await form_csrf(admin, "/users")
    r = await admin.post("/users/clerk/token", data={"_csrf": csrf})
    assert r.status_code == 200 and "has a new API token" in r.text
    assert (await api.get("/api/messages", token=clerk)).status_code == 401
    new = r.text.split("data-token>")[1].split("<")[0]
    assert (await api.get("/api/messages", token=new)).status_code == 200
    r = await admin.post("/users/clerk/delete", data={"_csrf": csrf_of(r.text), "confirm": "1"})
    assert r.status_code == 303
    assert (await api.get("/api/messages", token=new)).status_code == 401
