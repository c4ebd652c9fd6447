"""An asyncio HTTP/1.1 server (keep-alive, Content-Length bodies, optional TLS) that runs
a test fake's handler in one event loop, for the benchmark.

The tests serve their fakes from threads (fakes/httpserver.py), which is simple and lets a
test hold an answer on a threading.Event; under 50 concurrent connections those threads
fight over the GIL and the fake, not the gateway, becomes what is measured.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from tests.gateways.fakes.httpserver import DROP, Request, Response

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Error"}


async def _serve_connection(
    handler: Callable[[Request], object],
    delay: float,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    ssl_object = writer.get_extra_info("ssl_object")
    cert = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    peer = writer.get_extra_info("peername") or ("?", 0)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            split = urlsplit(target)
            request = Request(
                method,
                split.path,
                parse_qsl(split.query, keep_blank_values=True),
                headers,
                body,
                peer[0],
                cert,
            )
            if delay:
                await asyncio.sleep(delay)
            answer = handler(request)
            if answer is DROP:
                return
            assert isinstance(answer, Response)
            writer.write(
                (
                    f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'X')}\r\n"
                    f"Content-Type: {answer.content_type}\r\n"
                    f"Content-Length: {len(answer.body)}\r\n\r\n"
                ).encode()
                + answer.body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        return
    except asyncio.CancelledError:
        return  # the bench is over
    finally:
        writer.close()


async def serve(
    handler: Callable[[Request], object], *, tls: ssl.SSLContext | None = None, delay: float = 0.0
) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(handler, delay, r, w),
        "127.0.0.1",
        0,
        ssl=tls,
        backlog=256,
    )
    port = server.sockets[0].getsockname()[1]
    return server, f"{'https' if tls else 'http'}://127.0.0.1:{port}"
