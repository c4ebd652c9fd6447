"""The agent's side of the protocol as a state machine without I/O (h11 style).

The WebSocket shell (agent/bridge/connection.py, with Agent in runtime.py) feeds it every
text frame with `receive_data()`, carries out the actions it returns, tells it what came
of them (`job_stored`, `event`, `line_status`, `config_result`) and sends what
`data_to_send()` hands back. The shell owns the socket, the outbox and the lines.

Resume: after Welcome the session asks the shell to resend every event still in the
outbox (ResendEvents) — the server drops the ones it already stored — and the server
resends every job it has no JobAck for, which the outbox recognises by id.
"""

from __future__ import annotations

import enum

import msgspec

from . import protocol as p
from .framing import Framing


class State(enum.Enum):
    HELLO_SENT = "hello-sent"
    READY = "ready"
    CLOSED = "closed"


class StoreJob(msgspec.Struct, frozen=True):
    """Store the job durably, then call job_stored()."""

    job: p.Job


class AckEvents(msgspec.Struct, frozen=True):
    """The server has stored these events: delete them from the outbox."""

    event_ids: list[int]


class ResendEvents(msgspec.Struct, frozen=True):
    """Connected again: send every event still in the outbox, in order."""


class ApplyConfig(msgspec.Struct, frozen=True):
    push: p.ConfigPush


class KeepLines(msgspec.Struct, frozen=True):
    """Stop and forget every line not named here."""

    lines: list[str]


class Close(msgspec.Struct, frozen=True):
    """Give up on this connection (the shell reconnects unless `fatal`)."""

    reason: str
    fatal: bool = False


Action = StoreJob | AckEvents | ResendEvents | ApplyConfig | KeepLines | Close


class AgentSession(Framing[Action]):
    peer = "server"

    def __init__(self, hello: p.Hello) -> None:
        super().__init__()
        self.hello = hello
        self.state = State.HELLO_SENT
        self.welcome: p.Welcome | None = None
        self._send(hello)

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    def _give_up(self, reason: str) -> list[Action]:
        return self._close(reason)

    # --- from the server -----------------------------------------------------------

    def _receive(self, frame: p.AnyFrame) -> list[Action]:
        if self.state is State.HELLO_SENT:
            if isinstance(frame, p.Welcome):
                if frame.protocol != p.PROTOCOL_VERSION:
                    return self._close(
                        f"server speaks protocol {frame.protocol}, this agent "
                        f"{p.PROTOCOL_VERSION}: upgrade one of them",
                        fatal=True,
                    )
                self.welcome = frame
                self.state = State.READY
                return [ResendEvents()]
            if isinstance(frame, p.Error):
                fatal = frame.code in ("unauthorized", "unsupported-protocol")
                return self._close(f"server refused: {frame.code}: {frame.detail}", fatal=fatal)
            return self._unexpected(frame)
        match frame:
            case p.Job():
                return [StoreJob(frame)]
            case p.EventAck(event_ids=ids):
                return [AckEvents(ids)]
            case p.ConfigPush():
                return [ApplyConfig(frame)]
            case p.LineSet(lines=lines):
                return [KeepLines(lines)]
            case p.Ping(nonce=nonce):
                self._send(p.Pong(nonce=nonce))
                return []
            case p.Pong():
                return []
            case p.Error(code=code, detail=detail):
                # The server tells us it refused one of our frames; nothing to undo.
                return [] if code != "unauthorized" else self._close(detail, fatal=True)
            case _:
                return self._unexpected(frame)

    def _unexpected(self, frame: p.AnyFrame) -> list[Action]:
        name = type(frame).__name__
        self._send(p.Error(code="unexpected", detail=f"{name} in state {self.state.value}"))
        return []

    def _close(self, reason: str, fatal: bool = False) -> list[Action]:
        self.state = State.CLOSED
        return [Close(reason, fatal)]

    # --- from the shell ------------------------------------------------------------

    def job_stored(
        self, job_id: str, *, refused: str | None = None, detail: str | None = None
    ) -> None:
        self._send(p.JobAck(id=job_id, accepted=refused is None, reason=refused, detail=detail))

    def event(self, event: p.Event) -> bool:
        """Queue an (already stored) event; False when not connected (it waits in the
        outbox and goes out with ResendEvents)."""
        if self.state is not State.READY:
            return False
        self._send(event)
        return True

    def line_status(self, status: p.LineStatus) -> None:
        if self.state is State.READY:
            self._send(status)

    def config_result(self, line: str, applied: bool, detail: str = "") -> None:
        self._send(p.ConfigResult(line=line, applied=applied, detail=detail))

    def ping(self, nonce: int) -> None:
        self._send(p.Ping(nonce=nonce))
