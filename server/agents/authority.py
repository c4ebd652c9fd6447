"""May this agent touch this job or this line? Asked for every ack, event and line status
before it is applied (applier.py), so that a stolen or misbehaving agent token can change
nothing but the jobs handed to that agent's own lines.

- A job event (dispatched, sent, delivered, failed) counts only for an outbound message
  whose `line` is one of this agent's (`<agent>/<line>`, set when the job was handed to it).
- A job ack for a queued message must also find it leased by this server process (the
  lease its connection holds); an accepted ack for anything else would mark a message
  dispatched that the agent never got.
- A line status counts only for a line the agent has: one an account gives it, or one it
  named in its Hello. A received SMS on any other line is counted and logged the same
  way, but kept, attached to no account (an SMS is never thrown away; only admins see it).

A refused item changes nothing; it is logged with the agent's name and counted
(`smsbridge_agent_refused_total{agent,reason}`). Refused events are still acknowledged
to the agent: resending them would not make them acceptable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import protocol as p
from sms.model import Direction, MessageState

from ..db.tables import AccountLine, Message

log = logging.getLogger("smsbridge.server.agents")

Item = p.JobAck | p.Event | p.LineStatus
OnRefused = Callable[[str, str], None]  # (agent, reason)


class JobFacts(msgspec.Struct, frozen=True):
    direction: str
    state: str
    line: str | None
    lease_owner: str | None


def job_refusal(
    agent: str, owner: str, item: p.JobAck | p.Event, job: JobFacts | None
) -> str | None:
    """Why `agent` (connected to server process `owner`) may not apply `item` to `job`;
    None when it may. Pure: the facts are looked up by `screen`."""
    if job is None:
        return "unknown-job"
    if job.direction != Direction.OUT.value:
        return "not-a-job"
    if job.line is None or job.line.partition("/")[0] != agent:
        return "not-its-job"
    # (An ack for a job already past queued changes nothing: a resend, let it be.)
    queued = job.state == MessageState.QUEUED.value
    if isinstance(item, p.JobAck) and queued and job.lease_owner != owner:
        return "not-leased"
    return None


def line_refusal(line: str, lines: set[str]) -> str | None:
    return None if line in lines else "not-its-line"


def _job_id(item: Item) -> str | None:
    if isinstance(item, p.JobAck):
        return item.id
    if isinstance(item, p.Dispatched | p.Sent | p.Delivered | p.Failed):
        return item.job_id
    return None


async def screen(
    session: AsyncSession,
    agent: str,
    owner: str,
    items: Sequence[Item],
    hello_lines: set[str],
    on_refused: OnRefused | None = None,
) -> list[Item]:
    """The items `agent` may apply; the others are logged and counted."""
    job_ids = {j for j in map(_job_id, items) if j is not None}
    jobs: dict[str, JobFacts] = {}
    if job_ids:
        rows = await session.execute(
            select(
                Message.id, Message.direction, Message.state, Message.line, Message.lease_owner
            ).where(Message.id.in_(job_ids))
        )
        jobs = {r.id: JobFacts(r.direction, r.state, r.line, r.lease_owner) for r in rows}
    lines: set[str] = set(hello_lines)
    if any(_job_id(i) is None for i in items):  # about a line: Received, LineStatus, calls
        own = await session.execute(select(AccountLine.line).where(AccountLine.agent == agent))
        lines.update(own.scalars())
    allowed: list[Item] = []
    for item in items:
        job_id = _job_id(item)
        if job_id is not None:
            reason = job_refusal(agent, owner, item, jobs.get(job_id))  # type: ignore[arg-type]
            what = f"{type(item).__name__} for job {job_id!r}"
        else:
            line = item.line  # type: ignore[union-attr]
            reason = line_refusal(line, lines)
            what = f"{type(item).__name__} for line {line!r}"
        if reason is None:
            allowed.append(item)
            continue
        if isinstance(item, p.Received):
            # Never thrown away: the store keeps it unattached, for the admins only (no
            # account of another agent ever gets it: it looks lines up by this agent).
            allowed.append(item)
            log.warning("agent %s: %s: %s; kept unattached", agent, what, reason)
        else:
            log.warning("agent %s: refused %s: %s", agent, what, reason)
        if on_refused is not None:
            on_refused(agent, reason)
    return allowed
