"""Rights are checked on every route (issue #19, item 8): a user with no rights is sent,
with a valid token (API) or a logged-in session and its CSRF token (pages), against every
route in the app's route table, with bodies that would otherwise be accepted. Only the
routes meant for anyone answer 2xx; a new route must be placed in OPEN or it fails here.
And "does not exist" and "not yours" get the same answer."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from .conftest import Api
from .test_web_pages import csrf_of, login

# (method, path) a user with no rights may still use: what anyone may read, their own
# (empty) lists, logging in and out, the unauthenticated push (checked in its own tests).
OPEN = {
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("GET", "/schema"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/schema/{path:str}"),
    ("GET", "/static/{file_path:path}"),
    ("GET", "/api/accounts"),
    ("GET", "/api/messages"),
    ("GET", "/api/events"),  # the events they may see, as /api/messages (none)
    ("POST", "/api/gateways/smsbrana/push"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/"),
    ("GET", "/messages"),
    ("GET", "/messages/rows"),
    ("GET", "/accounts/confighelp"),
    # A conversation shows what visible() lets the user see, as /messages does (nothing).
    ("GET", "/conversations/{number:str}"),
    ("GET", "/conversations/{number:str}/thread"),
    ("GET", "/settings"),  # their own language and time zone
    ("GET", "/scheduled"),  # their own scheduled messages, as /messages (none)
}
REFUSED = {401, 403, 404, 405, 422}
URL_CONFIG = "url = https://sms.example/send?to=[PHONE]&text=[MSG]"


def routes(app: Litestar) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            out.append((method, route.path))
    return out


def body_for(method: str, path: str, account: int) -> dict[str, object]:
    """A body that passes validation, so that what answers is the rights check."""
    if not path.startswith("/api/"):
        return {}
    bodies: dict[tuple[str, str], dict[str, object]] = {
        ("POST", "/api/users"): {"name": "mallory2", "rights": ["admin"]},
        ("POST", "/api/agents"): {"name": "evil"},
        ("POST", "/api/webhooks"): {"url": "https://crm.example/hook", "events": ["*"]},
        ("POST", "/api/messages/batch"): {"messages": [{"to": "+420774884138", "text": "x"}]},
        ("POST", "/api/optouts"): {"number": "+420774884138"},
        ("POST", "/api/accounts"): {"name": "Evil", "gateway": "url", "config": URL_CONFIG},
        ("PATCH", "/api/accounts/{account_id:int}"): {"name": "renamed"},
        ("POST", "/api/messages"): {"to": "+420774884138", "text": "x", "account": account},
        ("POST", "/api/messages/preview"): {"text": "x", "account": account},
        ("PUT", "/api/users/{name:str}/password"): {"password": "a long enough password"},
        ("POST", "/api/accounts/{account_id:int}/test"): {"to": "+420774884138"},
    }
    return bodies.get((method, path), {})


def form_for(path: str, account: int) -> dict[str, str]:
    return {
        "name": "Evil",
        "gateway": "url",
        "config": URL_CONFIG,
        "to": "+420774884138",
        "text": "x",
        "password": "a long enough password",
        "again": "a long enough password",
        "confirm": "1",
        "right_admin": "1",
    }


def concrete(path: str, account: int, names: dict[str, str]) -> str:
    path = path.replace("{account_id:int}", str(account))
    path = path.replace("{file_path:path}", "style.css").replace("{path:str}", "swagger")
    path = path.replace("{message_id:str}", names["message"])
    return re.sub(r"\{name:str\}", names["name"], path)


async def test_a_user_with_no_rights_is_refused_on_every_route_but_the_open_ones(
    api: Api, app: Litestar
) -> None:
    nobody = await api.user("nobody")
    owner = await api.user("owner", "send", "read")
    account = (await api.account(name="Private", owner="owner"))["id"]
    shared = (await api.account(name="Shared"))["id"]  # every user with the send right
    sent = await api.post(
        "/api/messages", token=owner, json={"to": "+420774884138", "text": "x", "account": account}
    )
    names = {"name": "owner", "message": sent.json()["id"]}
    await api.post("/api/agents", json={"name": "office-1"})
    table = routes(app)
    assert len(table) > 40  # the route table, not a list of our own
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://smsbridge.test"
    ) as pages:
        assert (await login(pages, token=nobody)).status_code == 303
        csrf = csrf_of((await pages.get("/")).text)
        wrong = []
        for method, path in table:
            if (method, path) in {("POST", "/logout"), ("POST", "/login")}:
                continue  # it would end the session the rest of the loop uses
            url = concrete(path, account, names | ({"name": "office-1"} if "agent" in path else {}))
            if path.startswith(("/api/", "/metrics", "/healthz")):
                r = await api.request(
                    method,
                    url,
                    token=nobody,
                    json=body_for(method, path, shared)
                    if method in {"POST", "PUT", "PATCH"}
                    else None,
                )
            else:
                data = {"_csrf": csrf, **form_for(path, account)} if method == "POST" else None
                r = await pages.request(method, url, data=data)
            if (method, path) in OPEN:
                continue
            if r.status_code not in REFUSED:
                wrong.append(f"{method} {url} → {r.status_code}")
        assert not wrong, wrong
    # Nothing changed meanwhile.
    assert [a["name"] for a in (await api.get("/api/accounts")).json()].count("Private") == 1
    assert (await api.get("/api/messages", token=owner)).json()["messages"][0]["state"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/accounts/{id}", None),
        ("POST", "/api/messages/preview", {"text": "x", "account": "{id}"}),
        ("POST", "/api/messages", {"to": "+420774884138", "text": "x", "account": "{id}"}),
        ("GET", "/api/accounts/{id}/credit", None),
        ("POST", "/api/accounts/{id}/test", {"to": "+420774884138"}),
    ],
)
async def test_not_yours_answers_as_does_not_exist(api: Api, method, path, body) -> None:
    sender = await api.user("sender", "send", "read")
    await api.user("alice", "send")
    private = (await api.account(name="Theirs", owner="alice"))["id"]

    async def answer(account: int) -> tuple[int, str, str]:
        filled = {k: (account if v == "{id}" else v) for k, v in body.items()} if body else None
        r = await api.request(method, path.replace("{id}", str(account)), token=sender, json=filled)
        detail = r.json().get("detail", "").replace(str(account), "N")
        return r.status_code, r.json().get("error", ""), detail

    theirs, missing = await answer(private), await answer(999_999)
    assert theirs == missing
    assert "alice" not in theirs[2]  # the owner is not named
