"""Printing for technician commands: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import sys
from typing import Any

import msgspec


def print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
    sys.stdout.flush()


def print_table(rows: list[list[str]], header: list[str]) -> None:
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def print_fields(fields: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name.ljust(width)}  {'-' if value is None else value}")


def fail(command: str, message: str, code: int = 1) -> int:
    print(f"sms-agent {command}: {message}", file=sys.stderr)
    return code
