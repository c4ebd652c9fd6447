"""A local HTTP server that records every request and answers from a script, for the URL
gateway: the next answers are queued (status, body), then 200 "OK" for the rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .httpserver import Request, Response, serve


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.raw_targets: list[str] = []
        self.script: list[tuple[int, str]] = []
        self.gate: threading.Event | None = None
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.url = ""

    def handle(self, request: Request) -> Response:
        if self.gate is not None:
            self.gate.wait(10)
        with self.lock:
            self.requests.append(request)
            status, body = self.script.pop(0) if self.script else (200, "OK")
            self.arrived.notify_all()
        return Response(status, body.encode())

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` requests arrived (call from a thread, not the event loop)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    @contextmanager
    def running(self) -> Iterator[str]:
        with serve(self.handle) as base:
            self.url = base
            yield base
