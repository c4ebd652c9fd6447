"""A GSM modem (AT driver or libgammu) as a bridge line.

Incoming parts of a concatenated SMS are kept in the outbox (so the modem may delete
them) until the message is whole; then one Received event replaces them. Status
reports become Delivered events of the job they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from agent.bridge.lines import LineContext
from agent.modem.driver import ATModem
from agent.modem.gammu_backend import GammuModem
from agent.modem.interface import (
    DeliveryReport,
    IncomingSMS,
    Modem,
    ModemConfig,
    OnMessage,
    OnReport,
    Outcome,
    SendResult,
)
from agent.modem.status import ModemStatus
from bridge import protocol as p
from sms.segment import count_parts

log = logging.getLogger(__name__)

STATUS_EVERY = 30.0
REOPEN_MIN, REOPEN_MAX = 1.0, 60.0

REGISTRATION_WORDS = {
    0: "not-registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
    6: "home",
    7: "roaming",
    8: "emergency-only",
    9: "home",
    10: "roaming",
}

_part_encoder = msgspec.msgpack.Encoder()
_part_decoder = msgspec.msgpack.Decoder(IncomingSMS)


def modem_info(st: ModemStatus) -> p.ModemInfo:
    return p.ModemInfo(
        manufacturer=st.manufacturer,
        model=st.model,
        firmware=st.firmware,
        imei=st.imei,
        imsi=st.imsi,
        sim=st.sim,
        registration=REGISTRATION_WORDS.get(st.registration)
        if st.registration is not None
        else None,
        operator=st.operator,
        signal_dbm=st.signal_dbm,
        signal_bars=st.signal_bars,
        smsc=st.smsc,
        storage_used=st.storage_used,
        storage_total=st.storage_total,
    )


def events_of(job: p.Job, result: SendResult, now: datetime) -> list[p.Event]:
    if result.outcome is Outcome.SENT:
        return [
            p.Sent(
                event_id=0,
                job_id=job.id,
                at=now,
                parts=[p.PartRef(part.part, part.mr) for part in result.parts],
            )
        ]
    sent = sum(1 for part in result.parts if part.outcome is Outcome.SENT)
    where = f" ({sent} of {len(result.parts)} parts were sent)" if sent else ""
    if result.outcome is Outcome.UNKNOWN:
        return [
            p.Failed(
                event_id=0,
                job_id=job.id,
                at=now,
                reason="outcome-unknown",
                detail=(result.error or "no answer from the modem after the message")
                + where
                + "; not resent, so it is never sent twice",
            )
        ]
    return [
        p.Failed(
            event_id=0,
            job_id=job.id,
            at=now,
            reason=result.error_class or "failed",
            detail=(result.error or "the modem refused the message") + where,
        )
    ]


MakeModem = Callable[[OnMessage, OnReport], Modem]


class ModemLine:
    idempotent = False  # a message handed to a radio may have gone out

    def __init__(self, name: str, kind: str, make_modem: MakeModem) -> None:
        self.name = name
        self.kind = kind
        self.modem = make_modem(self.on_message, self.on_report)
        self._ctx: LineContext | None = None
        self._status: ModemStatus | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._opened = asyncio.Event()
        self.last_error: str | None = None

    # --- life cycle -------------------------------------------------------------------

    async def start(self, ctx: LineContext) -> None:
        self._ctx = ctx
        if hasattr(self.modem, "on_connection"):
            # Lost or back: the server routes around a line that is down at once.
            self.modem.on_connection = lambda: ctx.status_changed(self.name)
        self._tasks = [
            asyncio.create_task(self._open_until_ready(), name=f"open {self.name}"),
            asyncio.create_task(self._watch_status(), name=f"status {self.name}"),
        ]

    async def _open_until_ready(self) -> None:
        delay = REOPEN_MIN
        while True:
            try:
                await self.modem.open()
            except Exception as exc:  # ModemError, or a port that vanished mid-open
                self.last_error = str(exc) or type(exc).__name__
                self._context().status_changed(self.name)
                if getattr(self.modem, "pin_rejected", False):
                    log.error("line %s: %s", self.name, exc)
                    return  # a person must fix the PIN; nothing enters it again
                log.warning("line %s: %s; retrying in about %.0f s", self.name, exc, delay)
                await asyncio.sleep(random.uniform(0.5 * delay, delay))
                delay = min(REOPEN_MAX, delay * 2)
                continue
            self.last_error = None
            self._opened.set()
            self._context().status_changed(self.name)
            return

    async def _watch_status(self) -> None:
        await self._opened.wait()
        while True:
            try:
                self._status = await self.modem.status()
            except Exception as exc:  # a status query must never stop the line
                log.info("line %s: status query failed: %s", self.name, exc)
            else:
                self._context().status_changed(self.name)
            await asyncio.sleep(STATUS_EVERY)

    async def ready(self) -> None:
        await self._opened.wait()
        connected = getattr(self.modem, "connected", None)
        if isinstance(connected, asyncio.Event):
            await connected.wait()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.modem.close()

    # --- jobs -------------------------------------------------------------------------

    async def send(self, job: p.Job) -> list[p.Event]:
        # A bound on the whole send, whatever the driver does: past it the outcome is
        # unknown (the job is never sent again), and the line goes on with the next job.
        cfg = self.modem.config
        parts = count_parts(job.text)
        limit = cfg.send_bound(parts) + 30
        try:
            result = await asyncio.wait_for(
                self.modem.send(
                    job.to,
                    job.text,
                    report=job.report,
                    message_id=job.id,
                    validity_minutes=job.validity_minutes,
                    flash=job.flash,
                ),
                limit,
            )
        except TimeoutError:
            result = SendResult(
                outcome=Outcome.UNKNOWN,
                parts=[],
                error=f"the modem did not finish the send within {limit:.0f} s",
            )
        if result.outcome is not Outcome.SENT:
            self.last_error = result.error
        return events_of(job, result, datetime.now(UTC))

    # --- from the modem ---------------------------------------------------------------

    def _context(self) -> LineContext:
        if self._ctx is None:
            raise RuntimeError(f"line {self.name} got a message before it was started")
        return self._ctx

    async def on_report(self, report: DeliveryReport) -> None:
        if report.message_id is None:
            log.info("line %s: status report MR %d matches no recent send", self.name, report.mr)
            return
        await self._context().emit(
            p.Delivered(
                event_id=0,
                job_id=report.message_id,
                at=report.discharge_time,
                part=report.part or 1,
                status=report.status,
                final=report.final,
                delivered=report.delivered,
                detail=report.meaning,
            )
        )

    async def on_message(self, sms: IncomingSMS) -> None:
        """Stored durably before it returns: the modem deletes the message afterwards."""
        ctx = self._context()
        if not sms.concat_total or sms.concat_total <= 1 or sms.concat_sequence is None:
            await ctx.emit(received(self.name, [sms], total=1))
            return
        key = "|".join(
            str(x)
            for x in (
                self.name,
                sms.sender,
                sms.concat_bits,
                sms.concat_reference,
                sms.concat_total,
            )
        )
        bodies = await ctx.add_part(
            key, sms.concat_sequence, sms.concat_total, _part_encoder.encode(sms)
        )
        if bodies is not None:
            parts = [_part_decoder.decode(b) for b in bodies]
            await ctx.complete_parts(key, received(self.name, parts, total=sms.concat_total))

    # --- status -----------------------------------------------------------------------

    def status(self) -> p.LineStatus:
        st = self._status
        connected = getattr(self.modem, "connected", None)
        up = self._opened.is_set() and (
            not isinstance(connected, asyncio.Event) or connected.is_set()
        )
        problems = "; ".join(st.problems) if st and st.problems else ""
        return p.LineStatus(
            line=self.name,
            up=up,
            at=datetime.now(UTC),
            detail=problems or ("ready" if up else "opening the modem"),
            modem=modem_info(st) if st else None,
            last_error=self.last_error or getattr(self.modem, "last_error", None),
        )


def received(line: str, parts: list[IncomingSMS], total: int) -> p.Received:
    """One Received event for a message from its parts (in sequence order)."""
    first = parts[0]
    return p.Received(
        event_id=0,
        line=line,
        sender=first.sender,
        text="".join(part.text for part in parts),
        at=min(part.timestamp for part in parts),
        received_at=datetime.now(UTC),
        smsc=first.smsc,
        complete=len(parts) >= total,
        parts=total,
    )


def _modem_config(push: p.ConfigPush) -> ModemConfig:
    values = push.config
    try:
        baud = int(values.get("baudrate") or 115200)
    except ValueError:
        raise ValueError(
            f"line {push.line}: baudrate {values.get('baudrate')!r} is not a number"
        ) from None
    device = values.get("device", "").strip()
    if not device:
        raise ValueError(f"line {push.line}: 'device' is empty")
    return ModemConfig(
        device=device,
        baudrate=baud,
        pin=values.get("pin") or None,
        smsc=values.get("smsc") or None,
        poll_incoming=push.poll_incoming,
    )


def modem_line(push: p.ConfigPush) -> ModemLine:
    config = _modem_config(push)
    return ModemLine(
        push.line,
        "modem",
        lambda on_message, on_report: ATModem(config, on_message=on_message, on_report=on_report),
    )


def gammu_line(push: p.ConfigPush) -> ModemLine:
    config = _modem_config(push)
    return ModemLine(
        push.line,
        "gammu",
        lambda on_message, on_report: GammuModem(
            config,
            connection=push.config.get("connection") or "at",
            model=push.config.get("model") or "",
            on_message=on_message,
            on_report=on_report,
        ),
    )
