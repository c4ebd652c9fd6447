"""What each smsd file means as a line event, pure (parsed file in, event out)."""

from __future__ import annotations

from . import smstools_codec as codec
from .events import (
    SpoolDelivered,
    SpoolEvent,
    SpoolFailed,
    SpoolReceived,
    SpoolSent,
    classify_fail_reason,
)


def digits(number: str) -> str:
    """A number as smsd writes it in reports (`From:`): digits, no `+` or `00`."""
    n = number.strip().replace(" ", "").replace("-", "")
    return n[1:] if n.startswith("+") else n[2:] if n.startswith("00") else n


def outcome_event(line: str, job_id: str, parsed: codec.SentFile | codec.FailedFile) -> SpoolEvent:
    """A file in sent/ or failed/ that belongs to `job_id`."""
    if isinstance(parsed, codec.SentFile):
        return SpoolSent(
            line=line,
            job_id=job_id,
            at=parsed.sent,
            # the last part's TP-MR (smsd's default `messageids = 2`) matches the report
            message_ref=parsed.message_ids[-1] if parsed.message_ids else None,
            modem=parsed.modem,
        )
    return SpoolFailed(
        line=line,
        job_id=job_id,
        reason=classify_fail_reason(parsed.fail_reason),
        detail=parsed.fail_reason,
        at=parsed.failed,
    )


def file_event(
    line: str,
    name: str,
    parsed: codec.IncomingSms | codec.StatusReportFile | codec.MissedCall,
    job_id: str | None = None,
) -> SpoolEvent | None:
    """A file in incoming/ or report/; `job_id` is the job a status report answers."""
    if isinstance(parsed, codec.IncomingSms):
        return SpoolReceived(
            line=line,
            source_id=name,
            sender=parsed.sender,
            text=parsed.text,
            data_hex=parsed.data.hex() if parsed.text is None else None,
            sent_at=parsed.sent,
            received_at=parsed.received,
            modem=parsed.modem,
            incomplete=parsed.incomplete,
        )
    if isinstance(parsed, codec.StatusReportFile):
        if parsed.delivered:
            return SpoolDelivered(
                line=line,
                job_id=job_id,
                to=parsed.recipient,
                message_ref=parsed.message_id,
                status=parsed.status,
                at=parsed.discharge,
            )
        if parsed.final:
            return SpoolFailed(
                line=line,
                job_id=job_id,
                reason=f"not-delivered:{parsed.status}",
                detail=parsed.status_text,
                at=parsed.discharge,
            )
    return None  # still-trying reports, missed calls: archived, nothing to report
