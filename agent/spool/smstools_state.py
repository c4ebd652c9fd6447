"""Durable bookkeeping of the smstools3 line, and the atomic writes into smsd's spool.

Order of a submit, so that a crash at any point leaves a state the next start can
finish (nothing lost, nothing sent twice):

1. stage: write `outgoing/.smsbridge-NAME.tmp` and fsync (smsd skips dotfiles);
2. remember: write `state/pending/NAME.json` (job id, number, report wanted);
3. publish: rename the staged file to `outgoing/NAME` (same directory, so atomic).

At start, a pending marker whose staged file still exists means step 3 did not
happen: it is done then. A staged file without a marker is removed (the job was
never acknowledged, the bridge offers it again).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

import msgspec

STAGE_PREFIX = ".smsbridge-"
STAGE_SUFFIX = ".tmp"


class PendingJob(msgspec.Struct, frozen=True, kw_only=True):
    """A job written to `outgoing/` whose sent/failed file has not been seen yet."""

    job_id: str
    name: str
    to: str
    report: bool
    submitted: float  # unix time


class AwaitingReport(msgspec.Struct, frozen=True, kw_only=True):
    """A sent job that asked for a status report: matched by (number, TP-MR)."""

    job_id: str
    name: str
    to: str
    message_refs: tuple[int, ...]
    sent: float


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staged_path(outgoing: Path, name: str) -> Path:
    return outgoing / f"{STAGE_PREFIX}{name}{STAGE_SUFFIX}"


def stage(outgoing: Path, name: str, data: bytes) -> Path:
    """Write the file under a name smsd ignores. Mode 0660 and the spool's group, so
    smsd (user `smsd` on Debian) can rewrite and move it (§1.1)."""
    path = staged_path(outgoing, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660)
    try:
        os.write(fd, data)
        os.fsync(fd)
        os.fchmod(fd, 0o660)  # the umask may have removed group write
        with contextlib.suppress(PermissionError):
            group = os.stat(outgoing).st_gid
            if os.fstat(fd).st_gid != group:
                os.fchown(fd, -1, group)
    finally:
        os.close(fd)
    return path


def publish(outgoing: Path, name: str) -> None:
    os.rename(staged_path(outgoing, name), outgoing / name)
    _fsync_dir(outgoing)


class LineState:
    """Pending jobs and awaited reports, one small JSON file each under `state_dir`."""

    def __init__(self, state_dir: Path) -> None:
        self.pending_dir = state_dir / "pending"
        self.reports_dir = state_dir / "reports"
        self.malformed_dir = state_dir / "malformed"
        # Files reported but not removable (Debian's spool is sticky, drwxrwsr-t smsd:
        # only smsd or root may remove smsd's files): never reported twice.
        self.consumed_dir = state_dir / "consumed"
        for d in (self.pending_dir, self.reports_dir, self.malformed_dir, self.consumed_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.pending: dict[str, PendingJob] = {}  # by file name
        self.awaiting: dict[tuple[str, int], AwaitingReport] = {}  # by (number, TP-MR)
        self._load()

    def _load(self) -> None:
        for path in self.pending_dir.glob("*.json"):
            job = msgspec.json.decode(path.read_bytes(), type=PendingJob)
            self.pending[job.name] = job
        for path in self.reports_dir.glob("*.json"):
            rec = msgspec.json.decode(path.read_bytes(), type=AwaitingReport)
            for ref in rec.message_refs:
                self.awaiting[(rec.to, ref)] = rec

    def job_by_id(self, job_id: str) -> PendingJob | None:
        return next((j for j in self.pending.values() if j.job_id == job_id), None)

    def add_pending(self, job: PendingJob) -> None:
        _write_atomic(self.pending_dir / f"{job.name}.json", msgspec.json.encode(job))
        self.pending[job.name] = job

    def drop_pending(self, name: str) -> None:
        self.pending.pop(name, None)
        (self.pending_dir / f"{name}.json").unlink(missing_ok=True)

    def add_awaiting(self, rec: AwaitingReport) -> None:
        _write_atomic(self.reports_dir / f"{rec.name}.json", msgspec.json.encode(rec))
        for ref in rec.message_refs:
            self.awaiting[(rec.to, ref)] = rec

    def drop_awaiting(self, rec: AwaitingReport) -> None:
        for ref in rec.message_refs:
            self.awaiting.pop((rec.to, ref), None)
        (self.reports_dir / f"{rec.name}.json").unlink(missing_ok=True)

    def forget_older_than(self, seconds: float) -> None:
        """Reports that never came (and jobs whose outcome smsd deleted) must not pile
        up forever."""
        limit = time.time() - seconds
        for job in [j for j in self.pending.values() if j.submitted < limit]:
            self.drop_pending(job.name)
        for rec in {id(r): r for r in self.awaiting.values() if r.sent < limit}.values():
            self.drop_awaiting(rec)

    def recover_staged(self, outgoing: Path) -> None:
        """Finish or undo a submit that a crash interrupted (see the module doc)."""
        for path in outgoing.glob(f"{STAGE_PREFIX}*{STAGE_SUFFIX}"):
            name = path.name[len(STAGE_PREFIX) : -len(STAGE_SUFFIX)]
            if name in self.pending:
                publish(outgoing, name)
            else:
                path.unlink(missing_ok=True)

    def is_consumed(self, name: str) -> bool:
        return (self.consumed_dir / name).exists()

    def mark_consumed(self, name: str) -> None:
        (self.consumed_dir / name).touch()

    def forget_consumed(self, still_there: set[str]) -> None:
        for marker in self.consumed_dir.iterdir():
            if marker.name not in still_there:
                marker.unlink(missing_ok=True)

    def keep_aside(self, path: Path, kind: str) -> Path:
        """Move a file we cannot read out of smsd's way, never deleting it."""
        target = self.malformed_dir / f"{kind}-{path.name}"
        n = 1
        while target.exists():
            target = self.malformed_dir / f"{kind}-{path.name}.{n}"
            n += 1
        shutil.move(path, target)
        return target
