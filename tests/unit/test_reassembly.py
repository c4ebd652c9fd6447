from datetime import UTC, datetime

from agent.modem.pdu import Deliver
from agent.modem.pdu_fields import Alphabet, Concat
from agent.modem.reassembly import Reassembler

T0 = datetime(2024, 3, 15, 14, 30, tzinfo=UTC)


def part(text, seq, total, ref=7, bits=8, sender="+420774884138", second=0):
    return Deliver(
        smsc=None,
        sender=sender,
        sender_toa=0x91,
        timestamp=T0.replace(second=second),
        pid=0,
        dcs=0,
        alphabet=Alphabet.GSM7,
        message_class=None,
        text=text,
        concat=Concat(ref, total, seq, bits) if total > 1 else None,
    )


def test_a_single_part_message_is_complete_at_once():
    msg = Reassembler().feed(part("hello", 1, 1), now=0)
    assert msg.text == "hello"
    assert msg.complete


def test_parts_out_of_order_are_joined_in_sequence():
    r = Reassembler()
    assert r.feed(part("c", 3, 3, second=3), now=0) is None
    assert r.feed(part("a", 1, 3, second=1), now=1) is None
    msg = r.feed(part("b", 2, 3, second=2), now=2)
    assert msg.text == "abc"
    assert msg.complete
    assert msg.timestamp == T0.replace(second=1)
    assert len(r) == 0


def test_a_duplicated_part_is_dropped():
    r = Reassembler()
    r.feed(part("a", 1, 2), now=0)
    assert r.feed(part("a", 1, 2), now=1) is None
    assert r.feed(part("b", 2, 2), now=2).text == "ab"


def test_references_of_different_senders_and_widths_do_not_mix():
    r = Reassembler()
    r.feed(part("a", 1, 2, bits=8), now=0)
    r.feed(part("X", 2, 2, bits=16), now=0)
    r.feed(part("Y", 2, 2, sender="+420603000000"), now=0)
    assert len(r) == 3
    assert r.feed(part("b", 2, 2, bits=8), now=0).text == "ab"


def test_missing_parts_are_given_up_after_the_timeout_and_delivered_incomplete():
    r = Reassembler(timeout=60)
    r.feed(part("a", 1, 3), now=0)
    r.feed(part("c", 3, 3), now=10)
    assert r.expire(now=59) == []
    (msg,) = r.expire(now=60)
    assert msg.text == "ac"
    assert not msg.complete
    assert msg.missing == [2]
    assert len(r) == 0


def test_flush_hands_back_everything_pending():
    r = Reassembler()
    r.feed(part("a", 1, 2), now=0)
    assert [m.text for m in r.flush()] == ["a"]


def test_a_part_numbered_outside_its_set_is_delivered_alone():
    msg = Reassembler().feed(part("odd", 5, 3), now=0)
    assert msg.text == "odd"
    assert not msg.complete
