from datetime import UTC, datetime

import pytest

from agent.bridge.outbox import JobState, Limits, Outbox, OutboxFull
from bridge.protocol import Failed, Job, Received, Sent

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def job(i: int, line: str = "GSM1") -> Job:
    return Job(id=f"m-{i}", line=line, to="+420774884138", text=f"text {i}")


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite")
    yield box
    box.close()


def test_a_stored_job_survives_reopening(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    assert box.store_job(job(1)) is JobState.NEW
    box.close()
    box = Outbox(tmp_path / "o.sqlite")
    assert box.claim("GSM1") == job(1)


def test_a_resent_job_is_recognised_and_not_stored_twice(outbox):
    assert outbox.store_job(job(1)) is JobState.NEW
    assert outbox.store_job(job(1)) is JobState.STORED
    outbox.claim("GSM1")
    assert outbox.store_job(job(1)) is JobState.HANDED
    assert outbox.claim("GSM1") is None


def test_a_handed_job_is_never_handed_again_even_after_a_crash(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    box.store_job(job(1))
    assert box.claim("GSM1") == job(1)
    box.close()  # the agent dies before the device answered
    box = Outbox(tmp_path / "o.sqlite")
    assert box.claim("GSM1") is None
    assert box.handed_unfinished() == [job(1)]


def test_jobs_are_claimed_oldest_first_per_line(outbox):
    outbox.store_job(job(1), now=10)
    outbox.store_job(job(2, line="GSM2"), now=11)
    outbox.store_job(job(3), now=12)
    assert [outbox.claim("GSM1").id, outbox.claim("GSM1").id] == ["m-1", "m-3"]
    assert outbox.claim("GSM2").id == "m-2"
    assert outbox.queued_for("GSM1") == 0


def test_finishing_a_job_stores_its_events_with_increasing_ids(outbox):
    outbox.store_job(job(1))
    outbox.claim("GSM1")
    sent = Sent(event_id=0, job_id="m-1", at=NOW)
    (stored,) = outbox.finish("m-1", sent)
    assert stored.event_id > 0
    assert outbox.store_job(job(1)) is JobState.DONE
    other = outbox.add_event(Failed(event_id=0, job_id="m-2", at=NOW, reason="x"))
    assert other.event_id > stored.event_id
    assert [e.event_id for e in outbox.pending_events()] == [stored.event_id, other.event_id]


def test_events_stay_until_acknowledged_and_ids_are_never_reused(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    r = Received(event_id=0, line="GSM1", sender="+1", text="hi", at=NOW, received_at=NOW)
    first = box.add_event(r)
    second = box.add_event(r)
    assert box.ack_events([first.event_id, second.event_id]) == 2
    assert box.pending_events() == []
    box.close()
    box = Outbox(tmp_path / "o.sqlite")
    assert box.add_event(r).event_id > second.event_id


def test_a_full_outbox_refuses_jobs_with_a_reason_and_keeps_what_it_has(tmp_path):
    box = Outbox(tmp_path / "o.sqlite", Limits(max_jobs=2))
    box.store_job(job(1))
    box.store_job(job(2))
    with pytest.raises(OutboxFull) as info:
        box.store_job(job(3))
    assert info.value.reason == "job-full"
    assert "limit 2" in str(info.value)
    assert box.job_counts() == {"stored": 2}


def test_too_little_disk_refuses_new_events(tmp_path):
    box = Outbox(tmp_path / "o.sqlite", Limits(min_free_bytes=1 << 62))
    r = Received(event_id=0, line="GSM1", sender="+1", text="hi", at=NOW, received_at=NOW)
    with pytest.raises(OutboxFull) as info:
        box.add_event(r)
    assert info.value.reason == "disk-full"


def test_old_finished_jobs_are_pruned(outbox):
    outbox.store_job(job(1))
    outbox.claim("GSM1")
    outbox.finish("m-1", now=0)
    assert outbox.prune(now=10**9) == 1
    assert outbox.job_counts() == {}
