"""A CRM's webhook endpoint for the tests: a real HTTP server on 127.0.0.1 (a fixed port,
so it can go down and come back where the webhook points) that checks every request's
Standard Webhooks signature with the spec's own library and answers from a script."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from standardwebhooks import Webhook, WebhookVerificationError

from tests.gateways.fakes.httpserver import DROP, Request, Response, _Http, _Server


@dataclass
class Arrival:
    webhook_id: str
    event: dict
    valid: bool
    at: float  # time.time() when it arrived
    answered: int | None  # status answered, None when dropped or too slow


# What to do with the n-th request (0-based) and its event: a status, DROP, or
# ("sleep", seconds, status).
Script = Callable[[int, dict], object]


@dataclass
class Receiver:
    secret: str = ""
    script: Script = field(default=lambda n, e: 200)
    arrivals: list[Arrival] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/smsbridge"

    def handle(self, request: Request) -> Response | object:
        try:
            event = Webhook(self.secret).verify(request.body, request.headers)
            valid = True
        except WebhookVerificationError:
            event, valid = json.loads(request.body or b"{}"), False
        with self.lock:
            n = len(self.arrivals)
            arrival = Arrival(
                request.headers.get("webhook-id", ""), event, valid, time.time(), None
            )
            self.arrivals.append(arrival)
        answer = self.script(n, event)
        if isinstance(answer, tuple) and answer[0] == "sleep":
            time.sleep(answer[1])
            answer = answer[2]
        if answer is DROP:
            return DROP
        assert isinstance(answer, int)
        arrival.answered = answer
        return Response(answer, b'{"ok": true}' if answer < 300 else b"no thanks")

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        server = _Server(self.handle, None)
        server.handle_error = lambda *_: None  # type: ignore[method-assign]  # a client that gave up
        server.server_close()  # bound to port 0 by its constructor: bind ours instead
        server.socket = socket.socket()
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.socket.bind(("127.0.0.1", self.port))
        server.socket.listen(128)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def accepted(self) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.answered is not None and a.answered < 300]

    def delivered_ids(self) -> set[str]:
        return {a.webhook_id for a in self.accepted()}


_ = _Http  # the request handler _Server uses
