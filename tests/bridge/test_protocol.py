import contextlib
from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import protocol as p

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

FRAMES = [
    p.Hello(agent="office-1", lines=[p.LineInfo("GSM1", "modem")], capabilities=["report"]),
    p.Welcome(server="smsbridge 0.1"),
    p.Job(id="m-1", line="GSM1", to="+420774884138", text="Ahoj", report=True),
    p.JobAck(id="m-1", accepted=False, reason="outbox-full", detail="10000 jobs"),
    p.Dispatched(event_id=1, job_id="m-1", at=NOW),
    p.Sent(event_id=2, job_id="m-1", at=NOW, parts=[p.PartRef(1, 77), p.PartRef(2, 78)]),
    p.Delivered(event_id=3, job_id="m-1", at=NOW, part=2, status=0),
    p.Failed(event_id=4, job_id="m-1", at=NOW, reason="cms-error", detail="SC busy", code=192),
    p.Received(
        event_id=5, line="GSM1", sender="+420603000000", text="Díky", at=NOW, received_at=NOW
    ),
    p.EventAck(event_ids=[1, 2, 3]),
    p.LineStatus(line="GSM1", up=True, at=NOW, modem=p.ModemInfo(signal_dbm=-73, signal_bars=4)),
    p.ConfigPush(line="GSM1", gateway="modem", config={"device": "/dev/gsmmodem0"}),
    p.ConfigResult(line="GSM1", applied=False, detail="not in allow-list"),
    p.Ping(nonce=7),
    p.Pong(nonce=7),
    p.Error(code="bad-frame", detail="x"),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
def test_every_frame_round_trips(frame):
    assert p.decode(p.encode(frame)) == frame


def test_the_type_tag_picks_the_struct():
    frame = p.decode(b'{"type":"ping","nonce":3}')
    assert isinstance(frame, p.Ping)


def test_unknown_fields_from_a_newer_peer_are_ignored():
    assert p.decode(b'{"type":"pong","nonce":1,"future":true}') == p.Pong(nonce=1)


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        (b'{"type":"launch"}', "bad-frame", "Invalid value 'launch'"),
        (b'{"type":"job","id":"x"}', "bad-frame", "missing required field `line`"),
        (b'{"type":"job-ack","id":5}', "bad-frame", "$.id"),
        (b"\xff\xfe", "bad-frame", "not a JSON frame"),
        (b"[1,2]", "bad-frame", "Expected `object`"),
        (b" " * (p.MAX_FRAME_BYTES + 1), "too-big", "exceeds"),
    ],
)
def test_malformed_frames_give_a_protocol_error_naming_the_problem(raw, code, words):
    with pytest.raises(p.ProtocolError) as info:
        p.decode(raw)
    assert info.value.code == code
    assert words in info.value.detail
    assert info.value.frame() == p.Error(code=code, detail=info.value.detail)


def test_an_oversized_job_text_is_refused():
    job = p.Job(id="m", line="GSM1", to="+1", text="x" * (p.MAX_TEXT_CHARS + 1))
    with pytest.raises(p.ProtocolError, match="too-big"):
        p.decode(p.encode(job))


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_protocol_error(data):
    with contextlib.suppress(p.ProtocolError):
        p.decode(data)


@settings(max_examples=500)
@given(st.sampled_from(FRAMES), st.integers(0, 200), st.integers(0, 255))
def test_mutated_frames_never_raise_anything_but_protocol_error(frame, pos, value):
    raw = bytearray(p.encode(frame))
    raw[pos % len(raw)] = value
    with contextlib.suppress(p.ProtocolError):
        p.decode(bytes(raw))


def test_decoded_frames_are_plain_structs():
    assert isinstance(p.decode(p.encode(FRAMES[2])), msgspec.Struct)
