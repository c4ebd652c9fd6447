"""Which files in smsd's directories matter, and when: inotify (through watchdog) events
turned into "look at this path" calls on the asyncio loop. No polling.

smsd moves files into sent/ and failed/ by rename under a NAME.LOCK (its lock's removal
says "done"); it writes incoming/ and report/ files in place (IN_CLOSE_WRITE says
"done"). A created-but-not-closed file is only a hint: the line checks it later.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

Wake = Callable[[Path, bool], None]  # (path, complete)


def ignored(name: str) -> bool:
    # smsd's own temporary and private files (§1.3, §7.2) and ours.
    return (
        name.startswith((".", "LOCKED", "smsd_script."))
        or name.endswith((".LOCK", "-concatenated"))
        or not name
    )


class _Handler(FileSystemEventHandler):
    """Runs in watchdog's thread; only hands paths over to the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, wake: Wake) -> None:
        self._loop = loop
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent):
            path, trusted = os.fsdecode(event.dest_path), True
        elif isinstance(event, FileDeletedEvent):
            path = os.fsdecode(event.src_path)
            if not path.endswith(".LOCK"):
                return
            path, trusted = path[: -len(".LOCK")], True  # smsd released NAME
        elif isinstance(event, FileClosedEvent):
            path, trusted = os.fsdecode(event.src_path), True
        else:  # created: smsd may still be writing it (incoming files are written in place)
            path, trusted = os.fsdecode(event.src_path), False
        self._loop.call_soon_threadsafe(self._wake, Path(path), trusted)


class SpoolWatcher:
    """Watches directories (not recursively) and calls `wake(path, complete)` on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, dirs: list[Path], wake: Wake) -> None:
        self._observer = Observer()
        handler = _Handler(loop, wake)
        kinds = [FileClosedEvent, FileCreatedEvent, FileMovedEvent, FileDeletedEvent]
        for d in dirs:
            self._observer.schedule(handler, str(d), recursive=False, event_filter=kinds)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        """Blocks until watchdog's threads end (up to its 1 s timeout)."""
        self._observer.stop()
        self._observer.join()
