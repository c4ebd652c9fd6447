"""The AT modem driver (asyncio + pyserial): init, PIN, send, receive, status, recovery.

    modem = ATModem(ModemConfig(device="/dev/gsmmodem0", pin="1234"), on_message=store)
    await modem.open()
    result = await modem.send("+420777123456", "Ahoj", report=True)

When the port vanishes or stops answering the driver closes it, reopens with backoff,
re-initialises and sweeps storage. A part whose result never came after Ctrl-Z is
reported UNKNOWN and is not resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from .at import ESC, Unsolicited, split_args
from .at_session import ATSession, CommandTimeout, Response, SubmitUnknown
from .calls import CallReport, CallTracker
from .error_codes import ErrorClass
from .inbox import Inbox
from .interface import (
    ModemConfig,
    ModemError,
    OnMessage,
    OnReport,
    Outcome,
    SendResult,
    SentPart,
)
from .ladder import Ladder, Rung
from .link import PortLost
from .pdu import EncodedPart, encode_submit
from .profiles import GENERIC, Profile, profile_for
from .recovery import functional_reset, usb_rebind
from .status import ModemStatus, parse_cpin, parse_csca, query_status, strip_prefix
from .ussd import USSDAnswer, USSDError, parse_cusd, request_argument

log = logging.getLogger(__name__)

_BUSY = {("CME", 14), ("CME", 515), ("CMS", 314), ("CMS", 515), ("CMS", 302)}
_CNMI_FALLBACKS = ("2,1,0,{ds},0", "2,1,0,1,0", "2,1,0,0,0", "1,1,0,0,0")


class ATModem:
    can_ussd = True  # AT+CUSD (the Modem protocol's capability)

    def __init__(
        self,
        config: ModemConfig,
        *,
        on_message: OnMessage | None = None,
        on_report: OnReport | None = None,
    ) -> None:
        self.config = config
        self.device = config.device
        self.inbox = Inbox(config.device, on_message, on_report, self._sends_settled)
        self.session = ATSession(config.device, config.baudrate, self._urc, self._lost)
        self.connected = asyncio.Event()
        # Called when `connected` is set or cleared (the line tells the server at once).
        self.on_connection: Callable[[], None] | None = None
        self.manufacturer: str | None = None
        self.model: str | None = None
        self.profile: Profile = GENERIC  # recognised at init from AT+CGMI/AT+CGMM
        self._send_lock = asyncio.Lock()
        self._reference = random.randrange(256)  # concat refs differ across restarts
        self._tasks: set[asyncio.Task[object]] = set()
        self._reconnecting: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._closing = False
        self._pin_rejected = False
        self._unknown: tuple[str, str | None, int] | None = None  # last UNKNOWN part
        self.last_error: str | None = None
        self.ladder = Ladder(config.reset, config.reset_after)
        self.needs_person = asyncio.Event()  # the ladder's top: nothing more to try
        self._ussd: asyncio.Future[Unsolicited] | None = None  # the network's +CUSD
        self._unregistered_since: float | None = None  # loop time registration was lost
        # Incoming calls: reported through on_call(number, time) once each, hung up
        # first when config.reject_calls. A call is RING/+CRING, then +CLIP (the number).
        self.on_call: Callable[[str, datetime], Awaitable[None]] | None = None
        self.calls = CallTracker(config.reject_calls)
        self._call_timer: asyncio.TimerHandle | None = None

    @property
    def pin_rejected(self) -> bool:
        """The SIM refused the configured PIN: nothing may enter it again automatically."""
        return self._pin_rejected

    # --- life cycle -----------------------------------------------------------------

    async def open(self) -> None:
        self._closing = False
        await self._connect()
        if self.config.poll_incoming:
            self._poller = asyncio.create_task(self._poll())

    async def close(self) -> None:
        self._closing = True
        tasks = [
            task
            for task in [self._reconnecting, self._poller, *self._tasks]
            if task is not None and task is not asyncio.current_task()
        ]
        for task in tasks:
            task.cancel()
        # Before waiting for anything: every wait on the port (a send's too) ends now.
        self.connected.clear()
        self.session.close()
        # Unlike suppressing CancelledError around each await, a cancel of close()
        # itself still propagates.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _connect(self) -> None:
        try:
            self.session.open()
        except PortLost as exc:
            raise ModemError(f"modem on {self.device}: {exc}", ErrorClass.TRANSIENT) from exc
        try:
            await self._init()
            if not self.session.link.is_open:
                # Lost after the last answer (in the same read, or just after it): the
                # loss left recovery to this connect, which must not report ready.
                raise PortLost(f"{self.device}: lost during init")
        except (CommandTimeout, PortLost) as exc:
            self.session.close()
            raise ModemError(
                f"modem on {self.device}: init failed: {exc}", ErrorClass.TRANSIENT
            ) from exc
        except BaseException:
            # A modem error, a cancelled connect or a bug: never leave the port half open.
            self.session.close()
            raise
        if self.ladder.rung is not Rung.OK:
            log.warning(
                "modem on %s: back after: %s", self.device, "; ".join(self.ladder.state.tried)
            )
        self.ladder.up()
        self.needs_person.clear()
        self.connected.set()
        self._connection_changed()
        self.last_error = None
        log.info("modem on %s: ready (%s)", self.device, self.manufacturer)
        if self.config.poll_incoming:
            self._spawn(self._sweep_quietly())

    def _connection_changed(self) -> None:
        if self.on_connection is not None:
            self.on_connection()

    def _lost(self, exc: Exception) -> None:
        """The port vanished (from the link) or stopped answering (from a timeout).

        Only a loss of a ready modem starts a reconnect: a loss during a connect fails
        that connect, which the reconnect loop (or the caller of open()) retries."""
        was_connected = self.connected.is_set()
        self.connected.clear()
        self._connection_changed()
        self.last_error = str(exc)
        if not self._closing:
            self.ladder.down(asyncio.get_running_loop().time(), self._why(exc))
        if self._closing or not was_connected:
            return
        if self._reconnecting and not self._reconnecting.done():
            return
        log.warning("modem on %s: %s; reconnecting", self.device, exc)
        self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self.config.reconnect_min
        while not self._closing:
            await asyncio.sleep(delay)  # backoff: a replugged USB modem needs time
            try:
                await self._connect()
                return
            except ModemError as exc:
                self.last_error = str(exc)
                if self._pin_rejected:
                    log.error("%s; not retrying", exc)
                    return
            except Exception as exc:
                # A bug in one attempt must not end reconnecting: nothing else would
                # reopen the port, and the line waits for `connected`.
                log.exception("modem on %s: reconnecting failed", self.device)
                self.last_error = f"modem on {self.device}: reconnecting failed: {exc!r}"
            delay = min(delay * 2, self.config.reconnect_max)
            if await self.climb():
                delay = self.config.reconnect_min  # a reset or re-bind: look again soon

    # --- recovery ladder ------------------------------------------------------------

    async def climb(self, why: str | None = None) -> bool:
        """After a failed (re)connect (`why`: its error): perform the ladder's next rung
        if it is due. True when something was done to the modem (retry soon)."""
        loop_time = asyncio.get_running_loop().time()
        self.ladder.down(loop_time, self._why(why or self.last_error or "no answer"))
        wall = datetime.now(UTC)
        rung = self.ladder.due(loop_time, wall)
        if rung is None:
            return False
        if rung is Rung.RESET:
            log.warning(
                "modem on %s: still down after %.0f s (%s); functional reset",
                self.device,
                self.config.reset_after,
                self.ladder.state.why,
            )
            what, done = await self._functional_reset(wall)
        elif rung is Rung.USB:
            log.warning("modem on %s: still down after the reset; USB re-bind", self.device)
            what, done = await self._usb_rebind(wall)
        else:
            sentence = self.ladder.state.sentence()
            log.error("modem on %s: %s", self.device, sentence)
            self.last_error = f"modem on {self.device}: {sentence}"
            self.needs_person.set()
            self._connection_changed()
            return False
        self.ladder.performed(rung, wall, what, reset=done)
        log.warning("modem on %s: %s", self.device, what)
        if not done:
            self.ladder.skip(asyncio.get_running_loop().time())
        self._connection_changed()
        return done

    async def _watch_registration(self, status: ModemStatus) -> None:
        """Registration lost for longer than reset_after: the port answers, so
        re-opening cannot help; the ladder's functional reset is due at once."""
        now = asyncio.get_running_loop().time()
        if status.registration is None or status.registration in (1, 5, 6, 7, 9, 10):
            self._unregistered_since = None
            return
        if self._unregistered_since is None:
            self._unregistered_since = now
        lost_for = now - self._unregistered_since
        if lost_for < self.config.reset_after or self.ladder.rung is not Rung.OK:
            return
        self._unregistered_since = None
        why = f"registration lost ({status.registration_text}) for {lost_for:.0f} s"
        self.ladder.down(now - self.config.reset_after - 1.0, why)  # re-opening is no help
        wall = datetime.now(UTC)
        if self.ladder.due(now, wall) is not Rung.RESET:
            self.ladder.up()  # reset = off, or no resets left today: the status says it
            log.warning(
                "modem on %s: %s; no reset (reset = %s)", self.device, why, self.config.reset
            )
            return
        log.warning("modem on %s: %s; functional reset", self.device, why)
        what, done = await self._functional_reset(wall)
        self.ladder.performed(Rung.RESET, wall, what, reset=done)
        log.warning("modem on %s: %s", self.device, what)
        self._lost(PortLost(f"modem on {self.device}: {why}; {what}"))

    def _why(self, error: object) -> str:
        text = str(error)
        while text.startswith(f"modem on {self.device}: "):
            text = text.removeprefix(f"modem on {self.device}: ")
        return text

    def _reset_command(self) -> str:
        return self.config.reset_command or self.profile.reset_command

    async def _functional_reset(self, wall: datetime) -> tuple[str, bool]:
        # Never while a send waits for its +CMGS: its outcome comes first.
        async with self._send_lock:
            return await functional_reset(
                self.session, self._reset_command(), self.config.command_timeout, wall
            )

    async def _usb_rebind(self, wall: datetime) -> tuple[str, bool]:
        async with self._send_lock:
            return await usb_rebind(
                self.session, self.device, self.config.sysfs, self.config.usb_settle, wall
            )

    def _hung(self, exc: Exception) -> None:
        self.session.close()
        self._lost(exc)

    # --- commands -------------------------------------------------------------------

    async def _cmd(self, command: str, timeout: float | None = None) -> Response:
        try:
            return await self.session.command(command, timeout or self.config.command_timeout)
        except CommandTimeout as exc:
            if self.connected.is_set():
                self._hung(exc)  # a modem that stops answering is reset, not waited on
            raise

    async def _cmd_busy(self, command: str) -> Response:
        """A command that may fail while the SIM/SMS stack starts (docs/at-modem.md §5 and
        §2 step 9)."""
        response = await self._cmd(command)
        for _ in range(self.config.busy_retries):
            error = response.error
            if response.ok or error is None or (error.kind, error.code) not in _BUSY:
                return response
            await asyncio.sleep(self.config.busy_delay)
            response = await self._cmd(command)
        return response

    def _fail(self, what: str, response: Response) -> ModemError:
        error = response.error
        klass = error.error_class if error else ErrorClass.DEVICE
        return ModemError(f"modem on {self.device}: {what}: {response.final.describe()}", klass)

    # --- init -----------------------------------------------------------------------

    async def _init(self) -> None:
        # ESC leaves an SMS-edit state left by a crashed agent; then wake it with ATs.
        self.session.link.write(ESC)
        for _ in range(5):
            try:
                if (await self.session.command("AT", min(1.0, self.config.command_timeout))).ok:
                    break
            except CommandTimeout:
                continue
        else:
            raise ModemError(
                f"modem on {self.device}: no answer to AT (wrong port or speed, or powered off?)",
                ErrorClass.TRANSIENT,
            )
        await self._cmd("ATZ")  # resets echo too, so it comes before ATE0
        await self._cmd("ATE0")
        await self._cmd("AT+CMEE=1")
        await self._unlock()
        response = await self._cmd("AT+CFUN?")
        if response.ok and response.lines and strip_prefix(response.lines[0]) == "0":
            await self._cmd("AT+CFUN=1", self.config.pin_timeout)  # radio was off
        response = await self._cmd("AT+CGMI")
        self.manufacturer = strip_prefix(response.lines[0]) if response.lines else None
        response = await self._cmd("AT+CGMM")
        self.model = strip_prefix(response.lines[0]) if response.ok and response.lines else None
        self.profile = profile_for(self.manufacturer, self.model)
        for command in self.profile.init:
            await self._cmd(command)  # e.g. Huawei AT^CURC=0; its chatter is filtered anyway
        response = await self._cmd_busy("AT+CMGF=0")
        if not response.ok:
            raise self._fail("cannot switch to PDU mode", response)
        await self._cmd("AT+CSMS=0")  # service 0: routed messages need no +CNMA
        if not (await self._cmd_busy('AT+CPMS="SM","SM","SM"')).ok:
            await self._cmd('AT+CPMS="SM"')
        self.inbox.read_memory = "SM"
        for pattern in _CNMI_FALLBACKS:
            if (await self._cmd("AT+CNMI=" + pattern.format(ds=self.config.status_report_ds))).ok:
                break
        if self.config.smsc:
            response = await self._cmd("AT+CSCA?")
            if not response.ok or not any(parse_csca(line) for line in response.lines):
                await self._cmd(f'AT+CSCA="{self.config.smsc}",145')
        await self._cmd("AT+COPS=3,0")  # operator by long name in AT+COPS?
        await self._cmd("AT+CLIP=1")  # the caller's number after RING (calls are reported)

    async def _unlock(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.config.pin_timeout
        pin_sent = False
        while True:
            response = await self._cmd_busy("AT+CPIN?")
            if not response.ok:
                raise self._fail("SIM not usable", response)
            state = parse_cpin(response.lines[0]) if response.lines else "READY"
            # PIN2/PUK2 are not needed for SMS; some modems report them anyway (smsd).
            if state in ("READY", "SIM PIN2", "SIM PUK2"):
                return
            if state != "SIM PIN":
                raise ModemError(
                    f"modem on {self.device}: {state} required (unlock the SIM in a phone)"
                )
            if not pin_sent:
                if not self.config.pin:
                    raise ModemError(
                        f"modem on {self.device}: SIM PIN required (set 'pin' in the account)"
                    )
                response = await self._cmd(f'AT+CPIN="{self.config.pin}"')
                if not response.ok:
                    # Never retry a rejected PIN: three wrong tries lock the SIM (PUK).
                    self._pin_rejected = True
                    raise ModemError(
                        f"modem on {self.device}: the SIM rejected the PIN; not retried "
                        "(check 'pin' in the account; 3 wrong tries lock the SIM)"
                    )
                pin_sent = True
                continue
            if asyncio.get_running_loop().time() > deadline:
                raise ModemError(f"modem on {self.device}: SIM not ready after the PIN")
            await asyncio.sleep(self.config.busy_delay)  # polling AT+CPIN? until READY

    # --- sending --------------------------------------------------------------------

    async def send(
        self,
        number: str,
        text: str,
        *,
        report: bool = False,
        message_id: str | None = None,
        validity_minutes: int | None = None,
        flash: bool = False,
    ) -> SendResult:
        try:
            self._reference = (self._reference + 1) % 256
            parts = encode_submit(
                number,
                text,
                report=report,
                reference=self._reference,
                validity_minutes=validity_minutes,
                flash=flash,
            )
        except ValueError as exc:
            return SendResult(
                outcome=Outcome.FAILED, parts=[], error=str(exc), error_class="permanent"
            )
        async with self._send_lock:  # parts of two messages must never interleave
            results: list[SentPart] = []
            for part in parts:
                if not self.connected.is_set():
                    sent = SentPart(
                        part=part.part,
                        parts=part.parts,
                        outcome=Outcome.FAILED,
                        error=f"modem on {self.device}: not connected "
                        f"({self.last_error or 'reconnecting'})",
                        error_class="transient",
                    )
                else:
                    sent = await self._send_part(part, number, message_id)
                results.append(sent)
                if sent.outcome is not Outcome.SENT:
                    break
        for part in parts[len(results) :]:
            results.append(SentPart(part=part.part, parts=part.parts, outcome=Outcome.NOT_SENT))
        outcomes = {r.outcome for r in results}
        failed = next((r for r in results if r.outcome in (Outcome.FAILED, Outcome.UNKNOWN)), None)
        outcome = (
            Outcome.UNKNOWN
            if Outcome.UNKNOWN in outcomes
            else Outcome.SENT
            if outcomes == {Outcome.SENT}
            else Outcome.FAILED
        )
        return SendResult(
            outcome=outcome,
            parts=results,
            error=failed.error if failed else None,
            error_class=failed.error_class if failed else None,
        )

    async def _send_part(self, part: EncodedPart, number: str, message_id: str | None) -> SentPart:
        config = self.config
        tries = 0
        while True:
            tries += 1
            base = {"part": part.part, "parts": part.parts, "tries": tries}
            try:
                # Only into a ready modem: a retry may come while a reconnect's init
                # runs on a reopened port (a rebooted modem, half set up).
                response = await self.session.submit(
                    part.tpdu_length,
                    part.pdu,
                    config.prompt_timeout,
                    config.result_timeout,
                    ready=self.connected.is_set,
                )
            except SubmitUnknown as exc:
                self._unknown = (number, message_id, part.part)
                # Still under the send lock: a status report waits until a late +CMGS
                # (inside the AT's answer) has been seen. The outcome stays unknown.
                # A port that vanished has nothing to resync: the reconnect re-inits it.
                if not isinstance(exc.__cause__, PortLost):
                    await self._resync()

                return SentPart(
                    **base, outcome=Outcome.UNKNOWN, error=str(exc), error_class="unknown"
                )
            except (CommandTimeout, PortLost) as exc:
                # Nothing was sent: no prompt came, or the port went before the PDU (or
                # is being reconnected). A reconnect under way is not reset again.
                if isinstance(exc, CommandTimeout) and self.connected.is_set():
                    self._hung(exc)
                error = str(exc)
                if not self.connected.is_set():
                    error = f"modem on {self.device}: not connected ({self.last_error or error})"
                return SentPart(
                    **base, outcome=Outcome.FAILED, error=error, error_class="transient"
                )
            if response.ok:
                mr = next(
                    (
                        int(line.split(":")[1].split(",")[0])
                        for line in response.lines
                        if line.upper().startswith("+CMGS:")
                    ),
                    None,
                )
                if mr is not None:
                    self.inbox.remember(mr, number, message_id, part.part)
                return SentPart(**base, outcome=Outcome.SENT, mr=mr)
            error = response.error
            klass = error.error_class if error else ErrorClass.TRANSIENT
            if klass is ErrorClass.TRANSIENT and tries <= config.send_retries:
                await asyncio.sleep(config.send_retry_delay)
                continue
            return SentPart(
                **base,
                outcome=Outcome.FAILED,
                error_class=klass.value,
                error=f"modem on {self.device}: {response.final.describe()}",
            )

    # --- calls ----------------------------------------------------------------------

    def _ringing(self, urc: Unsolicited) -> None:
        if not self.calls.active:
            log.info("modem on %s: incoming call %s", self.device, urc.line)
        loop = asyncio.get_running_loop()
        action = self.calls.ring(urc.name, urc.args, loop.time(), datetime.now(UTC))
        if action is None:
            return
        if self._call_timer is not None:
            self._call_timer.cancel()
        self._call_timer = loop.call_later(action.delay, lambda: self._spawn(self._hang_up()))

    async def _hang_up(self) -> None:
        self._call_timer = None
        if not self.calls.active:
            return
        command = self.config.hangup_command or self.profile.hangup_command
        try:
            response = await self._cmd(command)
            if not response.ok and command != "AT+CHUP":
                await self._cmd("AT+CHUP")  # 27.007's generic hang-up
        except (CommandTimeout, PortLost) as exc:
            log.warning("modem on %s: hanging up failed: %s", self.device, exc)
        self._report_call(self.calls.hung_up(asyncio.get_running_loop().time()))

    def _report_call(self, report: CallReport | None) -> None:
        if report is None:
            return
        log.info("modem on %s: call from %s missed", self.device, report.number or "(withheld)")
        if self.on_call is not None:
            self._spawn(self._guard_call(self.on_call(report.number, report.when)))

    async def _guard_call(self, reporting: Awaitable[None]) -> None:
        try:
            await reporting
        except Exception:
            log.exception("modem on %s: reporting a call failed", self.device)

    # --- USSD -----------------------------------------------------------------------

    async def ussd(self, code: str, timeout: float = 30.0) -> USSDAnswer:
        """One USSD request (`*101#`) and the network's answer. Never in the middle of a
        send (it waits for the send lock); a menu the network opens is closed again."""
        packed = self.config.ussd_packed
        argument = request_argument(
            code, packed=self.profile.ussd_packed if packed is None else packed
        )
        async with self._send_lock:
            if not self.connected.is_set():
                raise USSDError(f"modem on {self.device}: not connected ({self.last_error})")
            loop = asyncio.get_running_loop()
            self._ussd = loop.create_future()
            try:
                response = await self._cmd(f'AT+CUSD=1,"{argument}",15')
                if not response.ok:
                    raise USSDError(
                        f"modem on {self.device}: USSD {code} refused: {response.final.describe()}"
                    )
                # Some modems put +CUSD before the OK (an answer line), most after it (URC).
                inline = [line for line in response.lines if line.upper().startswith("+CUSD:")]
                if inline:
                    args = split_args(inline[0].split(":", 1)[1])
                else:
                    done, _ = await asyncio.wait({self._ussd}, timeout=timeout)
                    if not done:
                        with contextlib.suppress(CommandTimeout, PortLost):
                            await self._cmd("AT+CUSD=2")
                        raise USSDError(
                            f"modem on {self.device}: no answer to USSD {code} within {timeout:g} s"
                        )
                    args = self._ussd.result().args
            except (CommandTimeout, PortLost) as exc:
                raise USSDError(f"modem on {self.device}: USSD {code}: {exc}") from exc
            finally:
                self._ussd = None
            answer = parse_cusd(args, form=self.config.ussd_form or self.profile.ussd_form)
            if answer.status == 1:  # a menu waits for us: end it, we only read
                with contextlib.suppress(CommandTimeout, PortLost):
                    await self._cmd("AT+CUSD=2")
            return answer

    # --- receiving ------------------------------------------------------------------

    async def _sends_settled(self) -> None:
        async with self._send_lock:
            pass

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _urc(self, urc: Unsolicited) -> None:
        if urc.name == "+CUSD" and self._ussd is not None and not self._ussd.done():
            self._ussd.set_result(urc)
        elif urc.name in ("RING", "+CRING", "+CLIP"):
            self._ringing(urc)
        elif urc.name == "NO CARRIER" and self.calls.active:
            self._report_call(self.calls.ended())  # the caller gave up before we hung up
        elif urc.name in ("+CMTI", "+CDSI"):
            self._spawn(self._guard(self.inbox.stored(self._cmd, urc)))
        elif urc.name in ("+CMT", "+CDS"):
            self._spawn(self._guard(self.inbox.routed(urc)))
        elif urc.name == "+CMGS" and urc.args and urc.args[0].isascii() and urc.args[0].isdigit():
            self._late_cmgs(int(urc.args[0]))
        elif urc.name in ("SMS READY", "RDY", "^SYSSTART", "+QIND") and self.connected.is_set():
            # The modem rebooted under us: echo is back on and URC settings are gone.
            if urc.name != "+QIND":
                self._hung(PortLost(f"modem on {self.device} restarted ({urc.line})"))
        else:
            log.debug("modem on %s: %s", self.device, urc.line)

    async def _resync(self) -> None:
        """After a lost +CMGS: ESC went out already; one AT tells whether the modem
        still answers (else the timeout resets it). The port stays open so a late
        +CMGS can still be seen (the AT engine reports it as a URC even inside the
        answer to this AT, which a modem busy with the submission gives after it)."""
        with contextlib.suppress(CommandTimeout, PortLost):
            await self._cmd("AT", self.config.result_timeout)

    def _late_cmgs(self, mr: int) -> None:
        """+CMGS after the send timed out (docs/at-modem.md §3.2): the part reported UNKNOWN did
        leave. Its MR is remembered so that its status report still finds it."""
        if self._unknown is None:
            log.info("modem on %s: late +CMGS: %d for no pending send", self.device, mr)
            return
        number, message_id, part = self._unknown
        self._unknown = None
        self.inbox.remember(mr, number, message_id, part)
        log.warning(
            "modem on %s: late +CMGS: %d: message %s part %d was sent after all",
            self.device,
            mr,
            message_id,
            part,
        )

    async def _guard(self, coroutine: object) -> None:
        try:
            await coroutine  # type: ignore[misc]
        except (CommandTimeout, PortLost) as exc:
            log.warning("modem on %s: incoming message left stored: %s", self.device, exc)
        except Exception:
            log.exception("modem on %s: handing on a message failed; left stored", self.device)

    async def sweep(self) -> int:
        handed = await self.inbox.sweep(self._cmd)
        if self.inbox.on_report is not None:
            handed += await self.inbox.sweep(self._cmd, "SR")
        return handed

    async def _sweep_quietly(self) -> None:
        await self._guard(self.sweep())

    async def _poll(self) -> None:
        # URCs may go to another port (Huawei PC UI, Quectel urcport): poll as well.
        while not self._closing:
            await asyncio.sleep(self.config.poll_interval)
            if self.connected.is_set():
                await self._sweep_quietly()

    # --- status ---------------------------------------------------------------------

    async def _line(self, command: str) -> str | None:
        try:
            response = await self._cmd(command)
        except (CommandTimeout, PortLost):
            return None
        if not response.ok and command == "AT+CPIN?" and response.error:
            return f"+CPIN: {response.error.meaning}"  # "SIM not inserted" is a SIM state
        return response.lines[0] if response.ok and response.lines else None

    async def status(self) -> ModemStatus:
        if not self.connected.is_set():
            return ModemStatus(device=self.device, problems=[self.last_error or "not connected"])
        status = await query_status(self.device, self._line)
        status.family = self.profile.name
        if self.connected.is_set():
            await self._watch_registration(status)
        if not self.connected.is_set():  # it stopped answering while we asked
            status.problems.insert(0, self.last_error or "not connected")
        return status
