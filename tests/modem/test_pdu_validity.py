"""encode_submit's validity period: the TP-VPF bit and the TP-VP octet go together."""

from __future__ import annotations

import pytest

from agent.modem.pdu import Submit, decode, encode_submit


def test_zero_validity_is_refused_instead_of_a_pdu_without_its_vp_octet() -> None:
    # Before the fix: TP-VPF said "relative" but the TP-VP octet was left out, so the
    # modem (and our decoder) read the DCS as TP-VP and the PDU as garbage.
    with pytest.raises(ValueError, match="validity must be positive"):
        encode_submit("+420777123456", "hi", validity_minutes=0)


def test_validity_round_trips() -> None:
    [part] = encode_submit("+420777123456", "hi", validity_minutes=1440)
    message = decode(part.pdu)
    assert isinstance(message, Submit) and message.validity_minutes == 1440
