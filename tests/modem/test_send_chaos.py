"""Sends while the modem is unplugged and replugged at seeded random moments: every
send returns within a bound, whatever the port does and wherever it does it."""

from __future__ import annotations

import asyncio
import io
import random
from collections import Counter

import pytest

from agent.modem.driver import ATModem
from agent.modem.interface import Outcome, SendResult
from agent.modem.virtual import VirtualModem
from tests.modem.conftest import Recorder
from tests.modem.waiting import until


def pending_dump(modem: ATModem) -> str:
    """What every task waits on, and the driver's locks and state."""
    out = io.StringIO()
    session = modem.session
    out.write(
        f"connected={modem.connected.is_set()} link_open={session.link.is_open} "
        f"send_lock={modem._send_lock.locked()} session_lock={session._lock.locked()} "
        f"reconnecting={modem._reconnecting} pending={session.engine.pending!r}\n"
    )
    for task in asyncio.all_tasks():
        out.write(f"--- {task!r}\n")
        task.print_stack(file=out)
    return out.getvalue()


async def bounded_send(modem: ATModem, text: str, bound: float, **kwargs: object) -> SendResult:
    """The send, or a test failure with a dump of what is pending once `bound` passed
    (the send is not awaited after that: a send that swallows cancellation must not
    hang pytest)."""
    task = asyncio.create_task(modem.send("+420777123456", text, **kwargs))  # type: ignore[arg-type]
    done, _ = await asyncio.wait({task}, timeout=bound)
    if not done:
        dump = pending_dump(modem)
        task.cancel()
        pytest.fail(f"send of {len(text)} characters still running after {bound} s\n{dump}")
    return task.result()


async def back(modem: ATModem, bound: float = 5.0) -> None:
    """Connected again within `bound` (the monkey plugs the cable back within 0.3 s)."""
    try:
        await asyncio.wait_for(modem.connected.wait(), bound)
    except TimeoutError:
        pytest.fail(f"not reconnected within {bound} s ({modem.last_error})\n{pending_dump(modem)}")


class Monkey:
    """Pulls the virtual modem's cable at random writes of the driver (any point of
    init, a command, AT+CMGS, the PDU) and at the modem's own moments (while taking
    the AT+CMGS, after taking the PDU), and plugs it back after a random pause."""

    def __init__(self, vm: VirtualModem, modem: ATModem, seed: int) -> None:
        self.vm = vm
        self.modem = modem
        self.rng = random.Random(seed)
        self.loop = asyncio.get_running_loop()
        self.unplugs = 0
        self.active = True
        self._replug: asyncio.TimerHandle | None = None
        modem.session.on_write = self._written
        core = vm.core
        self._cmgs, self._pdu = core._cmgs, core._pdu
        core._cmgs = self._modem_cmgs  # type: ignore[method-assign]
        core._pdu = self._modem_pdu  # type: ignore[method-assign]

    def stop(self) -> None:
        self.active = False
        if self._replug is not None:
            self._replug.cancel()
        self.modem.session.on_write = None
        self.vm.core._cmgs, self.vm.core._pdu = self._cmgs, self._pdu  # type: ignore[method-assign]
        if not self.vm.plugged:
            self.vm.replug()

    def _pull(self) -> None:
        if not self.active or not self.vm.plugged:
            return
        self.unplugs += 1
        self.vm.unplug()
        # Back at once (reconnect races the old port's death), soon, or after a while.
        pause = self.rng.choice([0.0, self.rng.uniform(0.0, 0.03), self.rng.uniform(0.03, 0.3)])
        self._replug = self.loop.call_later(pause, self._plug)

    def _plug(self) -> None:
        if self.active and not self.vm.plugged:
            self.vm.replug()

    # Driver side (the event loop's thread).
    def _written(self, data: bytes) -> None:
        if self.rng.random() < 0.06:
            self.loop.call_later(self.rng.choice([0.0, self.rng.uniform(0.0, 0.01)]), self._pull)

    # Modem side (the virtual modem's thread, under its lock: unplug() re-enters it).
    def _modem_cmgs(self, upper: str):  # type: ignore[no-untyped-def]
        out = self._cmgs(upper)
        if self.active and self.rng.random() < 0.04:
            self.loop.call_soon_threadsafe(self._pull)
        return out

    def _modem_pdu(self, pdu: str, *, aborted: bool):  # type: ignore[no-untyped-def]
        out = self._pdu(pdu, aborted=aborted)
        if self.active and self.rng.random() < 0.06:
            self.loop.call_soon_threadsafe(self._pull)
        return out


def numbered(i: int, parts: int) -> str:
    """A text whose every part is unique in the run (to count what the modem took)."""
    words = "".join(f"m{i}-{k} " for k in range(200))
    return words[: 150 * parts - 10] if parts > 1 else f"m{i}"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sends_return_whatever_the_cable_does(virtual, driver, seed: int) -> None:
    vm = virtual(cms_error_rate=0.05)  # transient +CMS ERROR: 500, retried
    recorder = Recorder()
    modem = driver(
        vm.path,
        recorder,
        command_timeout=0.4,
        prompt_timeout=0.4,
        result_timeout=0.4,
        reconnect_min=0.01,
        reconnect_max=0.05,
        send_retries=1,
        poll_interval=0.2,
    )
    await modem.open()
    monkey = Monkey(vm, modem, seed)
    rng = random.Random(seed)
    cfg = modem.config
    loop = asyncio.get_running_loop()

    async def ask_status() -> None:  # status queries share the port with the sends
        while True:
            await asyncio.wait_for(modem.status(), 10)
            await asyncio.sleep(rng.uniform(0.0, 0.2))

    asking = asyncio.create_task(ask_status())
    results: list[SendResult] = []
    deadline = loop.time() + 4.0
    while loop.time() < deadline:
        parts = rng.choice([1, 1, 2, 3])
        # Per part and try: prompt + result; a resync; the init of a reconnect.
        bound = cfg.send_bound(parts) + 5
        fault = rng.random()
        # A +CMGS later than the result timeout (unknown, then caught late), or a
        # modem that stops answering for a while (reset by the driver).
        vm.core.config.cmgs_delay = 0.5 if fault < 0.05 else 0.0
        vm.core.config.silent = 0.05 <= fault < 0.08
        if rng.random() < 0.2:
            vm.deliver("+420777000111", f"incoming {len(results)}")
        text = numbered(len(results), parts)
        results.append(await bounded_send(modem, text, bound, report=rng.random() < 0.5))
        vm.core.config.silent = False
        vm.core.config.cmgs_delay = 0.0
        assert not modem.connected.is_set() or modem.session.link.is_open, "ready, port closed"
        await back(modem)  # whatever happened, the driver reconnects by itself
    monkey.stop()
    assert not asking.done(), asking  # no status query failed or outlived its bound
    asking.cancel()

    await back(modem)
    last = await bounded_send(modem, "after the chaos", 5)
    assert last.outcome is Outcome.SENT, (last, pending_dump(modem))
    # Whatever happened, no part went to the network twice, and every part reported
    # sent is one the modem took.
    taken = Counter(s.submit.text for s in vm.submissions)
    assert max(taken.values()) == 1, taken.most_common(3)
    by_mr = {s.mr: s.submit.text for s in vm.submissions}
    for result in results:
        for part in result.parts:
            if part.outcome is Outcome.SENT:
                assert part.mr in by_mr
    outcomes = Counter(r.outcome for r in results)
    assert monkey.unplugs >= 5, monkey.unplugs  # the cable really was pulled
    assert outcomes[Outcome.SENT] and outcomes[Outcome.FAILED] and outcomes[Outcome.UNKNOWN], (
        outcomes
    )

    # close() while a send waits for its result: both return at once.
    vm.core.config.cmgs_delay = 30.0
    vm.core.config.cms_error_rate = 0.0
    taken_before = len(vm.submissions)
    sending = asyncio.create_task(modem.send("+420777123456", "while closing"))
    await until(lambda: len(vm.submissions) > taken_before)
    await asyncio.wait_for(modem.close(), 2)
    done, _ = await asyncio.wait({sending}, timeout=2)
    assert done and sending.result().outcome is Outcome.UNKNOWN
