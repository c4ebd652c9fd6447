"""The dispatcher every web gateway shares: per-account rate and concurrency, backoff,
a bug in one send failing only that message, the same message never twice in flight."""

from __future__ import annotations

import asyncio

from server.gateways.dispatch import Dispatcher, Failed, Outcome, Policy, Retry, Sent

from .conftest import InstantSleep, MemorySink, job


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_rate_is_kept_per_account(sink: MemorySink) -> None:
    clock = Clock()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))

    async def send_one(_job) -> Outcome:  # type: ignore[no-untyped-def]
        return Sent()

    d = Dispatcher("t", send_one, sink, policy=Policy(rate=4.0), sleep=sleep, clock=clock)
    await d.hand_off([job(f"a{i}", account_id=1) for i in range(3)] + [job("b0", account_id=2)])
    await d.drain()
    # Account 1 starts at 0, 0.25 and 0.5 s; account 2 is not held back by account 1.
    assert sorted(waits) == [0.25, 0.5]
    assert len(sink.reports) == 4


async def test_concurrency_is_bounded_per_account(sink: MemorySink) -> None:
    in_flight = peak = 0
    release = asyncio.Event()

    async def send_one(_job) -> Outcome:  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return Sent()

    d = Dispatcher("t", send_one, sink, policy=Policy(concurrency=3, rate=0))
    await d.hand_off([job(f"m{i}") for i in range(10)])
    for _ in range(5):
        await asyncio.sleep(0)
    assert peak == 3
    release.set()
    await d.drain()
    assert peak == 3 and len(sink.reports) == 10


async def test_a_bug_fails_only_its_message(sink: MemorySink) -> None:
    async def send_one(j) -> Outcome:  # type: ignore[no-untyped-def]
        if j.id == "bad":
            raise KeyError("boom")
        return Sent("ref-" + j.id)

    d = Dispatcher("t", send_one, sink, policy=Policy(rate=0))
    await d.hand_off([job("bad"), job("good")])
    await d.drain()
    assert sink.state_of("bad")[:2] == ("failed", "gateway_error")
    assert "KeyError" in sink.state_of("bad")[2] and sink.refs["good"] == "ref-good"


async def test_the_same_message_is_never_twice_in_flight(sink: MemorySink) -> None:
    calls = 0

    async def send_one(_job) -> Outcome:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return Sent()

    d = Dispatcher("t", send_one, sink, policy=Policy(rate=0))
    await d.hand_off([job("m1"), job("m1")])
    await d.hand_off([job("m1")])
    await d.drain()
    assert calls == 1
    await d.hand_off([job("m1")])  # done: a later hand-off (a resume) may send again
    await d.drain()
    assert calls == 2


async def test_backoff_doubles_up_to_the_cap(sink: MemorySink, instant: InstantSleep) -> None:
    outcomes: list[Outcome] = [Retry("x", "y")] * 6 + [Failed("z", "final")]

    async def send_one(_job) -> Outcome:  # type: ignore[no-untyped-def]
        return outcomes.pop(0)

    policy = Policy(max_attempts=10, base_delay=1.0, max_delay=8.0, rate=0)
    d = Dispatcher("t", send_one, sink, policy=policy, sleep=instant)
    await d.hand_off([job("m1")])
    await d.drain()
    caps = [1, 2, 4, 8, 8, 8]
    assert all(c / 2 <= got <= c for got, c in zip(instant.delays, caps, strict=True))
    assert sink.state_of("m1") == ("failed", "z", "final")
