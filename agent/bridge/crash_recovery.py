"""Crash recovery: what the outbox holds after the agent died, settled before any line
starts again.

A job handed to a device whose outcome was never recorded: the agent died in between.
A spool recognises a job it already has, so it gets the job again; a modem may have
sent it, so it is never handed again and is reported `outcome-unknown`.
"""

from __future__ import annotations

from bridge import protocol as p

from .lines import IDEMPOTENT_GATEWAYS, utcnow
from .outbox import Outbox


def recover(outbox: Outbox) -> None:
    for push in outbox.saved_lines():
        if push.gateway in IDEMPOTENT_GATEWAYS:
            outbox.requeue_handed(push.line)
    for job in outbox.handed_unfinished():
        outbox.finish(
            job.id,
            p.Failed(
                event_id=0,
                job_id=job.id,
                at=utcnow(),
                reason="outcome-unknown",
                detail="the agent stopped while the device had this message; "
                "it may or may not have been sent, so it is not sent again",
            ),
        )
