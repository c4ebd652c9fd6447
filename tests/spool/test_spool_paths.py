"""Paths the spool lines make come from values the agent controls: a line's state folder
is a slug and hash of its name under `state_dir`, and a job id is a file name only when
it has the protocol's form (issue #19, items 3 and 4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.lines.spool import line_state_dir, smslib_line
from agent.spool.events import SpoolJob
from agent.spool.smslib_line import SmslibConfig, SmslibLine
from agent.spool.smslib_tables import SmslibTables
from bridge import protocol as p
from tests.spool.recorder import Recorder


@pytest.mark.parametrize("name", ["../../ESCAPED", "/tmp/x/ESCAPED", "..", ".", "", "a/../../b"])
def test_a_hostile_line_name_stays_inside_the_lines_folder(tmp_path, name):
    folder = line_state_dir(tmp_path, name)
    assert folder.parent == tmp_path / "lines"
    assert "/" not in folder.name and not folder.name.startswith(".")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_line_folders_are_inside_and_never_shared(a, b):
    root = Path("/nonexistent/state")
    fa, fb = line_state_dir(root, a), line_state_dir(root, b)
    assert fa.parent == root / "lines" and len(fa.name) <= 57
    assert (fa == fb) == (a == b)


def test_an_upgraded_agent_keeps_the_folder_of_a_plainly_named_line(tmp_path):
    old = tmp_path / "lines" / "GSM#2"
    (old / "pending").mkdir(parents=True)
    (old / "pending" / "m-1.json").write_text("{}")
    new = line_state_dir(tmp_path, "GSM#2")
    assert (new / "pending" / "m-1.json").read_text() == "{}"
    assert not old.exists()
    assert line_state_dir(tmp_path, "GSM#2") == new  # the second time: nothing to move


def test_an_old_folder_reached_through_a_symlink_is_not_taken(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "lines").mkdir()
    (tmp_path / "lines" / "GSM1").symlink_to(elsewhere)
    new = line_state_dir(tmp_path, "GSM1")
    assert not new.exists() and elsewhere.is_dir()


@pytest.mark.parametrize(
    "job_id", ["../x", "../../../tmp/ESCAPED", "/tmp/abs", ".hidden", "a/b", ""]
)
async def test_smslib_refuses_a_job_id_that_is_not_a_plain_name(tmp_path, job_id):
    url = f"sqlite:///{tmp_path}/smslib.db"
    SmslibTables().create(sa.create_engine(url))
    line = SmslibLine(
        "sql",
        SmslibConfig.from_account(
            {"sqlURL": url, "state_dir": str(tmp_path / "state"), "poll_seconds": 3600}
        ),
        Recorder(),
    )
    await line.start()
    try:
        with pytest.raises(ValueError, match="job id"):
            await line.submit(SpoolJob(id=job_id, to="+420777123456", text="x"))
    finally:
        await line.stop()
    written = {str(q.relative_to(tmp_path)) for q in tmp_path.rglob("*")}
    assert written == {
        "smslib.db",
        "state",
        "state/smslib",
        "state/smslib/pending",
        "state/smslib/cursor",
    }


async def test_a_spool_line_fails_a_job_whose_id_cannot_be_a_file_name(tmp_path):
    url = f"sqlite:///{tmp_path}/smslib.db"
    SmslibTables().create(sa.create_engine(url))
    push = p.ConfigPush(line="../../ESCAPED", gateway="smslib", config={"sqlURL": url})
    line = smslib_line(push, tmp_path / "state")

    class Ctx:
        async def emit(self, event):
            return event

    await line.start(Ctx())  # type: ignore[arg-type]
    try:
        job = p.Job(id="../../../ESCAPED", line=push.line, to="+420777123456", text="x")
        (failed,) = await line.send(job)
        assert isinstance(failed, p.Failed) and failed.reason == "refused"
        assert "is not of the form" in failed.detail
    finally:
        await line.close()
    assert sorted(os.listdir(tmp_path)) == ["smslib.db", "state"]
    assert not list(tmp_path.rglob("ESCAPED*"))


@pytest.mark.parametrize(
    ("job_id", "ok"),
    [
        ("0f3c9a1e" * 4, True),
        ("m-1", True),
        ("a.b_c", True),
        ("..", False),
        (".x", False),
        ("a/b", False),
        ("x" * 65, False),
        ("", False),
        ("é", False),
    ],
)
def test_the_protocol_job_id_form(job_id, ok):
    assert p.is_job_id(job_id) is ok
