"""The planner's control over when and in what order (pure, with a fake clock): send_at,
valid_until, quiet hours and days in the account's time zone, priority and bulk_share."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.routing.planner import AccountRoute, LineState, Waiting, plan
from server.routing.timing import (
    Priority,
    Quiet,
    bulk_share_of,
    parse_days,
    parse_hours,
    quiet_of,
    quiet_until,
)

PRAGUE = "Europe/Prague"
T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)  # a Thursday, 13:00 in Prague
NIGHT = Quiet(start=21 * 60, end=8 * 60, zone=PRAGUE)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def line(key: str = "a/1", **kw: object) -> LineState:
    return LineState(key=key, account_id=1, kind=str(kw.pop("kind", "modem")), **kw)  # type: ignore[arg-type]


def msg(i: int, parts: int = 1, **kw: object) -> Waiting:
    return Waiting(id=f"m{i}", account_id=1, peer="+420777000001", parts=parts, **kw)  # type: ignore[arg-type]


# --- quiet time ----------------------------------------------------------------------


def test_quiet_hours_may_wrap_midnight_in_the_accounts_time_zone() -> None:
    # 21:30 Prague (CET, UTC+1) is 20:30 UTC: quiet until 08:00 Prague = 07:00 UTC.
    assert quiet_until(utc(2026, 11, 26, 20, 30), NIGHT) == utc(2026, 11, 27, 7, 0)
    # 02:00 Prague, after midnight: the same night's end.
    assert quiet_until(utc(2026, 11, 27, 1, 0), NIGHT) == utc(2026, 11, 27, 7, 0)
    assert quiet_until(utc(2026, 11, 27, 7, 0), NIGHT) is None  # 08:00 sharp: not quiet
    assert quiet_until(utc(2026, 11, 26, 19, 59), NIGHT) is None  # 20:59 Prague
    # In summer Prague is UTC+2: the same wall times, other instants.
    assert quiet_until(utc(2026, 7, 1, 19, 0), NIGHT) == utc(2026, 7, 2, 6, 0)


def test_quiet_days_run_into_the_next_mornings_quiet_hours() -> None:
    weekend = Quiet(start=21 * 60, end=8 * 60, days=parse_days("sat,sun"), zone=PRAGUE)
    friday_night = utc(2026, 11, 27, 22, 0)  # 23:00 Friday Prague
    assert quiet_until(friday_night, weekend) == utc(2026, 11, 30, 7, 0)  # Monday 08:00


def test_a_daytime_window_and_bad_values() -> None:
    lunch = Quiet(start=12 * 60, end=13 * 60, zone="UTC")
    assert quiet_until(utc(2026, 11, 26, 12, 30), lunch) == utc(2026, 11, 26, 13, 0)
    assert quiet_until(utc(2026, 11, 26, 13, 30), lunch) is None
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_hours("9-17")
    with pytest.raises(ValueError, match="is not a day"):
        parse_days("sat,holiday")
    quiet = quiet_of({"quiet_hours": "21:00-08:00", "quiet_hours_high": "send"}, "UTC")
    assert (quiet.start, quiet.end, quiet.zone, quiet.high_send) == (1260, 480, "UTC", True)
    assert bulk_share_of({}) == 0.5 and bulk_share_of({"bulk_share": "20%"}) == 0.2


# --- the planner ---------------------------------------------------------------------


def test_a_message_waits_for_its_send_at_and_the_plan_says_when_to_wake() -> None:
    later = T0 + dt.timedelta(minutes=5)
    got = plan([line()], [msg(1, send_at=later)], {1: AccountRoute(account_id=1)}, T0)
    assert got.assign == [] and got.wake_at == later
    assert got.waiting["m1"] == f"scheduled for {later.isoformat()}"
    assert plan([line()], [msg(1, send_at=later)], {1: AccountRoute(account_id=1)}, later).assign


def test_a_message_past_its_valid_until_expires_instead_of_going() -> None:
    got = plan([line()], [msg(1, valid_until=T0), msg(2)], {1: AccountRoute(account_id=1)}, T0)
    assert got.expired == ["m1"] and got.assign == [("m2", "a/1")]


def test_quiet_hours_hold_a_message_and_say_until_when() -> None:
    night = utc(2026, 11, 26, 21, 0)  # 22:00 Prague
    routes = {1: AccountRoute(account_id=1, quiet=NIGHT)}
    got = plan([line()], [msg(1), msg(2, priority=Priority.HIGH)], routes, night)
    assert got.assign == []
    assert got.waiting["m1"] == "waiting: quiet hours until 08:00 Europe/Prague"
    assert got.wake_at == utc(2026, 11, 27, 7, 0)
    # quiet_hours_high = send lets high priority through, nothing else.
    routes = {1: AccountRoute(account_id=1, quiet=Quiet(start=1260, end=480, high_send=True))}
    got = plan([line(kind="smstools")], [msg(1), msg(2, priority=Priority.HIGH)], routes, night)
    assert got.assign == [("m2", "a/1")]


def test_one_that_expires_in_quiet_hours_is_woken_to_expire() -> None:
    night = utc(2026, 11, 26, 21, 0)
    soon = night + dt.timedelta(minutes=10)
    got = plan(
        [line()], [msg(1, valid_until=soon)], {1: AccountRoute(account_id=1, quiet=NIGHT)}, night
    )
    assert got.wake_at == soon


def test_high_goes_first_then_normal_then_bulk_each_oldest_first() -> None:
    messages = [
        msg(0, priority=Priority.BULK),
        msg(1),
        msg(2, priority=Priority.HIGH),
        msg(3),
        msg(4, priority=Priority.HIGH),
    ]
    got = plan([line(kind="smstools")], messages, {1: AccountRoute(account_id=1)}, T0)
    assert [m for m, _ in got.assign] == ["m2", "m4", "m1", "m3", "m0"]


def test_bulk_uses_at_most_its_share_of_the_minute_budget() -> None:
    messages = [msg(i, priority=Priority.BULK) for i in range(10)] + [msg(10)]
    spool = line(kind="smstools", per_minute=10)
    got = plan([spool], messages, {1: AccountRoute(account_id=1, bulk_share=0.3)}, T0)
    assert [m for m, _ in got.assign] == ["m10", "m0", "m1", "m2"]
    assert got.waiting["m3"] == (
        "waiting: line a/1 has sent 3 of 3 bulk segments this minute (bulk_share)"
    )


# --- simulation with a fake clock ------------------------------------------------------


def simulate(
    items: list[tuple[int, int, float | None, float | None]],
    per_minute: int | None,
    quiet: Quiet | None,
    share: float,
    step: float,
    rounds: int,
    kind: str = "modem",
) -> tuple[dict[str, dt.datetime], list[str], list[list[Waiting]]]:
    """One line; messages (parts, priority, send_at offset s, valid_until offset s).
    Returns when each was sent, which expired, and what was sent in each round."""
    queue = [
        Waiting(
            id=f"m{i:03d}",
            account_id=1,
            peer="+420777000001",
            parts=parts,
            priority=priority,
            send_at=None if at is None else T0 + dt.timedelta(seconds=at),
            valid_until=None if until is None else T0 + dt.timedelta(seconds=until),
        )
        for i, (parts, priority, at, until) in enumerate(items)
    ]
    routes = {1: AccountRoute(account_id=1, quiet=quiet, bulk_share=share)}
    sent: dict[str, dt.datetime] = {}
    log: list[tuple[dt.datetime, Waiting]] = []
    expired: list[str] = []
    per_round: list[list[Waiting]] = []
    now = T0
    for _ in range(rounds):
        minute = [(t, m) for t, m in log if t > now - dt.timedelta(minutes=1)]
        state = LineState(
            key="a/1",
            account_id=1,
            kind=kind,
            per_minute=per_minute,
            sent_minute=sum(m.parts for _, m in minute),
            sent_day=sum(m.parts for _, m in log),
            bulk_minute=sum(m.parts for _, m in minute if m.priority == Priority.BULK),
        )
        got = plan([state], queue, routes, now)
        by_id = {m.id: m for m in queue}
        this_round = []
        for mid, _ in got.assign:
            sent[mid] = now
            log.append((now, by_id[mid]))
            this_round.append(by_id[mid])
        per_round.append(this_round)
        expired += got.expired
        gone = set(sent) | set(got.expired)
        queue = [m for m in queue if m.id not in gone]
        if not queue:
            break
        now += dt.timedelta(seconds=step)
        if not got.assign and got.wake_at is not None:
            now = max(now, got.wake_at)  # nothing to do until then: the dispatcher sleeps
    return sent, expired, per_round


ITEMS = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.sampled_from([Priority.HIGH, Priority.NORMAL, Priority.BULK, Priority.BULK]),
        st.one_of(st.none(), st.floats(-60, 3 * 3600)),
        st.one_of(st.none(), st.floats(-60, 6 * 3600)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(
    items=ITEMS,
    per_minute=st.one_of(st.none(), st.integers(3, 12)),
    quiet=st.one_of(
        st.none(),
        st.builds(
            lambda start, length, zone, high: Quiet(
                start=start, end=(start + length) % 1440, zone=zone, high_send=high
            ),
            st.integers(0, 1439),
            st.integers(0, 10 * 60),
            st.sampled_from([PRAGUE, "UTC", "America/New_York"]),
            st.booleans(),
        ),
    ),
    share=st.sampled_from([0.2, 0.5, 1.0]),
    kind=st.sampled_from(["modem", "smstools"]),
)
def test_never_early_never_quiet_never_late_bulk_within_its_share(
    items, per_minute, quiet, share, kind
) -> None:
    start = {f"m{i:03d}": it for i, it in enumerate(items)}
    sent, expired, _ = simulate(items, per_minute, quiet, share, 20.0, 2000, kind)
    for mid, when in sent.items():
        _, priority, at, until = start[mid]
        assert at is None or when >= T0 + dt.timedelta(seconds=at)  # never before send_at
        assert until is None or when < T0 + dt.timedelta(seconds=until)  # never after
        if quiet is not None and not (priority == Priority.HIGH and quiet.high_send):
            assert quiet_until(when, quiet) is None  # never in quiet hours
    for mid in expired:
        assert mid not in sent and start[mid][3] is not None
    # Every message either went or expired (the rounds outlast any quiet time and budget).
    assert set(sent) | set(expired) == set(start)
    if per_minute is not None:
        limit = max(1, int(per_minute * share))
        times = sorted(set(sent.values()))
        for t in times:
            window = [mid for mid, w in sent.items() if t <= w < t + dt.timedelta(minutes=1)]
            total = sum(start[m][0] for m in window)
            bulk = sum(start[m][0] for m in window if start[m][1] == Priority.BULK)
            assert total <= per_minute or len(window) == 1  # pacing still exact
            bulk_items = [m for m in window if start[m][1] == Priority.BULK]
            assert bulk <= limit or len(bulk_items) == 1  # bulk never above its share


@settings(max_examples=40, deadline=None)
@given(
    priorities=st.lists(st.sampled_from(list(Priority)), min_size=2, max_size=40),
    per_minute=st.integers(1, 6),
)
def test_high_first_and_first_in_first_out_within_a_priority(priorities, per_minute) -> None:
    items = [(1, p, None, None) for p in priorities]
    sent, _, _ = simulate(items, per_minute, None, 1.0, 10.0, 6 * len(items), "modem")
    order = sorted(sent, key=lambda m: sent[m])
    assert len(order) == len(items)
    keys = [(priorities[int(m[1:])], int(m[1:])) for m in order]
    assert keys == sorted(keys)
