"""Structured logs: one JSON object a line on stderr, with any `extra=` fields included.
Secrets and tokens are never passed to a logger in the first place; and because libraries
log at debug what they see (request headers, URLs, SQL parameters), every line is also
redacted (server/redact.py) before it is written, at every level."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from .redact import redact

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, default=str))


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiosqlite's debug lines quote every statement's parameters (token hashes, sealed
    # secrets): never wanted, even at debug.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
