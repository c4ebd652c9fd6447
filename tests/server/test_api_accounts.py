"""/api/accounts: every field, the one default, secrets, permissions and errors."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from server.db.tables import Account
from server.gateways.base import Registry
from server.runtime import Server, open_server
from server.settings import Settings
from tests.server.conftest import Api, Database, error_of

SMSBRANA = "login = crm\npassword = hunter2\nhash = false"


async def stored(server: Server, account_id: object) -> Account:
    async with server.sessions() as session:
        found = await session.get(Account, account_id)
    assert found is not None
    return found


async def test_first_start_creates_the_default_smsbrana_account(api: Api) -> None:
    [account] = (await api.get("/api/accounts")).json()
    assert account == {
        "id": account["id"],
        "name": "smsbrana.cz",
        "owner": None,
        "phone": "",
        "gateway": "smsbrana",
        "strip_diacritics": False,
        "config": "login = \npassword = ",
        "default": True,
        "poll_incoming": False,
        "sharing": "private",
    }


async def test_create_with_every_field_and_read_it_back(api: Api) -> None:
    await api.user("alice", "send", "read")
    body = {
        "name": "Sales",
        "owner": "alice",
        "phone": "+420774884138",
        "gateway": "smsbrana",
        "strip_diacritics": True,
        "config": SMSBRANA,
        "default": False,
        "poll_incoming": True,
        "sharing": "reply-to-sender",
    }
    r = await api.post("/api/accounts", json=body)
    assert r.status_code == 201
    created = r.json()
    expected = body | {"id": created["id"], "config": "login = crm\npassword = (set)\nhash = false"}
    assert created == expected
    assert (await api.get(f"/api/accounts/{created['id']}")).json() == expected
    assert expected in (await api.get("/api/accounts")).json()


async def test_secrets_are_sealed_in_the_database_and_never_returned(
    api: Api, server: Server
) -> None:
    created = await api.account(name="Sales", gateway="smsbrana", config=SMSBRANA)
    assert "hunter2" not in str(await api.get(f"/api/accounts/{created['id']}"))
    row = await stored(server, created["id"])
    assert "hunter2" not in row.config
    assert row.secrets is not None and b"hunter2" not in row.secrets
    assert server.box.open(row.secrets) == {"password": "hunter2"}


async def test_config_sent_back_as_shown_keeps_the_secret(api: Api, server: Server) -> None:
    created = await api.account(name="Sales", gateway="smsbrana", config=SMSBRANA)
    shown = created["config"]
    r = await api.patch(f"/api/accounts/{created['id']}", json={"config": shown + "\n# note"})
    assert r.status_code == 200
    assert r.json()["config"] == "login = crm\npassword = (set)\nhash = false\n# note"
    assert server.box.open((await stored(server, created["id"])).secrets) == {"password": "hunter2"}


async def test_a_new_secret_replaces_the_old_one(api: Api, server: Server) -> None:
    created = await api.account(name="Sales", gateway="smsbrana", config=SMSBRANA)
    r = await api.patch(
        f"/api/accounts/{created['id']}", json={"config": "login = crm\npassword = new-one"}
    )
    assert r.status_code == 200
    assert server.box.open((await stored(server, created["id"])).secrets) == {"password": "new-one"}


@pytest.mark.parametrize(
    ("gateway", "config", "detail"),
    [
        ("smsbrana", "login = a\npassword = b\nuser = c", "config: line 3: unknown key 'user'"),
        ("smsbrana", "login = a", "config: missing required key 'password'"),
        ("url", "url = https://x.cz/?to=[PHONE]", "config: line 1: 'url' must contain [PHONE]"),
        ("smsbrana", "login = a\npassword = b\nhash = nah", "config: line 3: 'hash' must be true"),
        (
            "smstools",
            "in = incoming\nout = /var/spool/sms/outgoing\nmodem = GSM1\nagent = office-1",
            "config: line 1: 'in' must be an absolute path",
        ),
        (
            "modem",
            "device = /dev/gsm0\nbaudrate = 9600\npin =\nagent = ghost",
            "config: line 4: 'agent': unknown agent 'ghost' (known: office-1;",
        ),
    ],
)
async def test_invalid_config_is_refused_naming_line_and_key(
    api: Api, gateway: str, config: str, detail: str
) -> None:
    assert (await api.post("/api/agents", json={"name": "office-1"})).status_code == 201
    r = await api.post("/api/accounts", json={"name": "x", "gateway": gateway, "config": config})
    assert error_of(r) == (422, "invalid_config")
    assert r.json()["detail"].startswith(detail)


async def test_agent_backed_account_names_a_registered_agent(api: Api) -> None:
    await api.post("/api/agents", json={"name": "office-1"})
    config = "device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1"
    created = await api.account(name="Modem", gateway="modem", config=config)
    assert created["config"] == (
        "device = /dev/gsmmodem0\nbaudrate = 115200\npin = (set)\nagent = office-1"
    )


async def test_at_most_one_account_is_the_default(api: Api) -> None:
    [first] = (await api.get("/api/accounts")).json()
    second = await api.account(name="Second", default=True)
    listed = {a["id"]: a["default"] for a in (await api.get("/api/accounts")).json()}
    assert listed == {first["id"]: False, second["id"]: True}
    r = await api.patch(f"/api/accounts/{first['id']}", json={"default": True})
    assert r.json()["default"] is True
    listed = {a["id"]: a["default"] for a in (await api.get("/api/accounts")).json()}
    assert listed == {first["id"]: True, second["id"]: False}
    r = await api.patch(f"/api/accounts/{first['id']}", json={"default": False})
    assert not any(a["default"] for a in (await api.get("/api/accounts")).json())


async def test_patch_changes_each_field_and_only_that(api: Api) -> None:
    await api.user("bob", "send")
    created = await api.account(name="Ops")
    changes: list[dict[str, object]] = [
        {"name": "Operations"},
        {"owner": "bob"},
        {"phone": "+420601123456"},
        {"strip_diacritics": True},
        {"poll_incoming": True},
        {"sharing": "all"},
        {"default": True},
        {"config": "url = https://other.example/?n=[PHONE]&m=[MSG]"},
        {"gateway": "smsbrana", "config": SMSBRANA},
        {"owner": None},
    ]
    current = created
    for change in changes:
        r = await api.patch(f"/api/accounts/{created['id']}", json=change)
        assert r.status_code == 200, r.text
        expected = current | change
        if change.get("gateway") == "smsbrana":
            expected["config"] = "login = crm\npassword = (set)\nhash = false"
        assert r.json() == expected
        current = r.json()


async def test_changing_gateway_revalidates_the_stored_config(api: Api) -> None:
    created = await api.account(name="Ops")
    r = await api.patch(f"/api/accounts/{created['id']}", json={"gateway": "smsbrana"})
    assert error_of(r) == (422, "invalid_config")
    # `url` is a key smsbrana knows too (its endpoint); login and password are what it lacks.
    assert r.json()["detail"] == (
        "config: missing required key 'login' for gateway smsbrana; "
        "missing required key 'password' for gateway smsbrana"
    )


async def test_unknown_owner_is_refused(api: Api) -> None:
    body = {"name": "x", "gateway": "smsbrana", "config": SMSBRANA, "owner": "nobody"}
    r = await api.post("/api/accounts", json=body)
    assert error_of(r) == (422, "unknown_owner")
    assert r.json()["detail"] == "owner: there is no user named 'nobody'"


async def test_duplicate_account_name_is_a_conflict(api: Api) -> None:
    await api.account(name="Twice")
    r = await api.post(
        "/api/accounts",
        json={"name": "Twice", "gateway": "url", "config": "url = http://a/[PHONE]/[MSG]"},
    )
    assert error_of(r) == (409, "name_taken")
    other = await api.account(name="Other")
    r = await api.patch(f"/api/accounts/{other['id']}", json={"name": "Twice"})
    assert error_of(r) == (409, "name_taken")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "gateway": "sms-o-matic"}, "gateway"),
        ({"name": "x", "gateway": "url", "sharing": "everyone"}, "sharing"),
        ({"name": "", "gateway": "url"}, "name"),
        ({"name": "x", "gateway": "url", "default": "yes"}, "default"),
        ({"gateway": "url"}, "name"),
        ({"name": "x", "gateway": "url", "colour": "red"}, "colour"),
    ],
)
async def test_invalid_account_bodies_are_bad_requests(
    api: Api, body: dict[str, object], field: str
) -> None:
    r = await api.post("/api/accounts", json=body)
    assert error_of(r) == (400, "invalid_request")
    assert field in r.json()["detail"]


async def test_missing_account_is_not_found(api: Api) -> None:
    assert error_of(await api.get("/api/accounts/999999")) == (404, "not_found")
    assert error_of(await api.patch("/api/accounts/999999", json={})) == (404, "not_found")
    assert error_of(await api.delete("/api/accounts/999999")) == (404, "not_found")


async def test_only_admins_create_change_and_delete_accounts(api: Api) -> None:
    token = await api.user("carol", "send", "read")
    created = await api.account(name="Shared")
    r = await api.post("/api/accounts", token=token, json={"name": "x", "gateway": "url"})
    assert error_of(r) == (403, "forbidden")
    r = await api.patch(f"/api/accounts/{created['id']}", token=token, json={"phone": "1"})
    assert error_of(r) == (403, "forbidden")
    r = await api.delete(f"/api/accounts/{created['id']}", token=token)
    assert error_of(r) == (403, "forbidden")


async def test_users_see_their_own_accounts_and_those_without_owner(api: Api) -> None:
    dave = await api.user("dave", "send")
    await api.user("erin", "send")
    shared = await api.account(name="Shared")
    mine = await api.account(name="Dave's", owner="dave")
    theirs = await api.account(name="Erin's", owner="erin")
    names = {a["name"] for a in (await api.get("/api/accounts", token=dave)).json()}
    assert names == {"smsbrana.cz", "Shared", "Dave's"}
    assert (await api.get(f"/api/accounts/{mine['id']}", token=dave)).status_code == 200
    assert (await api.get(f"/api/accounts/{shared['id']}", token=dave)).status_code == 200
    assert error_of(await api.get(f"/api/accounts/{theirs['id']}", token=dave)) == (
        404,
        "not_found",
    )


async def test_deleted_default_account_is_not_recreated_on_restart(
    api: Api, server: Server, settings: Settings, database: Database
) -> None:
    [default] = (await api.get("/api/accounts")).json()
    r = await api.delete(f"/api/accounts/{default['id']}")
    assert r.status_code == 204
    assert error_of(await api.get(f"/api/accounts/{default['id']}")) == (404, "not_found")
    engine = database.make()
    try:
        async with open_server(settings, engine=engine, gateways=Registry()) as again:
            async with again.sessions() as session:
                assert (await session.execute(select(Account))).scalars().all() == []
            assert again.new_admin_token is None
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("774 884 138", "+420774884138"),
        ("+420 774 884 138", "+420774884138"),
        ("Alza.cz", "Alza.cz"),
        ("", ""),
    ],
)
async def test_account_phone_is_normalised(api: Api, phone: str, stored: str) -> None:
    assert (await api.account(name="P", phone=phone))["phone"] == stored


async def test_account_phone_that_is_no_number_is_refused(api: Api) -> None:
    r = await api.post(
        "/api/accounts",
        json={"name": "x", "gateway": "smsbrana", "config": SMSBRANA, "phone": "12"},
    )
    assert error_of(r) == (422, "invalid_number")
    assert r.json()["detail"].startswith("phone: '12' is not a usable phone number")
    created = await api.account(name="y")
    r = await api.patch(f"/api/accounts/{created['id']}", json={"phone": "+1"})
    assert error_of(r) == (422, "invalid_number")


async def test_secrets_never_reach_the_logs(
    api: Api, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the most talkative the server gets, SQL included
    created = await api.account(name="Sales", gateway="smsbrana", config=SMSBRANA)
    await api.patch(f"/api/accounts/{created['id']}", json={"config": "login = a\npassword = b c"})
    await api.post("/api/accounts", json={"name": "x", "gateway": "modem", "config": "pin = 99x9"})
    await api.post("/api/messages", json={"to": "9000", "text": "x", "account": created["id"]})
    await api.get("/metrics", token=None)
    assert caplog.records  # something was logged, so the check below means something
    for secret in ("hunter2", "b c", "99x9"):
        assert secret not in caplog.text
