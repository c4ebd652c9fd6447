"""The web pages without a browser: login, CSRF, rights, validation errors beside their
line. (tests/browser drives the same pages in real Chromium.)"""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import ADMIN_TOKEN, Api

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def login(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    return await client.post("/login", data={"_csrf": csrf_of(page.text), **fields})


@pytest.fixture
async def admin(api: Api) -> httpx.AsyncClient:
    client = api.client
    r = await login(client, token=ADMIN_TOKEN)
    assert r.status_code == 303 and r.headers["location"] == "/"
    return client


async def form_csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


async def test_pages_need_a_login_and_send_you_back_after_it(api: Api):
    r = await api.client.get("/messages?account=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fmessages%3Faccount%3D1"


async def test_a_wrong_password_or_token_is_refused_with_one_message(api: Api):
    await api.user("clerk", "send")
    r = await api.client.put(
        "/api/users/clerk/password",
        json={"password": "correct horse"},
        headers=api.auth(ADMIN_TOKEN),
    )
    assert r.status_code == 204
    bad = await login(api.client, name="clerk", password="wrong horse")
    assert bad.status_code == 401
    assert "Unknown user or wrong password" in bad.text
    nobody = await login(api.client, name="nobody", password="correct horse")
    assert nobody.status_code == 401
    token = await login(api.client, token="sbu_not-a-token")
    assert token.status_code == 401
    assert (await api.client.get("/")).status_code == 303  # still not logged in
    good = await login(api.client, name="clerk", password="correct horse")
    assert good.status_code == 303
    assert "clerk" in (await api.client.get("/")).text


async def test_a_password_is_set_by_an_admin_only_and_must_be_long_enough(api: Api):
    clerk = await api.user("clerk", "send")
    short = await api.client.put(
        "/api/users/clerk/password", json={"password": "short"}, headers=api.auth(ADMIN_TOKEN)
    )
    assert short.status_code == 422 and short.json()["error"] == "weak_password"
    own = await api.client.put(
        "/api/users/clerk/password", json={"password": "long enough"}, headers=api.auth(clerk)
    )
    assert own.status_code == 403
    missing = await api.client.put(
        "/api/users/nobody/password",
        json={"password": "long enough"},
        headers=api.auth(ADMIN_TOKEN),
    )
    assert missing.status_code == 404


async def test_the_session_cookie_is_httponly_and_samesite_lax(api: Api):
    page = await api.client.get("/login")
    header = page.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header
    # and no other site may frame the pages (a delete button under someone else's page)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_a_form_without_the_sessions_csrf_token_is_refused(admin: httpx.AsyncClient):
    body = {"name": "x", "gateway": "url", "config": "url = https://a.example/?t=[PHONE]&m=[MSG]"}
    r = await admin.post("/accounts/new", data=body)
    assert r.status_code == 403
    r = await admin.post("/accounts/new", data={**body, "_csrf": "forged"})
    assert r.status_code == 403
    assert "x" not in [
        a["name"]
        for a in (
            await admin.get("/api/accounts", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        ).json()
    ]


async def test_login_itself_needs_the_login_pages_token(api: Api):
    r = await api.client.post("/login", data={"token": ADMIN_TOKEN})
    assert r.status_code == 403


async def test_a_bad_configuration_line_is_marked_with_its_own_error(admin: httpx.AsyncClient):
    csrf = await form_csrf(admin, "/accounts/new")
    config = "url = https://a.example/send\n# a comment\nspeed = fast"
    r = await admin.post(
        "/accounts/new",
        data={
            "_csrf": csrf,
            "name": "Web",
            "gateway": "url",
            "config": config,
            "sharing": "private",
        },
    )
    assert r.status_code == 422
    html = r.text
    line1 = re.search(r'data-line="1">(.*?)</li>', html, re.S).group(1)
    line2 = re.search(r'data-line="2">(.*?)</li>', html, re.S).group(1)
    line3 = re.search(r'data-line="3">(.*?)</li>', html, re.S).group(1)
    assert "line 1: &#39;url&#39; must contain [PHONE] and [MSG]" in line1
    assert "line-error" not in line2
    assert "line 3: unknown key &#39;speed&#39;" in line3
    assert "Web" in html  # what was typed is kept


async def test_field_errors_sit_next_to_their_field(admin: httpx.AsyncClient, api: Api):
    await api.account(name="Taken")
    csrf = await form_csrf(admin, "/accounts/new")
    base = {
        "_csrf": csrf,
        "gateway": "url",
        "sharing": "private",
        "config": "url = https://a.example/?to=[PHONE]&m=[MSG]",
    }
    r = await admin.post("/accounts/new", data={**base, "name": "Taken"})
    assert r.status_code == 409
    assert 'id="name-error"' in r.text and "already exists" in r.text
    r = await admin.post("/accounts/new", data={**base, "name": "New", "phone": "+420 12"})
    assert r.status_code == 422 and 'id="phone-error"' in r.text
    r = await admin.post("/accounts/new", data={**base, "name": ""})
    assert r.status_code == 422 and 'id="name-error"' in r.text


async def test_create_edit_default_and_delete_through_the_pages(admin: httpx.AsyncClient, api: Api):
    csrf = await form_csrf(admin, "/accounts/new")
    r = await admin.post(
        "/accounts/new",
        data={
            "_csrf": csrf,
            "name": "Brana",
            "gateway": "smsbrana",
            "sharing": "all",
            "config": "login = me\npassword = s3cret\n",
            "poll_incoming": "on",
        },
    )
    assert r.status_code == 303, r.text
    (acct,) = [a for a in (await api.get("/api/accounts")).json() if a["name"] == "Brana"]
    assert acct["poll_incoming"] and acct["sharing"] == "all" and not acct["default"]
    edit = await admin.get(f"/accounts/{acct['id']}")
    assert "s3cret" not in edit.text  # a secret is never read back
    assert "<code>password</code>: set" in edit.text
    r = await admin.post(
        f"/accounts/{acct['id']}",
        data={
            "_csrf": csrf,
            "name": "Brana 2",
            "gateway": "smsbrana",
            "sharing": "all",
            "config": "login = me\npassword = (set)",
        },
    )
    assert r.status_code == 303, r.text
    r = await admin.post(f"/accounts/{acct['id']}/default", data={"_csrf": csrf})
    assert r.status_code == 303
    got = (await api.get(f"/api/accounts/{acct['id']}")).json()
    assert got["name"] == "Brana 2" and got["default"] and not got["poll_incoming"]
    confirm = await admin.get(f"/accounts/{acct['id']}/delete")
    assert "Delete Brana 2" in confirm.text
    r = await admin.post(f"/accounts/{acct['id']}/delete", data={"_csrf": csrf})
    assert r.status_code == 303
    assert (await api.get(f"/api/accounts/{acct['id']}")).status_code == 404


async def test_a_user_without_admin_right_sees_accounts_read_only(api: Api):
    await api.account(name="Shared")
    clerk = await api.user("clerk", "send", "read")
    assert (await login(api.client, token=clerk)).status_code == 303
    page = await api.client.get("/")
    assert "Shared" in page.text and "New account" not in page.text
    assert "Test SMS" in page.text
    (acct,) = [
        a for a in (await api.get("/api/accounts", token=clerk)).json() if a["name"] == "Shared"
    ]
    assert (await api.client.get(f"/accounts/{acct['id']}")).status_code == 403
    assert (await api.client.get("/accounts/new")).status_code == 403
    csrf = csrf_of(page.text)
    r = await api.client.post(f"/accounts/{acct['id']}/delete", data={"_csrf": csrf})
    assert r.status_code == 403
    r = await api.client.post(
        "/accounts/new",
        data={
            "_csrf": csrf,
            "name": "Mine",
            "gateway": "url",
            "config": "url = https://a.example/?to=[PHONE]&m=[MSG]",
        },
    )
    assert r.status_code == 403
    assert (await api.client.get("/agents")).status_code == 403
    assert (await api.get(f"/api/accounts/{acct['id']}")).status_code == 200  # not deleted


async def test_a_test_sms_is_sent_through_the_shared_send_path(admin: httpx.AsyncClient, api: Api):
    acct = await api.account(name="Loop")
    csrf = await form_csrf(admin, f"/accounts/{acct['id']}/test")
    bad = await admin.post(
        f"/accounts/{acct['id']}/test", data={"_csrf": csrf, "to": "+420 12", "text": "hi"}
    )
    assert bad.status_code == 422 and 'id="to-error"' in bad.text
    r = await admin.post(
        f"/accounts/{acct['id']}/test", data={"_csrf": csrf, "to": "+420774884138", "text": "hi"}
    )
    assert r.status_code == 303
    sent = r.headers["location"].split("sent=")[1]
    msg = (await api.get(f"/api/messages/{sent}")).json()
    assert msg["account"] == acct["id"] and msg["to"] == "+420774884138"
    rows = await admin.get(f"/messages/rows?account={acct['id']}&direction=&sent={sent}")
    assert rows.status_code == 200
    assert f'<tr data-id="{sent}" class="highlight">' in rows.text
    everything = await admin.get("/messages?account=&direction=")  # the filter form's "all"
    assert everything.status_code == 200 and f'data-id="{sent}"' in everything.text
    other = await admin.get(f"/messages?account={acct['id'] + 1}&direction=in")
    assert other.status_code == 200 and f'data-id="{sent}"' not in other.text


async def test_inbound_messages_follow_the_sharing_mode_on_the_messages_page(api: Api, server):
    from server.db.tables import Account
    from server.messages.inbound import store_inbound

    private = await api.account(name="Private", sharing="private")
    shared = await api.account(name="Shared", sharing="all")
    reader = await api.user("reader", "read")
    async with server.sessions.begin() as session:
        for acct, text in ((private, "for the owner"), (shared, "for everyone")):
            row = await session.get(Account, acct["id"])
            await store_inbound(session, row, "+420603123456", text)
    assert (await login(api.client, token=reader)).status_code == 303
    page = await api.client.get("/messages")
    assert "for everyone" in page.text
    assert "for the owner" not in page.text


async def test_the_agents_page_lists_agents_and_tolerates_unknown_fields(admin, api: Api):
    from server.api.schemas import AgentOut
    from server.web.agents import view

    await api.post("/api/agents", json={"name": "office-1"})
    page = await admin.get("/agents")
    assert 'data-agent="office-1"' in page.text and "offline" in page.text
    agent = AgentOut(name="x", online=True, lines=["GSM1"], queue_depth=0, last_seen_at=None)
    shown = view(agent)
    assert shown["silent"] == ["GSM1"] and shown["other"] == []


async def test_the_agents_page_shows_each_lines_budget_and_why_it_takes_no_jobs(
    admin, api: Api, server
):
    import datetime as dt

    from sqlalchemy import select

    from bridge import protocol as p
    from server.agents.store import save_line_status
    from server.db.tables import Agent

    await api.post("/api/agents", json={"name": "office-1"})
    config = "agent = office-1\ndevice = /dev/gsmmodem0\nbaudrate = 115200\npin = \nper_minute = 6"
    await api.account(name="GSM1", gateway="modem", config=config)
    page = await admin.get("/agents")
    assert "GSM1: no status reported yet; not taking jobs: agent offline." in page.text
    async with server.sessions.begin() as session:
        agent = (await session.execute(select(Agent))).scalar_one()
        await save_line_status(
            session, agent, p.LineStatus(line="GSM1", up=True, at=dt.datetime.now(dt.UTC))
        )
    page = await admin.get("/agents")
    assert "0 of 6 this minute" in page.text
    assert "not taking jobs" in page.text  # the agent is still not connected


async def test_changing_the_gateway_refills_only_an_untouched_configuration_box(admin):
    fresh = await admin.get("/accounts/confighelp", params={"gateway": "modem", "config": ""})
    assert "<code>device</code>" in fresh.text and "serial port" in fresh.text
    assert 'hx-swap-oob="true"' in fresh.text and "baudrate = " in fresh.text
    default = await admin.get(
        "/accounts/confighelp", params={"gateway": "url", "config": "login = \r\npassword = "}
    )
    assert 'hx-swap-oob="true"' in default.text
    typed = await admin.get(
        "/accounts/confighelp", params={"gateway": "url", "config": "login = me\npassword = "}
    )
    assert 'hx-swap-oob="true"' not in typed.text and "[PHONE]" in typed.text


async def test_a_new_password_ends_the_sessions_opened_with_the_old_one(api: Api):
    await api.user("clerk", "send")
    url = "/api/users/clerk/password"
    await api.client.put(url, json={"password": "first password"}, headers=api.auth(ADMIN_TOKEN))
    assert (await login(api.client, name="clerk", password="first password")).status_code == 303
    assert (await api.client.get("/")).status_code == 200
    await api.client.put(url, json={"password": "second password"}, headers=api.auth(ADMIN_TOKEN))
    assert (await api.client.get("/")).status_code == 303  # back to the login page


async def test_logout_needs_the_csrf_token_and_ends_the_session(admin: httpx.AsyncClient):
    csrf = await form_csrf(admin)
    assert (await admin.post("/logout", data={"_csrf": "forged"})).status_code == 403
    assert (await admin.get("/")).status_code == 200
    assert (await admin.post("/logout", data={"_csrf": csrf})).status_code == 303
    assert (await admin.get("/")).status_code == 303


async def test_the_messages_page_shows_each_part_of_a_long_message(admin, api: Api, server):
    from server.db.tables import PartReport

    r = await api.post("/api/messages", json={"to": "+420774884138", "text": "x" * 200})
    assert r.status_code == 202, r.text
    sent = r.json()
    assert sent["parts"] == 2
    async with server.sessions.begin() as session:
        session.add(PartReport(message_id=sent["id"], part=1, delivered=True, status=0))
    page = await admin.get("/messages")
    assert "parts: 1 delivered · 2 pending" in page.text


async def test_password_guessing_is_slowed_down_with_a_clear_message(api: Api):
    from server.login_throttle import FREE_FAILURES

    for _ in range(FREE_FAILURES + 1):
        r = await login(api.client, name="admin", password="wrong guess")
        assert r.status_code == 401
    r = await login(api.client, token=ADMIN_TOKEN)  # even the right token waits
    assert r.status_code == 429
    assert "Too many failed logins from this address: try again in 2 s." in r.text


async def test_agent_gateways_explain_extra_lines_pacing_and_fallback(admin):
    modem = await admin.get("/accounts/confighelp", params={"gateway": "modem", "config": ""})
    for key in ("per_minute", "per_day", "per_recipient_day", "fallback", "fallback_after"):
        assert f"<code>{key}</code>" in modem.text
    assert "line2.device" in modem.text
    web = await admin.get("/accounts/confighelp", params={"gateway": "url", "config": ""})
    assert "<code>per_minute</code>" not in web.text


def test_secrets_of_extra_lines_show_as_set_or_not_set():
    from server.web.confighelp import secret_states
    from sms.model import GatewayType

    text = "agent = a\ndevice = /dev/x\npin = (set)\nline2.agent = b\nline2.pin = \n"
    assert secret_states(GatewayType.MODEM, text) == [("pin", True), ("line2.pin", False)]


async def test_an_admin_creates_a_user_sees_the_token_once_and_sets_a_password(admin, api: Api):
    csrf = await form_csrf(admin, "/users")
    r = await admin.post(
        "/users", data={"_csrf": csrf, "name": "clerk", "right_send": "1", "right_read": "1"}
    )
    assert r.status_code == 200
    token = re.search(r"<code class=\"token\" data-token>([^<]+)</code>", r.text).group(1)
    me = await api.client.get("/api/messages", headers=api.auth(token))
    assert me.status_code == 200  # the token shown is the user's own
    listed = (await admin.get("/users")).text
    assert token not in listed  # shown once
    assert 'data-user="clerk"' in listed and "read, send" in listed

    short = await admin.post(
        "/users/clerk/password", data={"_csrf": csrf, "password": "short", "again": "short"}
    )
    assert short.status_code == 422 and "at least 8" in short.text
    differ = await admin.post(
        "/users/clerk/password",
        data={"_csrf": csrf, "password": "long enough 1", "again": "long enough 2"},
    )
    assert differ.status_code == 400 and "the two passwords differ" in differ.text
    done = await admin.post(
        "/users/clerk/password",
        data={"_csrf": csrf, "password": "long enough 1", "again": "long enough 1"},
    )
    assert done.status_code == 303
    users = (await api.get("/api/users")).json()
    assert {u["name"]: u["password"] for u in users} == {"admin": False, "clerk": True}
    api.client.cookies.clear()
    logged = await login(api.client, name="clerk", password="long enough 1")
    assert logged.status_code == 303


async def test_a_taken_or_bad_user_name_is_said_beside_the_field(admin):
    csrf = await form_csrf(admin, "/users")
    taken = await admin.post("/users", data={"_csrf": csrf, "name": "admin", "right_read": "1"})
    assert taken.status_code == 409 and "already exists" in taken.text
    bad = await admin.post("/users", data={"_csrf": csrf, "name": "no spaces please"})
    assert bad.status_code == 400 and 'id="new-name-err"' in bad.text


async def test_only_admins_see_the_users_page(api: Api):
    reader = await api.user("reader2", "read")
    assert (await login(api.client, token=reader)).status_code == 303
    assert (await api.client.get("/users")).status_code == 403
    assert 'href="/users"' not in (await api.client.get("/messages")).text
