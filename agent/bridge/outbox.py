"""The agent's durable outbox: jobs from the server and events for it, in SQLite (WAL).

The rules it keeps (DESIGN.md, "Nothing lost, nothing sent twice"):
- a job is on disk before the agent acknowledges it (`store_job` commits first);
- a job is marked handed *before* it goes to a device, and a handed job is never
  handed again, across restarts and crashes (`claim` only returns stored jobs);
- an event is on disk before it is sent, and leaves only when the server acks it;
- when the outbox or the disk is full, new jobs are refused with a reason and new
  events raise OutboxFull, so a line leaves the message where it is (on the SIM,
  in smsd's spool) instead of dropping it.

Plain sqlite3, synchronous and fast (one fsync per commit); asyncio callers run it
in a thread. One Outbox object per process; SQLite's own locking guards the file.
"""

from __future__ import annotations

import enum
import functools
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from agent.errors import AgentError
from bridge.protocol import EVENT_TYPES, ConfigPush, Event, Job

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id        TEXT PRIMARY KEY,
    line      TEXT NOT NULL,
    body      BLOB NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('stored', 'handed', 'done')),
    stored_at REAL NOT NULL,
    handed_at REAL,
    done_at   REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, line, stored_at);
CREATE TABLE IF NOT EXISTS lines (
    name    TEXT PRIMARY KEY,   -- the last configuration the server pushed, so the
    gateway TEXT NOT NULL,      -- lines run (and keep receiving) while it is away
    config  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    message_key TEXT NOT NULL,  -- line, sender, reference kind and number, total
    seq         INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    body        BLOB NOT NULL,  -- the part, msgpack
    first_seen  REAL NOT NULL,
    PRIMARY KEY (message_key, seq)
);
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: it is the event_id
    body       BLOB NOT NULL,
    created_at REAL NOT NULL
);
"""

T = TypeVar("T")
DONE_RETENTION = 14 * 86400.0  # remember finished job ids this long, to drop resends


def _serialised(method: Callable[..., T]) -> Callable[..., T]:
    """One sqlite3 connection serves the agent's threads (asyncio.to_thread): one call at a
    time, or two transactions would interleave on it."""

    @functools.wraps(method)
    def wrapper(self: Outbox, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _now(now: float | None) -> float:
    return time.time() if now is None else now


class JobState(enum.StrEnum):
    NEW = "new"  # stored now
    STORED = "stored"  # already stored, not handed yet (a resend: ack again)
    HANDED = "handed"  # already with a device (a resend: ack again, never hand twice)
    DONE = "done"


class OutboxFull(AgentError):
    """No room for more: `reason` is a machine code, str(self) says it for people."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Limits(msgspec.Struct, frozen=True):
    max_jobs: int = 10_000  # jobs stored or handed, not yet done
    max_events: int = 200_000
    min_free_bytes: int = 50 * 1024 * 1024


_event_encoder = msgspec.msgpack.Encoder()
_event_decoder = msgspec.msgpack.Decoder(Event)
_job_decoder = msgspec.msgpack.Decoder(Job)


class Outbox:
    def __init__(self, path: Path | str, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds pushed line configurations (a SIM PIN, a database password):
        # only the agent's user may read it. SQLite gives -wal/-shm the same mode.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns, so an ack never outruns the data.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    @_serialised
    def close(self) -> None:
        self._db.close()

    # --- jobs ----------------------------------------------------------------------

    def _check_room(self, table_count: int, limit: int, what: str) -> None:
        if table_count >= limit:
            raise OutboxFull(
                f"{what}-full", f"the outbox holds {table_count} {what}s (limit {limit})"
            )
        free = shutil.disk_usage(self.path.parent).free
        if free < self.limits.min_free_bytes:
            raise OutboxFull(
                "disk-full",
                f"only {free // (1024 * 1024)} MiB free on {self.path.parent} "
                f"(need {self.limits.min_free_bytes // (1024 * 1024)} MiB)",
            )

    @_serialised
    def store_job(self, job: Job, now: float | None = None) -> JobState:
        """Store a job durably. Returns NEW, or the state of a job with that id already
        known (a resend). Raises OutboxFull when there is no room."""
        row = self._db.execute("SELECT state FROM jobs WHERE id = ?", (job.id,)).fetchone()
        if row is not None:
            return JobState(row[0])
        (pending,) = self._db.execute("SELECT count(*) FROM jobs WHERE state != 'done'").fetchone()
        self._check_room(pending, self.limits.max_jobs, "job")
        self._db.execute(
            "INSERT INTO jobs (id, line, body, state, stored_at) VALUES (?, ?, ?, 'stored', ?)",
            (job.id, job.line, msgspec.msgpack.encode(job), _now(now)),
        )
        return JobState.NEW

    @_serialised
    def claim(self, line: str, now: float | None = None) -> Job | None:
        """The oldest stored job for `line`, marked handed in the same transaction.
        Call it right before giving the job to the device."""
        with self._transaction():
            row = self._db.execute(
                "SELECT id, body FROM jobs WHERE state = 'stored' AND line = ? "
                "ORDER BY stored_at, rowid LIMIT 1",
                (line,),
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE jobs SET state = 'handed', handed_at = ? WHERE id = ?",
                (_now(now), row[0]),
            )
        return _job_decoder.decode(row[1])

    @_serialised
    def handed_unfinished(self) -> list[Job]:
        """Jobs handed to a device whose outcome never got recorded: after a crash their
        fate is unknown, and they must be reported, never handed again."""
        rows = self._db.execute(
            "SELECT body FROM jobs WHERE state = 'handed' ORDER BY handed_at"
        ).fetchall()
        return [_job_decoder.decode(body) for (body,) in rows]

    @_serialised
    def finish(self, job_id: str, *events: Event, now: float | None = None) -> list[Event]:
        """Mark a job done and store its final events, atomically. Returns the events
        with their ids."""
        with self._transaction():
            self._db.execute(
                "UPDATE jobs SET state = 'done', done_at = ? WHERE id = ?",
                (_now(now), job_id),
            )
            return [self._insert_event(e, now) for e in events]

    @_serialised
    def job_counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
        return {state: n for state, n in rows}

    @_serialised
    def queued_for(self, line: str) -> int:
        (n,) = self._db.execute(
            "SELECT count(*) FROM jobs WHERE state = 'stored' AND line = ?", (line,)
        ).fetchone()
        return n

    @_serialised
    def prune(self, now: float | None = None) -> int:
        cutoff = (_now(now)) - DONE_RETENTION
        cur = self._db.execute("DELETE FROM jobs WHERE state = 'done' AND done_at < ?", (cutoff,))
        return cur.rowcount

    # --- events --------------------------------------------------------------------

    def _insert_event(self, event: Event, now: float | None) -> Event:
        body = _event_encoder.encode(event)
        cur = self._db.execute(
            "INSERT INTO events (body, created_at) VALUES (?, ?)", (body, _now(now))
        )
        return msgspec.structs.replace(event, event_id=cur.lastrowid)

    @_serialised
    def add_event(self, event: Event, now: float | None = None) -> Event:
        """Store an event durably (its event_id is assigned here) and return it.
        Raises OutboxFull: the caller must then keep the source (SIM, spool) as it is."""
        if not isinstance(event, EVENT_TYPES):
            raise TypeError(f"not an event: {type(event).__name__}")
        (count,) = self._db.execute("SELECT count(*) FROM events").fetchone()
        self._check_room(count, self.limits.max_events, "event")
        with self._transaction():
            return self._insert_event(event, now)

    @_serialised
    def pending_events(self, limit: int = 1000, after: int = 0) -> list[Event]:
        rows = self._db.execute(
            "SELECT id, body FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        ).fetchall()
        return [
            msgspec.structs.replace(_event_decoder.decode(body), event_id=rid) for rid, body in rows
        ]

    @_serialised
    def ack_events(self, event_ids: list[int]) -> int:
        with self._transaction():
            cur = self._db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in event_ids])
        return cur.rowcount

    @_serialised
    def event_count(self) -> int:
        (n,) = self._db.execute("SELECT count(*) FROM events").fetchone()
        return n

    # --- parts of concatenated incoming messages -----------------------------------
    # A device deletes a part once it is here; the whole message becomes one Received
    # event when the last part arrives (or, incomplete, when the wait runs out).

    @_serialised
    def add_part(
        self, key: str, seq: int, total: int, body: bytes, now: float | None = None
    ) -> list[bytes] | None:
        """Store one part (a repeat is ignored). Returns every part's body in sequence
        order when the set is complete, else None."""
        self._db.execute(
            "INSERT OR IGNORE INTO parts (message_key, seq, total, body, first_seen) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, seq, total, body, _now(now)),
        )
        rows = self._db.execute(
            "SELECT body FROM parts WHERE message_key = ? ORDER BY seq", (key,)
        ).fetchall()
        return [b for (b,) in rows] if len(rows) >= total else None

    @_serialised
    def complete_parts(self, key: str, event: Event, now: float | None = None) -> Event:
        """Replace a set of parts by the event of the whole message, atomically."""
        with self._transaction():
            self._db.execute("DELETE FROM parts WHERE message_key = ?", (key,))
            return self._insert_event(event, now)

    @_serialised
    def stale_parts(self, older_than: float, now: float | None = None) -> dict[str, list[bytes]]:
        cutoff = _now(now) - older_than
        keys = [
            k
            for (k,) in self._db.execute(
                "SELECT message_key FROM parts GROUP BY message_key HAVING min(first_seen) < ?",
                (cutoff,),
            )
        ]
        return {
            k: [
                b
                for (b,) in self._db.execute(
                    "SELECT body FROM parts WHERE message_key = ? ORDER BY seq", (k,)
                )
            ]
            for k in keys
        }

    @_serialised
    def requeue_handed(self, line: str) -> int:
        """Give a line's handed, unfinished jobs back (for lines whose hand-over is
        idempotent, like a spool that recognises a job id it already has)."""
        cur = self._db.execute(
            "UPDATE jobs SET state = 'stored', handed_at = NULL "
            "WHERE state = 'handed' AND line = ?",
            (line,),
        )
        return cur.rowcount

    # --- line configurations ------------------------------------------------------

    @_serialised
    def save_line(self, push: ConfigPush) -> None:
        self._db.execute(
            "INSERT INTO lines (name, gateway, config) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET gateway = excluded.gateway, config = excluded.config",
            (push.line, push.gateway, msgspec.json.encode(push.config).decode()),
        )

    @_serialised
    def forget_lines_except(self, keep: list[str]) -> None:
        with self._transaction():
            names = [n for (n,) in self._db.execute("SELECT name FROM lines")]
            for name in names:
                if name not in keep:
                    self._db.execute("DELETE FROM lines WHERE name = ?", (name,))

    @_serialised
    def saved_lines(self) -> list[ConfigPush]:
        rows = self._db.execute("SELECT name, gateway, config FROM lines ORDER BY name").fetchall()
        return [
            ConfigPush(line=name, gateway=gw, config=msgspec.json.decode(cfg))
            for name, gw, cfg in rows
        ]

    # --- plumbing ------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, ROLLBACK on error: takes the write lock up front so two
    processes never interleave a read-then-write."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
