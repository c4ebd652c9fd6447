"""Failed logins from one address slow down its next attempts; others are not affected."""

from __future__ import annotations

from server.login_throttle import FREE_FAILURES, MAX_WAIT, LoginThrottle


def test_a_few_mistakes_are_free():
    t = LoginThrottle()
    for _ in range(FREE_FAILURES):
        t.failed("10.0.0.1", 100.0)
    assert t.wait("10.0.0.1", 100.0) == 0.0


def test_each_further_failure_doubles_the_wait_up_to_the_cap():
    t = LoginThrottle()
    waits = []
    for _ in range(FREE_FAILURES + 12):
        t.failed("10.0.0.1", 100.0)
        waits.append(t.wait("10.0.0.1", 100.0))
    tail = waits[FREE_FAILURES:]
    assert tail[:3] == [2.0, 4.0, 8.0]
    assert max(tail) == MAX_WAIT
    assert t.wait("10.0.0.2", 100.0) == 0.0  # another address


def test_the_wait_runs_out_and_success_forgets():
    t = LoginThrottle()
    for _ in range(FREE_FAILURES + 1):
        t.failed("a", 0.0)
    assert t.wait("a", 1.0) == 1.0
    assert t.wait("a", 2.5) == 0.0
    t.succeeded("a")
    t.failed("a", 3.0)
    assert t.wait("a", 3.0) == 0.0  # counting starts again


def test_a_quiet_hour_forgets_an_address():
    t = LoginThrottle()
    for _ in range(FREE_FAILURES + 3):
        t.failed("a", 0.0)
    assert t.wait("a", 1.0) > 0
    assert t.wait("a", 3601.0) == 0.0
