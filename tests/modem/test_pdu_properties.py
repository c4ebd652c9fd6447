"""Property tests: any text round-trips, and the decoder only ever raises PDUError."""

import contextlib

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agent.modem.pdu import PDUError, Submit, decode, encode_submit
from sms import gsm7

EXAMPLES = [
    "0031000C914477000910320000A714C834888E2ECBCB2CD0A65C036D78EFF5C607",
    "07919761989901F0440B919761214365F70008423051410350211F06080412340202041F04400438043204350442"
    "002C0020043C043804400021",
    "0791447758100650064D0C91447700091032423051410300004230514103700000",
    "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
]

gsm_chars = list(gsm7.BASIC_TABLE.replace("\x1b", "")) + list("€[]{}|^~\\\x0c")
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(gsm_chars),
        st.sampled_from(list("ěščřžýáíéúůďťňĚŠČŘŽÝÁÍÉÚŮĎŤŇ")),
        # NUL is left out: decoding strips trailing NULs, the padding some SMSCs add.
        st.characters(codec="utf-16", exclude_categories=("Cs",), exclude_characters="\x00"),
    ),
    max_size=500,
)
numbers = st.from_regex(r"\+?[0-9]{3,15}", fullmatch=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts,
    numbers,
    st.booleans(),
    st.booleans(),
    st.integers(0, 0xFFFF),
    st.one_of(st.none(), st.integers(1, 600_000)),
)
def test_encode_then_decode_round_trips_any_text(text, number, report, ref16, ref, validity):
    parts = encode_submit(
        number, text, report=report, ref16=ref16, reference=ref, validity_minutes=validity
    )
    decoded = [decode(p.pdu) for p in parts]
    assert all(isinstance(d, Submit) for d in decoded)
    assert "".join(d.text for d in decoded) == text
    assert {d.recipient for d in decoded} == {number}
    for p, d in zip(parts, decoded, strict=True):
        assert len(bytes.fromhex(p.pdu)) - 1 == p.tpdu_length
        assert d.report_requested == report
        if len(parts) > 1:
            assert (d.concat.sequence, d.concat.total) == (p.part, len(parts))
            assert d.concat.bits == (16 if ref16 else 8)
            assert d.concat.reference == ref & (0xFFFF if ref16 else 0xFF)
        if validity is not None:
            assert d.validity_minutes >= min(validity, 63 * 10080)


@settings(max_examples=1000)
@given(st.binary(max_size=200), st.sampled_from([True, False, None]))
def test_random_bytes_raise_only_pdu_error(data, has_smsc):
    with contextlib.suppress(PDUError):
        decode(data, has_smsc=has_smsc)


@settings(max_examples=1500)
@given(
    st.sampled_from(EXAMPLES),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 80),
)
def test_mutated_valid_pdus_raise_only_pdu_error(pdu, flips, cut):
    data = bytearray(bytes.fromhex(pdu))
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    data = data[: len(data) - cut] if cut < len(data) else data
    assume(data)
    with contextlib.suppress(PDUError):
        decode(bytes(data), has_smsc=None)
