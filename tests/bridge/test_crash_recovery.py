"""agent/bridge/crash_recovery.py on a real outbox reopened after a crash: a spool gets
its handed job again, a modem's handed job is reported and never handed again."""

from __future__ import annotations

from pathlib import Path

from agent.bridge.crash_recovery import recover
from agent.bridge.outbox import Outbox
from bridge import protocol as p


def job(i: int, line: str) -> p.Job:
    return p.Job(id=f"m-{i}", line=line, to="+420774884138", text=f"text {i}")


def test_after_a_crash_spools_get_their_jobs_again_and_modems_report_them(tmp_path: Path):
    box = Outbox(tmp_path / "o.sqlite")
    box.save_line(p.ConfigPush(line="GSM1", gateway="modem", config={"device": "/dev/x"}))
    box.save_line(p.ConfigPush(line="SPOOL", gateway="smstools", config={"spool": "/s"}))
    box.store_job(job(1, "GSM1"))
    box.store_job(job(2, "SPOOL"))
    assert box.claim("GSM1") == job(1, "GSM1")
    assert box.claim("SPOOL") == job(2, "SPOOL")
    box.close()  # the agent dies while both devices hold a job

    box = Outbox(tmp_path / "o.sqlite")
    try:
        recover(box)
        assert box.claim("SPOOL") == job(2, "SPOOL")  # handed again: smsd knows its id
        assert box.claim("GSM1") is None  # never again: the radio may have sent it
        [failed] = box.pending_events()
        assert isinstance(failed, p.Failed)
        assert (failed.job_id, failed.reason) == ("m-1", "outcome-unknown")
        assert box.handed_unfinished() == [job(2, "SPOOL")]
    finally:
        box.close()
