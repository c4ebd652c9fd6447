"""Properties of the AT engine: how bytes are split never changes the events."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.modem.at import ATEngine, Event, Final, Unsolicited

SESSION: list[tuple[str, bytes]] = [
    ("AT", b"AT\r\r\nOK\r\n"),
    ("AT+CSQ", b"\r\n^RSSI:5\r\n+CSQ: 21,99\r\n\r\nOK\r\n\r\n"),
    ("AT+CMGL=4", b'+CMGL: 0,1,,5\r\nAABB\r\n+CMTI: "SM",2\r\n+CDS: 5\r\nCCDD\r\nOK\r'),
    ("AT+CREG?", b"+CREG: 0,1\nOK\n"),
    ("AT+CPMS?", b'\r\n+CPMS: "SM",1,20,"SM",1,20,"SM",1,20\r\n\r\n+CME ERROR: 14\r\n'),
]


def feed(chunks_per_command: list[list[bytes]]) -> list[Event]:
    engine = ATEngine()
    events: list[Event] = []
    for (command, _), chunks in zip(SESSION, chunks_per_command, strict=True):
        engine.send(command)
        for chunk in chunks:
            events += engine.receive_data(chunk)
    return events


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


EXPECTED = feed([[data] for _, data in SESSION])


def test_the_whole_session_gives_these_events() -> None:
    finals = [e for e in EXPECTED if isinstance(e, Final)]
    urcs = [e.name for e in EXPECTED if isinstance(e, Unsolicited)]
    assert [f.ok for f in finals] == [True, True, True, True, False]
    assert urcs == ["^RSSI", "+CMTI", "+CDS"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(min_value=0, max_value=200), max_size=8), min_size=5, max_size=5)
)
def test_any_split_of_the_reads_gives_the_same_events(cuts: list[list[int]]) -> None:
    chunks = [split(data, c) for (_, data), c in zip(SESSION, cuts, strict=True)]
    assert feed(chunks) == EXPECTED


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_engine(data: bytes) -> None:
    engine = ATEngine()
    engine.send("AT")
    engine.receive_data(data)
    engine.expire()
    engine.send("AT")  # still usable after whatever came
