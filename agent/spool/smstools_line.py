"""The smstools3 line: jobs become files in smsd's `outgoing/`, smsd's files in `sent/`,
`failed/`, `incoming/` (and `report/`) become events. asyncio + watchdog (inotify): no
polling loop, no CPU between files.

    line = SmstoolsLine("office-gsm", SmstoolsConfig.from_account({...}), on_event)
    await line.start()           # also handles what arrived while the agent was down
    await line.submit(job)       # durable in outgoing/ when it returns
    line.health()                # what this configuration can and cannot report

Events go to `on_event`; a file is archived (or deleted) only after the callback
returned, so an event the bridge did not store is offered again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Literal

import msgspec

from sms import gsm7

from . import smstools_codec as codec
from .account import convert_account
from .events import (
    SpoolDispatched,
    SpoolEvent,
    SpoolEventCallback,
    SpoolFailed,
    SpoolHealth,
    SpoolJob,
    SpoolProblem,
    SpoolSent,
)
from .smstools_events import digits, file_event, outcome_event
from .smstools_state import (
    AwaitingReport,
    LineState,
    PendingJob,
    publish,
    stage,
    staged_path,
)
from .smstools_watch import SpoolWatcher, ignored

log = logging.getLogger(__name__)

WEEK = 7 * 24 * 3600


class SmstoolsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The account keys (`in`, `out`, `sent`, `failed`, `modem`) plus the agent's own."""

    incoming: str = msgspec.field(name="in")
    outgoing: str = msgspec.field(name="out")
    sent: str | None = None
    failed: str | None = None
    modem: str | None = None  # written as `Queue:` (smsd 3.1 has no Modem: input header)
    # UTF-8 (smsd >= 3.1.16 picks GSM or UCS-2 itself); "auto" = ISO when the text fits
    # GSM and ISO-8859-15, else UCS2: for older smsd, which has no UTF-8 alphabet.
    alphabet: Literal["UTF-8", "UCS2", "ISO", "auto"] = "UTF-8"
    report: str | None = None  # smsd's `report` directory, when set apart from incoming
    state_dir: str
    archive: str | None = None  # default: <state_dir>/archive
    delete_incoming: bool = False  # instead of archiving
    # The account's "poll incoming messages": off, incoming SMS files stay in smsd's
    # directory for whoever else reads them; status reports for our jobs are still read.
    poll_incoming: bool = True
    datetime_format: str = codec.DEFAULT_DATETIME_FORMAT
    settle_seconds: float = 2.0  # a file that does not parse is given this long to finish
    retry_seconds: float = 5.0  # after the event callback failed
    forget_after_seconds: float = WEEK

    @classmethod
    def from_account(cls, values: dict[str, Any]) -> SmstoolsConfig:
        """Raises msgspec.ValidationError naming the key (`Expected str, got int - at
        $.out`)."""
        return convert_account(cls, values)


def _abs(path: str) -> Path:
    return Path(os.path.abspath(path))


class SmstoolsLine:
    kind = "smstools"

    def __init__(self, name: str, config: SmstoolsConfig, on_event: SpoolEventCallback) -> None:
        self.name = name
        self.config = config
        self._on_event = on_event
        self._out = _abs(config.outgoing)
        # Paths as watchdog reports them: absolute, as configured (no symlink resolving).
        self._dirs: dict[Path, str] = {_abs(config.incoming): "incoming"}
        if config.report:
            self._dirs[_abs(config.report)] = "incoming"
        if config.sent:
            self._dirs[_abs(config.sent)] = "sent"
        if config.failed:
            self._dirs[_abs(config.failed)] = "failed"
        state = Path(config.state_dir)
        self._archive = Path(config.archive) if config.archive else state / "archive"
        self._state: LineState | None = None
        self._queue: asyncio.Queue[Path] = asyncio.Queue()
        self._queued: dict[Path, bool] = {}  # path -> trusted (complete)
        self._watcher: SpoolWatcher | None = None
        self._worker: asyncio.Task[None] | None = None
        self._last_error: str | None = None
        self._submit_lock = asyncio.Lock()

    # --- the SpoolBackend interface ------------------------------------------------------------

    async def start(self) -> None:
        for d in (self._out, *self._dirs):
            if not d.is_dir():
                raise FileNotFoundError(f"smstools line {self.name}: no directory {d}")
        state = LineState(Path(self.config.state_dir))
        state.recover_staged(self._out)
        # Also prunes markers of jobs whose outcome smsd deleted (no sent/failed dir).
        state.forget_older_than(self.config.forget_after_seconds)
        self._state = state
        if not self.config.delete_incoming:
            self._archive.mkdir(parents=True, exist_ok=True)
        self._watcher = SpoolWatcher(asyncio.get_running_loop(), list(self._dirs), self._wake)
        self._watcher.start()  # before the scan: a file landing during it is not missed
        self._worker = asyncio.create_task(self._work(), name=f"smstools-{self.name}")
        # What arrived while the agent was down. In sent/ and failed/ only what may be
        # ours: those directories keep every message smsd ever sent.
        oldest = min((j.submitted for j in state.pending.values()), default=None)
        state.forget_consumed(
            {e.name for d, k in self._dirs.items() if k == "incoming" for e in os.scandir(d)}
        )
        for d, kind in self._dirs.items():
            if kind != "incoming" and oldest is None:
                continue
            for entry in sorted(os.scandir(d), key=lambda e: e.name):
                if not entry.is_file() or ignored(entry.name):
                    continue
                if (
                    kind == "incoming"
                    or entry.name in state.pending
                    or (oldest is not None and entry.stat().st_mtime >= oldest - 1)
                ):
                    self._wake(Path(entry.path), False)

    async def stop(self) -> None:
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.stop)
            self._watcher = None
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    async def idle(self) -> None:
        """Wait until every file seen so far is handled (tests, orderly shutdown)."""
        await self._queue.join()

    async def submit(self, job: SpoolJob) -> None:
        state = self._need_state()
        async with self._submit_lock:
            if state.job_by_id(job.id) is None:  # else in smsd's hands: no second file
                await self._write(state, job)
        await self._emit(SpoolDispatched(line=self.name, job_id=job.id))

    async def _write(self, state: LineState, job: SpoolJob) -> None:
        validity = None
        if job.validity_minutes is not None:
            validity = f"{max(5, job.validity_minutes)} min"
        data = codec.encode_outgoing(
            codec.Outgoing(
                to=job.to,
                text=job.text,
                job_id=job.id,
                queue=self.config.modem,
                alphabet=self._alphabet(job.text),
                report=job.report,
                flash=job.flash,
                validity=validity,
            )
        )
        # A new name per attempt: smsd stops when a name is still in its queue (§1.2).
        name = f"smsbridge-{job.id}-{time.time_ns() // 1000:x}"
        pending = PendingJob(
            job_id=job.id, name=name, to=job.to, report=job.report, submitted=time.time()
        )

        def write() -> None:
            try:
                stage(self._out, name, data)
                state.add_pending(pending)
                publish(self._out, name)
            except OSError as exc:
                if staged_path(self._out, name).exists():  # not published: undo it all
                    staged_path(self._out, name).unlink(missing_ok=True)
                    state.drop_pending(name)
                raise OSError(
                    exc.errno,
                    f"smstools line {self.name}: cannot write {name} into {self._out}: "
                    f"{exc.strerror} (the agent needs write access to smsd's outgoing "
                    "directory, e.g. membership of its group)",
                ) from exc

        await asyncio.to_thread(write)

    def _alphabet(self, text: str) -> codec.OutAlphabet:
        if self.config.alphabet != "auto":
            return self.config.alphabet
        try:
            iso = text.encode("iso-8859-15")
        except UnicodeEncodeError:
            return "UCS2"
        if not gsm7.is_gsm7(text):
            return "UCS2"
        # smsd (outgoing_utf8 = yes, its default) reads an ISO body that happens to be
        # valid UTF-8 as UTF-8: "Ä£" (C4 A3) becomes "ģ", not in GSM, so dropped (seen
        # with 3.1.21).
        try:
            iso.decode("utf-8")
        except UnicodeDecodeError:
            return "ISO"
        return "ISO" if iso.isascii() else "UCS2"

    def health(self) -> SpoolHealth:
        c = self.config
        can = ["dispatched", "received" if c.poll_incoming else "status reports"]
        cannot = []
        if not c.poll_incoming:
            cannot.append("incoming SMS: 'poll incoming' is off, smsd's files are left alone")
        if c.sent:
            can += ["sent", "delivered (status reports, when the job asks for one)"]
        else:
            cannot.append("sent and delivered: `sent` is not configured, smsd deletes sent files")
        if c.failed:
            can.append("failed, with smsd's reason")
        else:
            cannot.append("failed: `failed` is not configured, smsd deletes failed files")
        if c.modem:
            cannot.append(
                f"whether modem {c.modem} sends: it is written as 'Queue: {c.modem}', which "
                "pins the modem only if smsd.conf has a queue of that name served by it"
            )
        return SpoolHealth(
            line=self.name,
            kind=self.kind,
            running=self._worker is not None and not self._worker.done(),
            pending=len(self._state.pending) if self._state else 0,
            can_know=tuple(can),
            cannot_know=tuple(cannot),
            last_error=self._last_error,
        )

    # --- the worker -----------------------------------------------------------------------

    def _need_state(self) -> LineState:
        if self._state is None:
            raise RuntimeError(f"smstools line {self.name} is not started")
        return self._state

    def _wake(self, path: Path, trusted: bool) -> None:
        if path.parent not in self._dirs or ignored(path.name):
            return
        if path in self._queued:
            self._queued[path] |= trusted
            return
        self._queued[path] = trusted
        self._queue.put_nowait(path)

    def _later(self, delay: float, path: Path) -> None:
        asyncio.get_running_loop().call_later(delay, self._wake, path, False)

    async def _work(self) -> None:
        while True:
            path = await self._queue.get()
            trusted = self._queued.pop(path, False)
            try:
                await self._handle(path, self._dirs[path.parent], trusted)
            except Exception as exc:  # one bad file must not stop the line
                self._last_error = f"{path}: {exc}"
                log.exception("smstools line %s: %s", self.name, path)
                self._later(self.config.retry_seconds, path)
            finally:
                self._queue.task_done()

    async def _emit(self, event: SpoolEvent) -> None:
        await self._on_event(event)

    async def _handle(self, path: Path, kind: str, trusted: bool) -> None:
        if Path(f"{path}.LOCK").exists():
            return  # smsd is moving it; the lock's removal wakes us again
        try:
            stat = path.stat()
        except FileNotFoundError:
            return
        age = time.time() - stat.st_mtime
        young = age < self.config.settle_seconds
        if kind == "incoming":
            if self._need_state().is_consumed(path.name):
                return
            if young and not trusted:  # written in place: wait for close or quiet
                self._later(self.config.settle_seconds - age + 0.05, path)
                return
            await self._incoming(path, young)
        else:
            await self._outcome(path, kind)

    async def _incoming(self, path: Path, young: bool) -> None:
        data = path.read_bytes()
        try:
            parsed = codec.parse_incoming(data, datetime_format=self.config.datetime_format)
        except codec.SpoolFileError as exc:
            if young:  # maybe smsd closed it before the last write
                self._later(self.config.settle_seconds, path)
                return
            try:
                kept = self._need_state().keep_aside(path, "incoming")
            except PermissionError as exc:
                await self._cannot_remove(path, exc)
                return
            self._last_error = f"{path.name}: {exc}"
            await self._emit(
                SpoolProblem(
                    line=self.name,
                    detail=f"unreadable smsd file {path.name}: {exc}",
                    kept_at=str(kept),
                )
            )
            return
        if not self.config.poll_incoming and not isinstance(parsed, codec.StatusReportFile):
            self._need_state().mark_consumed(path.name)  # looked at once, left alone
            return
        job_id = None
        if isinstance(parsed, codec.StatusReportFile):
            rec = self._need_state().awaiting.get((digits(parsed.recipient), parsed.message_id))
            job_id = rec.job_id if rec else None
        event = file_event(self.name, path.name, parsed, job_id)
        if event is not None:
            await self._emit(event)  # raises: the file stays, _work offers it again
        if isinstance(parsed, codec.StatusReportFile) and parsed.final:
            rec = self._need_state().awaiting.get((digits(parsed.recipient), parsed.message_id))
            if rec is not None:
                self._need_state().drop_awaiting(rec)
        try:
            if self.config.delete_incoming:
                path.unlink(missing_ok=True)
            else:
                shutil.move(path, self._archive / path.name)  # copies, then fails to unlink
        except PermissionError as exc:
            await self._cannot_remove(path, exc)

    async def _cannot_remove(self, path: Path, exc: OSError) -> None:
        self._need_state().mark_consumed(path.name)
        self._last_error = f"cannot remove {path}: {exc.strerror}"
        await self._emit(
            SpoolProblem(
                line=self.name,
                detail=f"{path} was reported but cannot be removed ({exc.strerror}); "
                "smsd's spool directories are usually sticky (Debian: drwxrwsr-t smsd), so "
                "only smsd or root may remove its files: run the agent as user smsd. "
                "The file is not reported again.",
                kept_at=str(path),
            )
        )

    async def _outcome(self, path: Path, kind: str) -> None:
        state = self._need_state()
        if not state.pending:
            return  # not ours: the operator's and other programs' files stay untouched
        data = path.read_bytes()
        parse = codec.parse_sent if kind == "sent" else codec.parse_failed
        try:
            parsed = parse(data, datetime_format=self.config.datetime_format)
        except codec.SpoolFileError as exc:
            job = state.pending.get(path.name)
            if job is None:
                return
            # smsd put our file here, so the outcome is known even if the details are not.
            await self._emit(
                SpoolProblem(line=self.name, detail=f"unreadable {kind} file {path}: {exc}")
            )
            if kind == "sent":
                event: SpoolEvent = SpoolSent(
                    line=self.name, job_id=job.job_id, at=None, message_ref=None, modem=None
                )
            else:
                event = SpoolFailed(line=self.name, job_id=job.job_id, reason="unknown", detail="")
            await self._emit(event)
            state.drop_pending(job.name)
            return
        found = state.pending.get(path.name)
        if found is None and parsed.original_filename:
            found = state.pending.get(parsed.original_filename)
        if found is None and parsed.job_id:
            found = state.job_by_id(parsed.job_id)
        if found is None:
            return
        await self._emit(outcome_event(self.name, found.job_id, parsed))
        if isinstance(parsed, codec.SentFile) and found.report and parsed.message_ids:
            state.add_awaiting(
                AwaitingReport(
                    job_id=found.job_id,
                    name=found.name,
                    to=digits(found.to),
                    message_refs=parsed.message_ids,
                    sent=time.time(),
                )
            )
        state.drop_pending(found.name)
