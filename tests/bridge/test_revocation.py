"""Tokens can be taken back (issue #19, item 9): a rotated agent token stops at once and
the agent's live WebSocket is closed; a removed agent or user is gone for good; a rotated
user token stops at once. Real server, real WebSocket."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from bridge import protocol as p

from .live import LiveServer


async def connected(server: LiveServer, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
    )
    await ws.send(p.encode(p.Hello(agent="office-1")).decode())
    assert isinstance(p.decode((await ws.recv()).encode()), p.Welcome)
    return ws


async def closed_by_server(ws: websockets.ClientConnection) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def refused(server: LiveServer, token: str) -> bool:
    try:
        ws = await websockets.connect(
            server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
        )
    except websockets.InvalidStatus as exc:
        return exc.response.status_code == 403
    await ws.close()
    return False


async def test_a_rotated_agent_token_stops_at_once_and_closes_its_connection(server):
    old = (await server.api("POST", "/api/agents", json={"name": "office-1"}))["token"]
    ws = await connected(server, old)
    rotated = await server.api("POST", "/api/agents/office-1/token")
    assert rotated["name"] == "office-1" and rotated["token"] != old
    assert await closed_by_server(ws) == 4401
    assert await refused(server, old)
    ws = await connected(server, rotated["token"])  # the new one works

    await server.api("DELETE", "/api/agents/office-1")
    assert await closed_by_server(ws) == 4401
    assert await refused(server, rotated["token"])
    assert await server.api("GET", "/api/agents") == []
    r = await server.http.delete("/api/agents/office-1")
    assert r.status_code == 404


async def test_a_rotated_user_token_stops_at_once_and_a_removed_user_is_gone(server):
    old = (await server.api("POST", "/api/users", json={"name": "alice", "rights": ["read"]}))[
        "token"
    ]

    async def status(token: str) -> int:
        r = await server.http.get("/api/messages", headers={"Authorization": f"Bearer {token}"})
        return r.status_code

    assert await status(old) == 200
    new = (await server.api("POST", "/api/users/alice/token"))["token"]
    assert await status(old) == 401  # at once, not after the token cache's seconds
    assert await status(new) == 200

    # Removing a user who owns an account would make that account everyone's: refused.
    await server.api(
        "POST",
        "/api/accounts",
        json={
            "name": "Alice's",
            "gateway": "url",
            "owner": "alice",
            "config": "url = https://sms.example/send?to=[PHONE]&text=[MSG]",
        },
    )
    r = await server.http.delete("/api/users/alice")
    assert r.status_code == 409 and r.json()["error"] == "owns_accounts"
    (account,) = [a for a in await server.api("GET", "/api/accounts") if a["owner"] == "alice"]
    await server.api("DELETE", f"/api/accounts/{account['id']}")
    r = await server.http.delete("/api/users/alice")
    assert r.status_code == 204
    assert await status(new) == 401
    assert "alice" not in [u["name"] for u in await server.api("GET", "/api/users")]
    r = await server.http.delete("/api/users/admin")
    assert r.status_code == 409  # not yourself
