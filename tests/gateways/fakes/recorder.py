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
        self.url = ""

    def handle(self, request: Request) -> Response:
        if self.gate is not None:
            self.gate.wait(10)
        with self.lock:
            self.requests.append(request)
            status, body = self.script.pop(0) if self.script else (200, "OK")
        return Response(status, body.encode())

    @contextmanager
    def running(self) -> Iterator[str]:
        with serve(self.handle) as base:
            self.url = base
            yield base
