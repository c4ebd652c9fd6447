"""The running agent answers `sms-agent status` on a local Unix socket: connect, read one
JSON document, done. Only users who can reach the socket file (mode 0660) can ask."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec


@contextlib.asynccontextmanager
async def serve_status(path: Path, snapshot: Callable[[], Any]) -> AsyncIterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left by an agent that died

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(msgspec.json.encode(snapshot()))
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_unix_server(answer, path=str(path))
    os.chmod(path, 0o660)
    try:
        yield
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def read_status(path: Path, timeout: float = 5.0) -> dict[str, Any]:
    """Ask a running agent; raises OSError (no agent there) or ValueError (bad answer)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    try:
        return msgspec.json.decode(b"".join(chunks))
    except msgspec.DecodeError as exc:
        raise ValueError(f"the agent's answer is not JSON: {exc}") from None
