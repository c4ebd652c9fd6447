"""smstools3 spools and SMSLib tables as bridge lines: their events become protocol
events, stored in the outbox before the spool lets go of the file or row."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from agent.bridge.lines import Emit, LineContext
from agent.modem.pdu import status_meaning
from agent.spool import events as ev
from agent.spool.smslib_line import SmslibConfig, SmslibLine
from agent.spool.smstools_line import SmstoolsConfig, SmstoolsLine
from bridge import protocol as p

log = logging.getLogger(__name__)


def _at(when: datetime | None) -> datetime:
    if when is None:
        return datetime.now(UTC)
    return when if when.tzinfo else when.astimezone()  # spools write local time


def to_protocol(event: ev.SpoolEvent) -> p.Event | None:
    """The protocol event for a spool event; None for what the server need not hear."""
    match event:
        case ev.SpoolSent():
            return p.Sent(
                event_id=0,
                job_id=event.job_id,
                at=_at(event.at),
                parts=[p.PartRef(1, event.message_ref)],
            )
        case ev.SpoolDelivered(job_id=str(job_id)):
            st = event.status if event.status is not None else 0
            meaning, delivered, final = status_meaning(st)
            return p.Delivered(
                event_id=0,
                job_id=job_id,
                at=_at(event.at),
                status=st,
                final=final,
                delivered=delivered,
                detail=meaning,
            )
        case ev.SpoolFailed(job_id=str(job_id)):
            return p.Failed(
                event_id=0,
                job_id=job_id,
                at=_at(event.at),
                reason=event.reason,
                detail=event.detail,
                code=_code(event.reason),
            )
        case ev.SpoolReceived():
            return p.Received(
                event_id=0,
                line=event.line,
                sender=event.sender,
                text=event.text if event.text is not None else f"(binary) {event.data_hex}",
                at=_at(event.sent_at or event.received_at),
                received_at=_at(event.received_at),
                complete=not event.incomplete,
            )
    return None


def _code(reason: str) -> int | None:
    m = re.search(r":(\d+)$", reason)
    return int(m.group(1)) if m else None


class SpoolLine:
    """Adapts SmstoolsLine or SmslibLine (agent/spool/events.SpoolBackend) to the bridge's Line."""

    def __init__(self, name: str, kind: str, build: object) -> None:
        self.name = name
        self.kind = kind
        self._build = build
        self._line: SmstoolsLine | SmslibLine | None = None
        self._emit: Emit | None = None
        self.problem: str | None = None

    async def start(self, ctx: LineContext) -> None:
        self._emit = ctx.emit
        self._line = self._build(self._on_event)  # type: ignore[operator]
        await self._line.start()

    async def ready(self) -> None:
        return None  # the spool takes jobs whenever it runs; smsd sends when it can

    async def _on_event(self, event: ev.SpoolEvent) -> None:
        if isinstance(event, ev.SpoolProblem):
            self.problem = event.detail + (f" (kept at {event.kept_at})" if event.kept_at else "")
            log.warning("line %s: %s", self.name, self.problem)
            return
        if isinstance(event, ev.SpoolDispatched):
            return  # send() reports it, atomically with the job
        converted = to_protocol(event)
        if converted is None:
            what = type(event).__name__
            log.info("line %s: %s for no job of ours, not forwarded", self.name, what)
            return
        assert self._emit is not None
        await self._emit(converted)  # raises OutboxFull: the spool keeps the source

    async def send(self, job: p.Job) -> list[p.Event]:
        assert self._line is not None
        if not p.is_job_id(job.id):  # both spools name files after it
            return [
                p.Failed(
                    event_id=0,
                    job_id=job.id,
                    at=datetime.now(UTC),
                    reason="refused",
                    detail=f"job id {job.id!r} is not of the form {p.JOB_ID_PATTERN}",
                )
            ]
        await self._line.submit(
            ev.SpoolJob(
                id=job.id,
                to=job.to,
                text=job.text,
                report=job.report,
                flash=job.flash,
                validity_minutes=job.validity_minutes,
            )
        )
        return [p.Dispatched(event_id=0, job_id=job.id, at=datetime.now(UTC))]

    def status(self) -> p.LineStatus:
        now = datetime.now(UTC)
        if self._line is None:
            return p.LineStatus(line=self.name, up=False, at=now, detail="not started")
        h = self._line.health()
        detail = f"{h.pending} with {'smsd' if self.kind == 'smstools' else 'SMSServer'}"
        if h.cannot_know:
            detail += "; cannot know: " + "; ".join(h.cannot_know)
        return p.LineStatus(
            line=self.name,
            up=h.running,
            at=now,
            detail=detail,
            last_error=h.last_error or self.problem,
        )

    async def close(self) -> None:
        if self._line is not None:
            await self._line.stop()


# The old layout named a line's folder after the line, as the server sent it; a name that
# could only ever be one plain folder there is moved to the new place on first start.
_PLAIN_OLD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._#+@-]{0,99}")


def line_state_dir(state_dir: Path, line: str) -> Path:
    """The line's own folder under `state_dir`: a slug of its name (for people reading the
    folder) and a hash of it (so two names never share one, whatever the server sends).
    Never a path the server's name chose: `../../x` and `/tmp/x` stay inside `lines/`."""
    slug = re.sub(r"[^a-z0-9]+", "-", line.lower()).strip("-")[:40] or "line"
    digest = hashlib.sha256(line.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    lines = state_dir / "lines"
    new = lines / f"{slug}-{digest}"
    _adopt_old_folder(lines, line, new)
    return new


def _adopt_old_folder(lines: Path, line: str, new: Path) -> None:
    if new.exists() or not _PLAIN_OLD_NAME.fullmatch(line) or line.strip(".") == "":
        return
    old = lines / line
    # Only a real folder directly in lines/ (never through a symlink) is taken over.
    if old.is_dir() and not old.is_symlink() and old.parent == lines:
        os.rename(old, new)  # same directory: atomic
        log.info("line %s: state folder %s moved to %s", line, old, new)


def _config(cls: type, push: p.ConfigPush, state_dir: Path) -> object:
    values: Mapping[str, str] = push.config
    try:
        return cls.from_account(
            {
                **values,
                "state_dir": str(line_state_dir(state_dir, push.line)),
                "poll_incoming": push.poll_incoming,
            }
        )
    except msgspec.ValidationError as exc:
        raise ValueError(f"line {push.line}: {exc}") from None


def smstools_line(push: p.ConfigPush, state_dir: Path) -> SpoolLine:
    config = _config(SmstoolsConfig, push, state_dir)
    name = push.line
    return SpoolLine(name, "smstools", lambda on_event: SmstoolsLine(name, config, on_event))


def smslib_line(push: p.ConfigPush, state_dir: Path) -> SpoolLine:
    config = _config(SmslibConfig, push, state_dir)
    name = push.line
    return SpoolLine(name, "smslib", lambda on_event: SmslibLine(name, config, on_event))
