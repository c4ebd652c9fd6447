"""The table-driven codecs (charmap GSM 7-bit decoding, the UTF-16 codec functions)
against the plain forms they replaced, on arbitrary input."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sms import gsm7, ucs2

_PLAIN = {i: ch for i, ch in enumerate(gsm7.BASIC_TABLE) if i != gsm7.ESC}


def plain_translate(raw: bytes) -> str:
    """gsm7.decode's first step as it was: Latin-1, then str.translate."""
    return raw.decode("latin-1").translate(_PLAIN)


@settings(max_examples=300)
@given(st.binary(max_size=200).filter(lambda b: b"\x1b" not in b))
def test_septets_without_escape_decode_as_the_translate_table_did(raw):
    assert gsm7.decode(raw) == plain_translate(raw)


@settings(max_examples=300)
@given(st.lists(st.integers(0, 0x7F), max_size=200))
def test_septets_with_escapes_decode_as_the_careful_loop_does(septets):
    assert gsm7.decode(septets) == gsm7._decode_slow(bytes(septets))


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_ucs2_decodes_as_bytes_decode(data):
    even = data[: len(data) // 2 * 2]
    assert ucs2.decode(data) == even.decode("utf-16-be", errors="replace")


@settings(max_examples=300)
@given(st.text(max_size=100))
def test_ucs2_encodes_as_str_encode(text):
    assert ucs2.encode(text) == text.encode("utf-16-be", errors="surrogatepass")
    assert ucs2.unit_length(text) == len(text.encode("utf-16-be", errors="surrogatepass")) // 2
