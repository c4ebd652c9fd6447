"""The server's side of the protocol as a state machine without I/O.

The endpoint (server/agents/endpoint.py) feeds it every frame, carries out the actions
(store events, record acks and line statuses) and reports back (`events_stored`),
and sends `data_to_send()`. The agent is already authenticated by its token when the
session starts; the first frame must be its Hello, naming the same agent.
"""

from __future__ import annotations

import enum

import msgspec

from bridge import protocol as p
from bridge.framing import Framing


class State(enum.Enum):
    AWAIT_HELLO = "await-hello"
    READY = "ready"
    CLOSED = "closed"


class Greeted(msgspec.Struct, frozen=True):
    """Hello accepted: call welcome(), then lines() with the agent's configurations, then
    send its queued jobs."""

    hello: p.Hello


class StoreEvents(msgspec.Struct, frozen=True):
    """Apply these events (dropping ones already applied), then call events_stored()."""

    events: list[p.Event]


class JobAcked(msgspec.Struct, frozen=True):
    ack: p.JobAck


class LineReport(msgspec.Struct, frozen=True):
    status: p.LineStatus


class ConfigApplied(msgspec.Struct, frozen=True):
    result: p.ConfigResult


class Close(msgspec.Struct, frozen=True):
    code: str
    detail: str


Action = Greeted | StoreEvents | JobAcked | LineReport | ConfigApplied | Close


class ServerSession(Framing[Action]):
    peer = "agent"

    def __init__(self, agent_name: str, server_name: str = "smsbridge") -> None:
        super().__init__()
        self.agent_name = agent_name
        self.server_name = server_name
        self.state = State.AWAIT_HELLO
        self.hello: p.Hello | None = None

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    def _give_up(self, reason: str) -> list[Action]:
        return self._close("bad-frame", reason)

    def _receive(self, frame: p.AnyFrame) -> list[Action]:
        if self.state is State.AWAIT_HELLO:
            if not isinstance(frame, p.Hello):
                return self._close("unexpected", f"expected hello, got {type(frame).__name__}")
            if frame.protocol != p.PROTOCOL_VERSION:
                self._send(
                    p.Error(
                        code="unsupported-protocol",
                        detail=f"this server speaks protocol {p.PROTOCOL_VERSION}, "
                        f"the agent {frame.protocol}",
                    )
                )
                return self._close("unsupported-protocol", "protocol mismatch")
            if frame.agent != self.agent_name:
                self._send(
                    p.Error(
                        code="unauthorized",
                        detail=f"this token belongs to agent {self.agent_name!r}, "
                        f"not {frame.agent!r} (check 'name' in agent.toml)",
                    )
                )
                return self._close("unauthorized", "name does not match the token")
            self.hello = frame
            self.state = State.READY
            return [Greeted(frame)]  # the endpoint answers with welcome()
        if isinstance(frame, p.EVENT_TYPES):
            return [StoreEvents([frame])]
        match frame:
            case p.JobAck():
                return [JobAcked(frame)]
            case p.LineStatus():
                return [LineReport(frame)]
            case p.ConfigResult():
                return [ConfigApplied(frame)]
            case p.Ping(nonce=nonce):
                self._send(p.Pong(nonce=nonce))
                return []
            case p.Pong() | p.Error():
                return []
            case _:
                self._send(
                    p.Error(code="unexpected", detail=f"{type(frame).__name__} from an agent")
                )
                return []

    def _close(self, code: str, detail: str) -> list[Action]:
        self.state = State.CLOSED
        return [Close(code, detail)]

    # --- from the endpoint -----------------------------------------------------------

    def welcome(self) -> None:
        self._send(p.Welcome(server=self.server_name))

    def lines(self, pushes: list[p.ConfigPush]) -> None:
        """The agent's whole set of lines: their names, then each configuration."""
        self._send(p.LineSet(lines=[push.line for push in pushes]))
        for push in pushes:
            self._send(push)

    def events_stored(self, event_ids: list[int]) -> None:
        if event_ids:
            self._send(p.EventAck(event_ids=event_ids))

    def job(self, job: p.Job) -> None:
        self._send(job)

    def config(self, push: p.ConfigPush) -> None:
        self._send(push)

    def ping(self, nonce: int) -> None:
        self._send(p.Ping(nonce=nonce))
