"""The agents page: what a technician checks first. Each agent online or not, its lines,
and for each line what the agent last reported (modem signal, registration, operator,
SIM, storage; the agent's outbox for the line; the last error). Fields this page does not
know by name are listed too, so new ones in LineStatus or AgentOut show up unasked."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ..api import agents as api_agents
from ..api.agents import overview
from ..api.auth import ServerDep
from ..api.errors import forbidden
from ..api.schemas import AgentOut
from ..i18n.catalogue import N_
from ..i18n.codes import said
from ..runtime import Server
from .modem_care import CARE_FIELDS, care_view
from .render import page
from .session import UserDep, WebUser, form_of

REFRESH_SECONDS = 5
# Shown in their own places on the page; everything else goes to "other".
AGENT_FIELDS = {
    "name",
    "online",
    "lines",
    "queue_depth",
    "last_seen_at",
    "line_status",
    "line_load",
}
LINE_FIELDS = {"type", "line", "up", "at", "detail", "modem", "queue", "last_error"} | CARE_FIELDS
MODEM_FIELDS = {
    "manufacturer",
    "model",
    "firmware",
    "imei",
    "imsi",
    "sim",
    "registration",
    "operator",
    "signal_dbm",
    "signal_bars",
    "smsc",
    "storage_used",
    "storage_total",
}


def _label(key: str) -> str:
    return key.replace("_", " ")


def _others(data: dict[str, Any], known: set[str]) -> list[tuple[str, str]]:
    return [(_label(k), _text(v)) for k, v in data.items() if k not in known and v is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return msgspec.json.encode(value).decode()
    return str(value)


def view(agent: AgentOut) -> dict[str, Any]:
    """An agent as the template shows it: the known fields, and the rest as label/value."""
    data = msgspec.to_builtins(agent)
    loads = {load.line: load for load in agent.line_load}
    lines = []
    for status in data.get("line_status", []):
        # A spool line reports no modem: every field None, so the template's checks hold.
        modem = dict.fromkeys(MODEM_FIELDS) | (status.get("modem") or {})
        lines.append(
            {
                "status": status,
                "modem": modem,
                "load": loads.get(status["line"]),
                "care": care_view(status),
                "other": _others(status, LINE_FIELDS) + _others(modem, MODEM_FIELDS),
            }
        )
    reported = {line["status"]["line"] for line in lines}
    return {
        "agent": agent,
        "lines": lines,
        "silent": [name for name in agent.lines if name not in reported],
        "silent_load": {name: loads.get(name) for name in agent.lines if name not in reported},
        "other": _others(data, AGENT_FIELDS),
    }


async def _views(server: Server, user: WebUser) -> list[dict[str, Any]]:
    if not user.caller.is_admin:
        raise forbidden(f"user {user.caller.name!r} is not an admin: the agents page is theirs")
    return [view(a) for a in await overview(server)]


REMOVED = N_("Agent %(name)s is removed; its token no longer works.")


@get("/agents")
async def agents_page(
    server: ServerDep, user: UserDep, removed: FromQuery[str | None] = None
) -> Template:
    views = await _views(server, user)
    done = said(REMOVED, name=removed) if removed else None
    return page("agents.html", user, agents=views, refresh=REFRESH_SECONDS, done=done)


@post("/agents/{name:str}/token")
async def new_token(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], name: FromPath[str]
) -> Template:
    await form_of(request, user)
    created = await api_agents.rotate_token(server, user.caller, name)
    views = await _views(server, user)
    return page("agents.html", user, agents=views, refresh=REFRESH_SECONDS, created=created)


@post("/agents/{name:str}/delete")
async def delete_agent(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], name: FromPath[str]
) -> Redirect:
    await form_of(request, user)
    await api_agents.remove(server, user.caller, name)
    return Redirect("/agents", query_params={"removed": name}, status_code=303)


@get("/agents/body")
async def agents_body(server: ServerDep, user: UserDep) -> Template:
    views = await _views(server, user)
    return page("agents_body.html", user, agents=views, refresh=REFRESH_SECONDS)
