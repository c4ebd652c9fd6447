"""Inbound messages are visible according to the account's sharing mode."""

from __future__ import annotations

from server.db.tables import Account
from server.messages.inbound import store_inbound
from server.runtime import Server
from tests.server.conftest import Api, error_of

SENDER = "+420601111222"


async def receive(
    server: Server, account_id: object, text: str = "hi", sender: str = SENDER
) -> str:
    async with server.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return (await store_inbound(session, account, sender, text)).id


async def visible(api: Api, token: str, message_id: str) -> bool:
    r = await api.get(f"/api/messages/{message_id}", token=token)
    listed = [m["id"] for m in (await api.get("/api/messages", token=token)).json()["messages"]]
    assert (r.status_code == 200) == (message_id in listed)
    if r.status_code != 200:
        assert error_of(r) == (404, "not_found")
    return r.status_code == 200


async def test_private_inbound_is_for_the_owner_only(api: Api, server: Server) -> None:
    owner = await api.user("owner", "send", "read")
    other = await api.user("other", "send", "read")
    account = await api.account(name="Private", owner="owner", sharing="private")
    message = await receive(server, account["id"])
    assert await visible(api, owner, message)
    assert not await visible(api, other, message)


async def test_private_inbound_without_owner_is_for_admins_only(api: Api, server: Server) -> None:
    reader = await api.user("reader", "read")
    account = await api.account(name="Nobody's", sharing="private")
    message = await receive(server, account["id"])
    assert not await visible(api, reader, message)
    assert (await api.get(f"/api/messages/{message}")).status_code == 200


async def test_shared_inbound_is_for_every_reader(api: Api, server: Server) -> None:
    reader = await api.user("reader", "read")
    sender_only = await api.user("sender", "send")
    account = await api.account(name="Shared", owner="reader", sharing="all")
    message = await receive(server, account["id"])
    assert await visible(api, reader, message)
    assert not await visible(api, sender_only, message)  # the read right is needed


async def test_reply_to_sender_goes_to_who_last_wrote_to_that_number(
    api: Api, server: Server
) -> None:
    owner = await api.user("owner", "send", "read")
    alice = await api.user("alice", "send", "read")
    bob = await api.user("bob", "send", "read")
    account = await api.account(name="Team", sharing="reply-to-sender")
    for token in (bob, alice):  # alice writes last
        body = {"to": "601 111 222", "text": "offer", "account": account["id"]}
        assert (await api.post("/api/messages", token=token, json=body)).status_code == 202
    reply = await receive(server, account["id"], "yes please")
    assert await visible(api, alice, reply)
    assert not await visible(api, bob, reply)
    assert not await visible(api, owner, reply)


async def test_reply_to_sender_falls_back_to_the_owner(api: Api, server: Server) -> None:
    owner = await api.user("owner", "send", "read")
    alice = await api.user("alice", "send", "read")
    account = await api.account(name="Team", owner="owner", sharing="reply-to-sender")
    body = {"to": "601 111 222", "text": "offer", "account": account["id"]}
    await api.post("/api/messages", token=owner, json=body)
    stranger = await receive(server, account["id"], "who is this?", sender="+420777000111")
    assert await visible(api, owner, stranger)
    assert not await visible(api, alice, stranger)


async def test_inbound_from_a_sender_name_is_kept_as_given(api: Api, server: Server) -> None:
    account = await api.account(name="Shared", sharing="all")
    message = await receive(server, account["id"], "Vase objednavka", sender="Alza.cz")
    got = (await api.get(f"/api/messages/{message}")).json()
    assert (got["from"], got["state"], got["text"]) == ("Alza.cz", "received", "Vase objednavka")
