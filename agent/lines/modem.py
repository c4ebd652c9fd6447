"""A GSM modem (AT driver or libgammu) as a bridge line.

Incoming parts of a concatenated SMS are kept in the outbox (so the modem may delete
them) until the message is whole; then one Received event replaces them. Status
reports become Delivered events of the job they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from agent.bridge.lines import LineContext
from agent.lines.modem_care import BalanceWatch, LineCare, care_tuning, line_care
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
from agent.modem.signal_history import SignalLog
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
        family=st.family,
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
    def __init__(
        self,
        name: str,
        kind: str,
        make_modem: MakeModem,
        care: LineCare | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.care = care or LineCare()
        self.modem = make_modem(self.on_message, self.on_report)
        self.signal = SignalLog()
        # The signal history survives a restart of the agent in its state directory.
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        self._signal_file = state_dir / f"signal-{safe}.json" if state_dir else None
        if self._signal_file is not None and self._signal_file.exists():
            self.signal.load(self._signal_file.read_bytes())
        self.balance = BalanceWatch(
            name, self.care, self.modem, lambda: self._context().status_changed(self.name)
        )
        self._ctx: LineContext | None = None
        self._status: ModemStatus | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._opened = asyncio.Event()
        self.last_error: str | None = None
        # A ladder's rung needs its reset_after to be tried: reopen more often than that.
        ladder = self.modem.ladder
        self._reopen_max = min(REOPEN_MAX, ladder.reset_after / 2) if ladder else REOPEN_MAX

    # --- life cycle -------------------------------------------------------------------

    async def start(self, ctx: LineContext) -> None:
        self._ctx = ctx
        # Lost or back: the server routes around a line that is down at once.
        self.modem.on_connection = lambda: ctx.status_changed(self.name)
        self.modem.on_call = self.on_call
        self._tasks = [
            asyncio.create_task(self._open_until_ready(), name=f"open {self.name}"),
            asyncio.create_task(self._watch_status(), name=f"status {self.name}"),
        ]
        if self.care.balance_ussd and self.modem.can_ussd:
            self._tasks.append(asyncio.create_task(self._balance(), name=f"balance {self.name}"))

    async def _open_until_ready(self) -> None:
        delay = REOPEN_MIN
        while True:
            try:
                await self.modem.open()
            except Exception as exc:  # ModemError, or a port that vanished mid-open
                self.last_error = str(exc) or type(exc).__name__
                self._context().status_changed(self.name)
                if self.modem.pin_rejected:
                    log.error("line %s: %s", self.name, exc)
                    return  # a person must fix the PIN; nothing enters it again
                if await self.modem.climb(self.last_error):
                    delay = REOPEN_MIN  # reset or re-bound: look again soon
                log.warning("line %s: %s; retrying in about %.0f s", self.name, exc, delay)
                await asyncio.sleep(random.uniform(0.5 * delay, delay))
                delay = min(self._reopen_max, delay * 2)
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
                self.signal.add(datetime.now(UTC), None, None)
            else:
                info = modem_info(self._status)
                self.signal.add(datetime.now(UTC), info.signal_dbm, info.registration)
                self._context().status_changed(self.name)
            await self._save_signal()
            await asyncio.sleep(STATUS_EVERY)

    async def _save_signal(self) -> None:
        if self._signal_file is None:
            return
        try:
            await asyncio.to_thread(_write_atomically, self._signal_file, self.signal.dump())
        except OSError as exc:  # a full disk costs the history, not the line
            log.warning("line %s: signal history not saved: %s", self.name, exc)

    async def _balance(self) -> None:
        await self._opened.wait()
        await self.balance.run()

    async def on_call(self, number: str, when: datetime) -> None:
        await self._context().emit(
            p.CallMissed(event_id=0, line=self.name, caller=number, time=when)
        )

    async def ready(self) -> None:
        await self._opened.wait()
        await self.modem.connected.wait()

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
        loop = asyncio.get_running_loop()
        # A modem that hung before the message left it gets the ladder's time to come
        # back: the job waits for it instead of failing (nothing was sent, so nothing
        # can be sent twice). Past that, or once a person is needed, it fails.
        hold_until = loop.time() + 4 * cfg.reset_after + 60
        while True:
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
            if not self._worth_waiting(result) or loop.time() > hold_until:
                break
            log.warning(
                "line %s: job %s not sent (%s); waiting for the modem",
                self.name,
                job.id,
                result.error,
            )
            if not await self._back_within(hold_until - loop.time()):
                if self.modem.needs_person.is_set():
                    result = SendResult(
                        outcome=Outcome.FAILED,
                        parts=result.parts,
                        error=f"{self.modem.last_error}; the message was not sent",
                        error_class="device",
                    )
                break
        if result.outcome is not Outcome.SENT:
            self.last_error = result.error
        return events_of(job, result, datetime.now(UTC))

    def _worth_waiting(self, result: SendResult) -> bool:
        """Failed with nothing sent because the modem is down (or went down on it)."""
        if result.outcome is not Outcome.FAILED or result.error_class != "transient":
            return False
        if any(part.outcome in (Outcome.SENT, Outcome.UNKNOWN) for part in result.parts):
            return False
        ladder = self.modem.ladder
        down = not self.modem.connected.is_set()
        return down and (ladder is None or ladder.rung != "needs-person")

    async def _back_within(self, seconds: float) -> bool:
        if seconds <= 0:
            return False
        waiter = asyncio.ensure_future(self.modem.connected.wait())
        gave_up = asyncio.ensure_future(self._person_needed())
        done, pending = await asyncio.wait(
            {waiter, gave_up}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        return waiter in done

    async def _person_needed(self) -> None:
        # Never set by a backend without a ladder: then only `connected` ends the wait.
        await self.modem.needs_person.wait()

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
        up = self._opened.is_set() and self.modem.connected.is_set()
        problems = "; ".join(st.problems) if st and st.problems else ""
        if self.balance.low:
            low = self.balance.warning()
            problems = f"{problems}; {low}" if problems else low
        ladder = self.modem.ladder
        state = ladder.state if ladder is not None else None
        recovery = state.sentence() if state is not None else ""
        return p.LineStatus(
            line=self.name,
            up=up,
            at=datetime.now(UTC),
            detail=(recovery if not up else "")
            or problems
            or ("ready" if up else "opening the modem"),
            modem=modem_info(st) if st else None,
            last_error=self.last_error or self.modem.last_error,
            rung=str(state.rung) if state is not None else None,
            recovery=recovery,
            last_reset=state.last_reset if state is not None else None,
            resets_today=state.resets_today if state is not None else 0,
            balance=float(self.balance.balance) if self.balance.balance is not None else None,
            balance_at=self.balance.balance_at,
            balance_low=self.balance.low,
            signal_history=self.signal.history(datetime.now(UTC)),
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
    tuning = care_tuning(values, push.line)
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
        **tuning,  # type: ignore[arg-type]
    )


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def modem_line(push: p.ConfigPush, state_dir: Path | None = None) -> ModemLine:
    config = _modem_config(push)
    return ModemLine(
        push.line,
        "modem",
        lambda on_message, on_report: ATModem(config, on_message=on_message, on_report=on_report),
        line_care(push),
        state_dir,
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
