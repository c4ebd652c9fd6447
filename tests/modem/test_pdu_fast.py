"""The decoder's fast path against its careful path: on any bytes, the same result (same
fields, same time zones) or the same PDUError (same message, offset and field)."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agent.modem import pdu
from agent.modem.pdu import PDUError, decode, encode_submit
from agent.modem.pdu_build import encode_deliver, encode_status_report
from sms import gsm7
from sms.segment import Encoding

gsm_chars = list(gsm7.BASIC_TABLE.replace("\x1b", "")) + list("€[]{}|^~\\\x0c")
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(gsm_chars),
        st.sampled_from(list("ěščřžýáíéúůďťň\x00")),
        st.characters(codec="utf-16", exclude_categories=("Cs",)),
    ),
    max_size=400,
)
numbers = st.one_of(
    st.from_regex(r"\+?[0-9*#]{1,20}", fullmatch=True),
    st.sampled_from(["Bank", "O2 Info", "Vodafone€", "X"]),
)
smscs = st.one_of(st.none(), st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True))
zones = st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
stamps = st.builds(
    lambda when, tz: when.replace(tzinfo=tz),
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    ),
    zones,
)


def outcome(decoder, data: bytes, has_smsc: bool | None) -> tuple:
    """What a decoder makes of `data`: the result's type and repr (repr shows the
    time zone, which datetime equality ignores), or the PDUError's details."""
    try:
        result = decoder(data, has_smsc)
    except PDUError as exc:
        return ("error", str(exc), exc.offset, exc.field)
    return ("ok", type(result), repr(result))


def assert_same(data: bytes) -> None:
    for has_smsc in (True, None):  # False never takes the fast path
        fast = outcome(lambda d, h: decode(d, has_smsc=h), data, has_smsc)
        careful = outcome(pdu._decode_careful, data, has_smsc)
        assert fast == careful, (data.hex(), has_smsc)
    taken = pdu._decode_fast(data) if data else None
    if taken is not None:
        assert repr(taken) == repr(pdu._decode(data, True))


@st.composite
def valid_pdus(draw) -> list[str]:
    """PDUs of every kind the project writes: SUBMITs from the encoder, DELIVERs and
    status reports as the virtual modem builds them."""
    kind = draw(st.sampled_from(["submit", "submit8", "deliver", "report"]))
    if kind == "submit":
        parts = encode_submit(
            draw(numbers),
            draw(texts),
            report=draw(st.booleans()),
            encoding=draw(st.sampled_from([None, Encoding.UCS2])),
            validity_minutes=draw(st.one_of(st.none(), st.integers(1, 700_000))),
            flash=draw(st.booleans()),
            smsc=draw(smscs),
            reference=draw(st.integers(0, 0xFFFF)),
            ref16=draw(st.booleans()),
            reject_duplicates=draw(st.booleans()),
        )
        return [p.pdu for p in parts]
    if kind == "submit8":
        parts = encode_submit(draw(numbers), draw(st.binary(max_size=300)), smsc=draw(smscs))
        return [p.pdu for p in parts]
    if kind == "deliver":
        return encode_deliver(
            draw(numbers),
            draw(texts),
            timestamp=draw(stamps),
            smsc=draw(smscs),
            encoding=draw(st.sampled_from([None, Encoding.UCS2])),
            reference=draw(st.integers(0, 0xFF)),
            ref16=draw(st.booleans()),
            report_indication=draw(st.booleans()),
        )
    return [
        encode_status_report(
            draw(st.integers(0, 255)),
            draw(numbers),
            status=draw(st.integers(0, 255)),
            sc_timestamp=draw(stamps),
            discharge_time=draw(stamps),
            smsc=draw(smscs),
        )
    ]


@st.composite
def mutated(draw) -> bytes:
    """A valid PDU with a few octets changed, cut short or grown: the shapes just
    outside what the fast path takes."""
    data = bytearray(bytes.fromhex(draw(st.sampled_from(draw(valid_pdus())))))
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["set", "flip", "cut", "add"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if what == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif what == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif what == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
    return bytes(data)


def short_bases() -> list[bytes]:
    """Short PDUs of each shape the fast path takes (last parts of long messages, so
    the UDH is there): every field is in reach of the exhaustive test below."""
    when = datetime(2026, 12, 4, 20, 30, 59, tzinfo=timezone(timedelta(hours=-3.75)))
    long_gsm, long_ucs2 = "x" * 160 + "Ahoj [€]", "ř" * 70 + "Č😀"
    pdus = [
        encode_submit("+420774884138", "Ahoj €", validity_minutes=60)[0].pdu,
        encode_submit("420774884138", "Hi", reject_duplicates=True, smsc="+4206030520")[0].pdu,
        encode_submit("Bank", "Zdar", encoding=Encoding.UCS2)[0].pdu,
        encode_submit("+42077", b"\x00\x01\xff")[0].pdu,
        encode_submit("+420774884138", long_gsm, smsc="+420603052000", reference=7)[-1].pdu,
        encode_submit("+420774884138", long_ucs2, report=True, reference=9)[-1].pdu,
        encode_deliver("+420774884138", "Ahoj", timestamp=when)[0],
        encode_deliver("O2 Info", long_gsm, timestamp=when, smsc=None)[-1],
        encode_deliver("+447700900123", long_ucs2, timestamp=when)[-1],
    ]
    return [bytes.fromhex(p) for p in pdus]


def full_bases() -> list[bytes]:
    """Full single parts with the longest SMSC and addresses, two octets over."""
    twenty = "+12345678901234567890"
    when = datetime(2026, 12, 4, 20, 30, 59, tzinfo=UTC)
    pdus = [
        encode_submit(twenty, "x" * 160, smsc=twenty)[0].pdu,
        encode_submit(twenty, "ř" * 70, smsc=twenty, validity_minutes=5)[0].pdu,
        encode_deliver(twenty, "x" * 160, timestamp=when, smsc=twenty)[0],
    ]
    return [bytes.fromhex(p) + b"\x00\x00" for p in pdus]


def test_fast_path_agrees_on_every_octet_of_short_pdus_set_to_every_value():
    # Each field's bounds (lengths, UDL against the header, BCD digits, the TZ octet)
    # are checked by setting the octet that holds it to every value; and every cut.
    for base in short_bases():
        assert pdu._decode_fast(base) is not None, base.hex()
        for at in range(len(base)):
            assert_same(base[:at])
            for value in range(256):
                assert_same(base[:at] + bytes([value]) + base[at + 1 :])
    for base in full_bases():
        assert pdu._decode_fast(base) is not None, base.hex()
        for at in range(40):  # the header and the first octets of user data
            for value in range(256):
                assert_same(base[:at] + bytes([value]) + base[at + 1 :])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
@example(b"")
@example(b"\x00")
@example(bytes.fromhex("0001000B916407281553F80000"))
def test_fast_path_agrees_on_arbitrary_bytes(data):
    assert_same(data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(valid_pdus())
def test_fast_path_agrees_on_valid_pdus(pdus):
    for hex_pdu in pdus:
        assert_same(bytes.fromhex(hex_pdu))


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fast_path_agrees_on_mutated_pdus(data):
    assert_same(data)


@given(texts, st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True), st.booleans())
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_fast_path_takes_the_common_shapes(text, number, deliver):
    # Without this the fast path could give up on everything and the tests above pass.
    if deliver:
        when = datetime(2026, 12, 4, 20, 30, tzinfo=UTC)
        pdus = encode_deliver(number, text, timestamp=when, smsc="+420603052000")
    else:
        pdus = [p.pdu for p in encode_submit(number, text, report=True, validity_minutes=60)]
    for hex_pdu in pdus:
        assert pdu._decode_fast(bytes.fromhex(hex_pdu)) is not None, hex_pdu
