"""/api/users and authentication: tokens, rights, errors."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from server.db.tables import User
from server.runtime import Server
from tests.server.conftest import ADMIN_TOKEN, Api, error_of


async def test_admin_from_first_start_is_listed_with_all_rights(api: Api) -> None:
    r = await api.get("/api/users")
    assert r.status_code == 200
    assert r.json() == [{"name": "admin", "rights": ["admin", "read", "send"], "password": False}]


async def test_created_user_gets_a_token_once_and_can_use_it(api: Api) -> None:
    r = await api.post("/api/users", json={"name": "alice", "rights": ["send", "read", "send"]})
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "alice"
    assert body["rights"] == ["read", "send"]  # sorted, duplicates gone
    assert body["token"].startswith("sbu_") and len(body["token"]) > 40
    assert (await api.get("/api/accounts", token=body["token"])).status_code == 200
    listed = (await api.get("/api/users")).json()
    assert {"name": "alice", "rights": ["read", "send"], "password": False} in listed
    assert all("token" not in u for u in listed)


async def test_tokens_are_stored_only_as_sha256(api: Api, server: Server) -> None:
    token = await api.user("bob", "read")
    async with server.sessions() as session:
        stored = (await session.execute(select(User.token_hash).where(User.name == "bob"))).scalar()
        admin = (
            await session.execute(select(User.token_hash).where(User.name == "admin"))
        ).scalar()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert admin == hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()


async def test_duplicate_user_name_is_a_conflict(api: Api) -> None:
    await api.user("carol", "read")
    r = await api.post("/api/users", json={"name": "carol", "rights": []})
    assert error_of(r) == (409, "name_taken")


async def test_only_admins_manage_users(api: Api) -> None:
    token = await api.user("dave", "send", "read")
    assert error_of(await api.get("/api/users", token=token)) == (403, "forbidden")
    r = await api.post("/api/users", token=token, json={"name": "eve", "rights": ["admin"]})
    assert error_of(r) == (403, "forbidden")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "send 'Authorization: Bearer <token>'"),
        ({"Authorization": "Bearer nope"}, "unknown token"),
        ({"Authorization": f"Basic {ADMIN_TOKEN}"}, "the Authorization header must be"),
        ({"Authorization": "Bearer "}, "the Authorization header must be"),
    ],
)
async def test_requests_without_a_valid_token_are_unauthorized(
    api: Api, headers: dict[str, str], detail: str
) -> None:
    r = await api.get("/api/users", token=None, headers=headers)
    assert error_of(r) == (401, "unauthorized")
    assert r.json()["detail"].startswith(detail)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "frank", "rights": ["root"]}, "rights"),
        ({"name": "has space", "rights": []}, "name"),
        ({"name": "", "rights": []}, "name"),
        ({"rights": ["read"]}, "name"),
        ({"name": "gina", "rights": ["read"], "extra": 1}, "extra"),
    ],
)
async def test_invalid_user_bodies_are_bad_requests_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    r = await api.post("/api/users", json=body)
    assert error_of(r) == (400, "invalid_request")
    assert field in r.json()["detail"]


async def test_malformed_json_is_a_bad_request(api: Api) -> None:
    r = await api.post(
        "/api/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error_of(r) == (400, "invalid_request")
