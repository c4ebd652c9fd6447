from datetime import UTC, datetime

from bridge import protocol as p
from bridge.agent_session import (
    AckEvents,
    AgentSession,
    ApplyConfig,
    Close,
    ResendEvents,
    State,
    StoreJob,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HELLO = p.Hello(agent="office-1", lines=[p.LineInfo("GSM1", "modem")])


def frames(session):
    return [p.decode(b) for b in session.data_to_send()]


def ready():
    s = AgentSession(HELLO)
    s.data_to_send()
    assert s.receive_data(p.encode(p.Welcome())) == [ResendEvents()]
    return s


def test_the_session_opens_with_hello():
    s = AgentSession(HELLO)
    assert frames(s) == [HELLO]
    assert s.state is State.HELLO_SENT


def test_welcome_makes_it_ready_and_asks_for_the_outbox_to_be_resent():
    s = ready()
    assert s.state is State.READY


def test_a_job_is_stored_before_it_is_acknowledged():
    s = ready()
    job = p.Job(id="m-1", line="GSM1", to="+420774884138", text="hi")
    assert s.receive_data(p.encode(job)) == [StoreJob(job)]
    assert frames(s) == []  # nothing acked yet
    s.job_stored("m-1")
    assert frames(s) == [p.JobAck(id="m-1")]


def test_a_refused_job_says_why():
    s = ready()
    s.job_stored("m-2", refused="job-full", detail="10000 jobs")
    assert frames(s) == [p.JobAck(id="m-2", accepted=False, reason="job-full", detail="10000 jobs")]


def test_events_wait_until_the_session_is_ready():
    s = AgentSession(HELLO)
    s.data_to_send()
    event = p.Sent(event_id=5, job_id="m-1", at=NOW)
    assert s.event(event) is False
    assert frames(s) == []
    s.receive_data(p.encode(p.Welcome()))
    assert s.event(event) is True
    assert frames(s) == [event]


def test_event_acks_and_config_pushes_become_actions():
    s = ready()
    assert s.receive_data(p.encode(p.EventAck(event_ids=[1, 2]))) == [AckEvents([1, 2])]
    push = p.ConfigPush(line="GSM1", gateway="modem", config={"device": "/dev/gsmmodem0"})
    assert s.receive_data(p.encode(push)) == [ApplyConfig(push)]


def test_ping_is_answered():
    s = ready()
    s.receive_data(p.encode(p.Ping(nonce=9)))
    assert frames(s) == [p.Pong(nonce=9)]


def test_a_bad_frame_gets_an_error_back_and_the_session_goes_on():
    s = ready()
    assert s.receive_data(b"{nonsense") == []
    (err,) = frames(s)
    assert isinstance(err, p.Error)
    assert err.code == "bad-frame"
    assert s.state is State.READY


def test_a_peer_that_keeps_sending_garbage_is_cut_off():
    s = ready()
    actions = []
    for _ in range(10):
        actions = s.receive_data(b"garbage")
    assert isinstance(actions[0], Close)
    assert s.state is State.CLOSED


def test_a_job_before_welcome_is_unexpected():
    s = AgentSession(HELLO)
    s.data_to_send()
    assert s.receive_data(p.encode(p.Job(id="x", line="GSM1", to="+1", text="t"))) == []
    (err,) = frames(s)
    assert err.code == "unexpected"


def test_an_unauthorized_agent_stops_for_good():
    s = AgentSession(HELLO)
    (close,) = s.receive_data(p.encode(p.Error(code="unauthorized", detail="bad token")))
    assert close.fatal
    assert "bad token" in close.reason


def test_a_protocol_mismatch_is_fatal_and_says_what_to_do():
    s = AgentSession(HELLO)
    (close,) = s.receive_data(p.encode(p.Welcome(protocol=99)))
    assert close.fatal
    assert "upgrade" in close.reason
