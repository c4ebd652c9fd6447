"""/api/messages: send, idempotency, limits, preview, read, list, paging, visibility."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from server.db.tables import Account, Message
from server.gateways.loopback import Loopback
from server.messages.inbound import store_inbound
from server.runtime import Server
from sms.model import GatewayType
from tests.server.conftest import Api, error_of

TO = "+420774884138"


async def default_account_id(api: Api) -> int:
    [account] = [a for a in (await api.get("/api/accounts")).json() if a["default"]]
    return int(account["id"])


async def count_messages(server: Server) -> int:
    async with server.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Message))).scalar())


async def test_send_is_accepted_queued_and_readable(api: Api) -> None:
    r = await api.post("/api/messages", json={"to": "774 884 138", "text": "Hello"})
    assert r.status_code == 202
    accepted = r.json()
    assert accepted == {"id": accepted["id"], "state": "queued", "parts": 1}
    got = (await api.get(f"/api/messages/{accepted['id']}")).json()
    created = dt.datetime.fromisoformat(got.pop("created_at"))
    assert created.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=1)
    assert got == {
        "id": accepted["id"],
        "direction": "out",
        "account": await default_account_id(api),
        "gateway": "smsbrana",
        "to": TO,  # normalised to E.164
        "from": None,
        "text": "Hello",
        "encoding": "gsm7",
        "parts": 1,
        "state": "queued",  # smsbrana's web gateway is not built yet: it stays queued
        "reason": None,
        "detail": None,
        "dispatched_at": None,
        "sent_at": None,
        "delivered_at": None,
        "failed_at": None,
        "part_states": [{"part": 1, "state": "pending", "status": None}],
        "line": None,
        "route": None,
        "send_at": None,
        "valid_until": None,
        "priority": "normal",
        "sender": None,
        "flash": False,
        "category": None,
    }


async def test_message_handed_to_its_gateway_moves_to_sent(api: Api, loopback: Loopback) -> None:
    account = await api.account(name="Web", config="url = https://x.cz/?a=1&n=[PHONE]&t=[MSG]")
    r = await api.post("/api/messages", json={"to": TO, "text": "Hi", "account": account["id"]})
    assert r.status_code == 202
    [job] = loopback.jobs
    assert (job.id, job.to, job.text, job.account_id) == (r.json()["id"], TO, "Hi", account["id"])
    assert job.config == {"url": "https://x.cz/?a=1&n=[PHONE]&t=[MSG]"}
    got = (await api.get(f"/api/messages/{job.id}")).json()
    assert got["state"] == "sent"
    assert got["sent_at"] is not None


async def test_the_gateway_receives_the_accounts_secrets(api: Api, server: Server) -> None:
    account = await api.account(name="Brana", gateway="smsbrana", config="login = a\npassword = pw")
    loop = Loopback()
    server.gateways.replace(GatewayType.SMSBRANA, loop)
    await api.post("/api/messages", json={"to": TO, "text": "x", "account": account["id"]})
    assert [(j.config, dict(j.secrets)) for j in loop.jobs] == [
        ({"login": "a"}, {"password": "pw"})
    ]


async def test_strip_diacritics_applies_when_the_account_says_so(api: Api) -> None:
    plain = await api.account(name="Plain")
    strip = await api.account(name="Strip", strip_diacritics=True)
    text = "Příliš žluťoučký kůň"
    r1 = await api.post("/api/messages", json={"to": TO, "text": text, "account": plain["id"]})
    r2 = await api.post("/api/messages", json={"to": TO, "text": text, "account": strip["id"]})
    m1 = (await api.get(f"/api/messages/{r1.json()['id']}")).json()
    m2 = (await api.get(f"/api/messages/{r2.json()['id']}")).json()
    assert (m1["text"], m1["encoding"]) == (text, "ucs2")
    assert (m2["text"], m2["encoding"]) == ("Prilis zlutoucky kun", "gsm7")


@pytest.mark.parametrize(
    ("text", "status", "parts"),
    [
        ("a" * 160, 202, 1),
        ("a" * 161, 202, 2),
        ("a" * 459, 202, 3),
        ("a" * 460, 422, 4),
        # An escape pair never straddles parts: 76 "€" (152 septets) fill a part of 153.
        ("€" * 228, 202, 3),
        ("€" * 229, 422, 4),
        ("ř" * 201, 202, 3),  # UCS-2: three parts of 67
        ("ř" * 202, 422, 4),
    ],
)
async def test_smsbrana_allows_three_parts(api: Api, text: str, status: int, parts: int) -> None:
    r = await api.post("/api/messages", json={"to": TO, "text": text})
    assert r.status_code == status, r.text
    if status == 202:
        assert r.json()["parts"] == parts
    else:
        assert error_of(r) == (422, "message_too_long")
        assert r.json()["detail"].startswith(f"text: needs {parts} SMS parts")
        assert r.json()["detail"].endswith("gateway smsbrana allows 3")


async def test_other_gateways_allow_long_messages(api: Api) -> None:
    account = await api.account(name="Web")
    r = await api.post(
        "/api/messages", json={"to": TO, "text": "a" * 1000, "account": account["id"]}
    )
    assert r.status_code == 202
    assert r.json()["parts"] == 7


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        ("12", "too short"),
        ("+42077488413899999", "too long"),
        ("Alza.cz", "is a sender name, not a number"),
        ("   ", "it is empty"),
    ],
)
async def test_invalid_recipient_is_unprocessable(api: Api, to: str, reason: str) -> None:
    r = await api.post("/api/messages", json={"to": to, "text": "x"})
    assert error_of(r) == (422, "invalid_number")
    assert r.json()["detail"].startswith("to: ")
    assert reason in r.json()["detail"]


async def test_short_codes_are_accepted(api: Api) -> None:
    r = await api.post("/api/messages", json={"to": "9000", "text": "STAV"})
    assert r.status_code == 202
    assert (await api.get(f"/api/messages/{r.json()['id']}")).json()["to"] == "9000"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "x"}, "to"),
        ({"to": TO}, "text"),
        ({"to": TO, "text": ""}, "text"),
        ({"to": TO, "text": "x", "account": "main"}, "account"),
        ({"to": TO, "text": "x", "priority": 1}, "priority"),
    ],
)
async def test_invalid_send_bodies_are_bad_requests(
    api: Api, body: dict[str, object], field: str
) -> None:
    r = await api.post("/api/messages", json=body)
    assert error_of(r) == (400, "invalid_request")
    assert field in r.json()["detail"]


async def test_idempotency_key_returns_the_first_result(api: Api, server: Server) -> None:
    headers = {"Idempotency-Key": "order-1"}
    body = {"to": TO, "text": "Your order shipped"}
    first = await api.post("/api/messages", json=body, headers=headers)
    again = await api.post("/api/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert await count_messages(server) == 1


async def test_concurrent_retries_with_one_key_store_one_message(api: Api, server: Server) -> None:
    headers = {"Idempotency-Key": "burst"}
    body = {"to": TO, "text": "once"}
    results = await asyncio.gather(
        *(api.post("/api/messages", json=body, headers=headers) for _ in range(8))
    )
    assert {r.status_code for r in results} == {202}
    assert len({r.json()["id"] for r in results}) == 1
    assert await count_messages(server) == 1


async def test_idempotency_key_reused_for_another_message_is_a_conflict(api: Api) -> None:
    headers = {"Idempotency-Key": "k"}
    await api.post("/api/messages", json={"to": TO, "text": "one"}, headers=headers)
    r = await api.post("/api/messages", json={"to": TO, "text": "two"}, headers=headers)
    assert error_of(r) == (409, "idempotency_conflict")


async def test_idempotency_keys_belong_to_their_user(api: Api, server: Server) -> None:
    other = await api.user("alice", "send")
    headers = {"Idempotency-Key": "same"}
    body = {"to": TO, "text": "hi"}
    a = await api.post("/api/messages", json=body, headers=headers)
    b = await api.post("/api/messages", token=other, json=body, headers=headers)
    assert a.json()["id"] != b.json()["id"]
    assert await count_messages(server) == 2


async def test_sending_needs_the_send_right(api: Api) -> None:
    reader = await api.user("reader", "read")
    r = await api.post("/api/messages", token=reader, json={"to": TO, "text": "x"})
    assert error_of(r) == (403, "forbidden")


async def test_an_owned_account_sends_only_for_its_owner(api: Api) -> None:
    alice = await api.user("alice", "send")
    bob = await api.user("bob", "send")
    account = await api.account(name="Alice's", owner="alice")
    body = {"to": TO, "text": "x", "account": account["id"]}
    assert (await api.post("/api/messages", token=alice, json=body)).status_code == 202
    r = await api.post("/api/messages", token=bob, json=body)
    # The same answer as for an account that does not exist: its owner is not named.
    assert error_of(r) == (422, "unknown_account")
    assert "alice" not in r.json()["detail"]
    r = await api.post("/api/messages", json=body)  # not even an admin
    assert error_of(r) == (422, "unknown_account")


async def test_unknown_account_is_unprocessable(api: Api) -> None:
    r = await api.post("/api/messages", json={"to": TO, "text": "x", "account": 424242})
    assert error_of(r) == (422, "unknown_account")


async def test_without_a_usable_default_the_caller_must_name_an_account(api: Api) -> None:
    await api.user("alice", "send")
    bob = await api.user("bob", "send")
    await api.account(name="Alice's", owner="alice", default=True)
    r = await api.post("/api/messages", token=bob, json={"to": TO, "text": "x"})
    assert error_of(r) == (422, "no_account")


async def test_preview_shows_the_cost_of_diacritics_without_sending(
    api: Api, server: Server
) -> None:
    r = await api.post("/api/messages/preview", json={"text": "Žluťoučký kůň €", "to": "774884138"})
    assert r.status_code == 200
    assert r.json() == {
        "to": TO,
        "account": await default_account_id(api),
        "text": "Žluťoučký kůň €",
        "encoding": "ucs2",
        "parts": 1,
        "units": 15,
        "max_parts": 3,
        "fits": True,
        "ucs2_chars": ["Ž", "ť", "č", "ý", "ů", "ň"],
    }
    assert await count_messages(server) == 0


async def test_preview_applies_the_accounts_strip_diacritics(api: Api) -> None:
    account = await api.account(name="Strip", strip_diacritics=True)
    body = {"text": "Žluťoučký " * 20, "account": account["id"]}
    got = (await api.post("/api/messages/preview", json=body)).json()
    assert (got["text"], got["encoding"], got["parts"], got["ucs2_chars"]) == (
        "Zlutoucky " * 20,
        "gsm7",
        2,
        [],
    )
    assert got["max_parts"] == 255


async def test_preview_says_when_a_text_does_not_fit(api: Api) -> None:
    got = (await api.post("/api/messages/preview", json={"text": "ř" * 202})).json()
    assert (got["parts"], got["fits"]) == (4, False)


async def test_preview_refuses_a_bad_number(api: Api) -> None:
    r = await api.post("/api/messages/preview", json={"text": "x", "to": "12"})
    assert error_of(r) == (422, "invalid_number")


async def test_unknown_message_is_not_found(api: Api) -> None:
    assert error_of(await api.get("/api/messages/doesnotexist")) == (404, "not_found")


async def test_users_read_only_their_own_outbound_messages(api: Api) -> None:
    alice = await api.user("alice", "send", "read")
    bob = await api.user("bob", "send", "read")
    mine = (await api.post("/api/messages", token=alice, json={"to": TO, "text": "a"})).json()
    assert (await api.get(f"/api/messages/{mine['id']}", token=alice)).status_code == 200
    assert error_of(await api.get(f"/api/messages/{mine['id']}", token=bob)) == (404, "not_found")
    assert (await api.get(f"/api/messages/{mine['id']}")).status_code == 200  # admin
    assert (await api.get("/api/messages", token=bob)).json()["messages"] == []


async def test_list_filters_by_direction_account_state_and_since(api: Api, server: Server) -> None:
    web = await api.account(name="Web", sharing="all")
    brana = await default_account_id(api)
    sent = (
        await api.post("/api/messages", json={"to": TO, "text": "1", "account": web["id"]})
    ).json()
    queued = (await api.post("/api/messages", json={"to": TO, "text": "2"})).json()
    async with server.sessions.begin() as session:
        account = await session.get(Account, web["id"])
        assert account is not None
        inbound = await store_inbound(session, account, "+420601111222", "reply")

    async def ids(query: str) -> list[str]:
        r = await api.get(f"/api/messages{query}")
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["messages"]]

    assert await ids("") == [sent["id"], queued["id"], inbound.id]
    assert await ids("?direction=out") == [sent["id"], queued["id"]]
    assert await ids("?direction=in") == [inbound.id]
    assert await ids(f"?account={brana}") == [queued["id"]]
    assert await ids("?state=sent") == [sent["id"]]
    assert await ids("?state=received") == [inbound.id]
    assert await ids("?since=2000-01-01T00:00:00Z") == [sent["id"], queued["id"], inbound.id]
    assert await ids("?since=2999-01-01T00:00:00%2B02:00") == []
    got = (await api.get(f"/api/messages/{inbound.id}")).json()
    assert (got["from"], got["to"], got["direction"]) == ("+420601111222", None, "in")


async def test_list_pages_with_next(api: Api) -> None:
    ids = [
        (await api.post("/api/messages", json={"to": TO, "text": str(i)})).json()["id"]
        for i in range(5)
    ]
    seen: list[str] = []
    query = "?limit=2"
    pages = 0
    while True:
        page = (await api.get(f"/api/messages{query}")).json()
        pages += 1
        seen += [m["id"] for m in page["messages"]]
        if page["next"] is None:
            break
        query = f"?limit=2&after={page['next']}"
    assert seen == ids
    assert pages == 3


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=1001", "?after=abc", "?state=lost", "?since=yesterday"]
)
async def test_bad_list_parameters_are_bad_requests(api: Api, query: str) -> None:
    assert error_of(await api.get(f"/api/messages{query}")) == (400, "invalid_request")


async def test_a_failing_gateway_leaves_the_message_queued(api: Api, server: Server) -> None:
    class Broken:
        async def hand_off(self, jobs: list[object]) -> None:
            raise RuntimeError("gateway down")

    server.gateways.replace(GatewayType.SMSBRANA, Broken())
    r = await api.post("/api/messages", json={"to": TO, "text": "x"})
    assert r.status_code == 202
    assert (await api.get(f"/api/messages/{r.json()['id']}")).json()["state"] == "queued"


@pytest.mark.parametrize(("to", "status"), [("٠)０3", 422), ("７７４ ８８４ １３８", 202)])
async def test_numbers_in_other_scripts_digits_are_read_not_crashed_on(
    api: Api, to: str, status: int
) -> None:
    r = await api.post("/api/messages", json={"to": to, "text": "x"})
    assert r.status_code == status, r.text
    if status == 202:
        assert (await api.get(f"/api/messages/{r.json()['id']}")).json()["to"] == TO


async def test_messages_outlive_their_deleted_account(api: Api) -> None:
    account = await api.account(name="Gone")
    body = {"to": TO, "text": "x", "account": account["id"]}
    sent = (await api.post("/api/messages", json=body)).json()
    assert (await api.delete(f"/api/accounts/{account['id']}")).status_code == 204
    got = (await api.get(f"/api/messages/{sent['id']}")).json()
    assert (got["account"], got["gateway"], got["state"]) == (None, "url", "sent")
    r = await api.post("/api/messages", json=body)  # the cache forgot it too
    assert error_of(r) == (422, "unknown_account")


async def test_preview_with_someone_elses_account_is_refused_as_unknown(api: Api) -> None:
    await api.user("alice", "send")
    bob = await api.user("bob", "send")
    account = await api.account(name="Alice's", owner="alice")
    r = await api.post(
        "/api/messages/preview", token=bob, json={"text": "x", "account": account["id"]}
    )
    assert error_of(r) == (422, "unknown_account")
