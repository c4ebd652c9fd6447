"""A small seeded round of bench/fuzz.py: every parser that reads what others wrote
raises only its documented error. The bench runs 10^6 inputs per parser; this runs a
few thousand, plus the inputs that broke parsers before."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from agent.modem.at import ATEngine, Final
from agent.spool import smstools_codec as codec

_spec = importlib.util.spec_from_file_location(
    "bench_fuzz", Path(__file__).resolve().parents[1] / "bench" / "fuzz.py"
)
assert _spec and _spec.loader
fuzz = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fuzz  # dataclasses look their module up
_spec.loader.exec_module(fuzz)

TARGETS = {t.name: t for t in fuzz.targets()}


def test_every_parser_of_the_issue_is_fuzzed():
    assert {"at", "pdu", "smsd-sent", "smsd-failed", "smsd-incoming", "smslib-rows", "frames",
            "push", "smsbrana", "o2", "account-config"} <= set(TARGETS)  # fmt: skip


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mutated_inputs_raise_only_the_documented_error(name):
    report = fuzz.run(TARGETS[name], 4000, seed=20261204)
    found = {
        f"{kind} at {where}: {crash.message} <- {crash.data!r}"
        for (kind, where), crash in report.crashes.items()
    }
    assert not found


def test_superscript_message_id_in_a_sent_file_is_not_a_crash():
    sent = codec.parse_sent(b"To: 420777123456\nSent: 26-11-26 10:00:00\nMessage_id: \xc2\xb2\n\nx")
    assert sent.message_ids == ()
    with pytest.raises(codec.SpoolFileError, match="numeric 'Message_id:'"):
        codec.parse_incoming(
            b"From: 420777123456\n\nSMS STATUS REPORT\nMessage_id: 7\xc2\xb27\nStatus: 0,Ok\n"
        )


def test_a_superscript_error_code_from_the_modem_is_an_error_without_a_code():
    engine = ATEngine()
    engine.send("AT+CSQ")
    (final,) = engine.receive_data(b"\r\n+CMS ERROR: 50\xb2\r\n")
    assert isinstance(final, Final) and not final.ok
