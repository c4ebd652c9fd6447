"""The table-driven codecs (charmap GSM 7-bit decoding, the UTF-16 codec functions)
against the plain forms they replaced, on arbitrary input."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sms import gsm7, ucs2

_PLAIN = {i: ch for i, ch in enumerate(gsm7.BASIC_TABLE) if i != gsm7.ESC}
_PAIRS = [("\x1b" + gsm7.BASIC_TABLE[code], ch) for code, ch in gsm7.EXTENSION_TABLE.items()]


def plain_decode(raw: bytes) -> str:
    """gsm7.decode as it was before the charmap tables: Latin-1, str.translate, then
    the escape pairs swapped one by one."""
    text = raw.decode("latin-1")
    if "\x1b" not in text:
        return text.translate(_PLAIN)
    if "\x1b\x1b" in text or text.endswith("\x1b"):
        return gsm7._decode_slow(raw)
    text = text.translate(_PLAIN)
    for pair, char in _PAIRS:
        text = text.replace(pair, char)
    return text.replace("\x1b", "")


def outcome(decoder, raw: bytes) -> tuple:
    try:
        return ("ok", decoder(raw))
    except Exception as exc:  # the slow loop's IndexError for octets over 7F, kept as it was
        return ("error", type(exc))


# Septets with many escapes, extension codes and undefined codes after them.
septets = st.lists(
    st.one_of(st.integers(0, 0x7F), st.sampled_from([0x1B, 0x1B, 0x65, 0x28, 0x0A, 0x41])),
    max_size=200,
)


@settings(max_examples=500)
@given(septets)
def test_septets_decode_as_before(values):
    assert gsm7.decode(values) == plain_decode(bytes(values))
    assert gsm7.decode(bytes(values)) == plain_decode(bytes(values))


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=200), septets.map(bytes).map(lambda b: b + b"\xc3\x1b\x41")))
def test_any_octets_decode_as_before(raw):
    # Only callers with raw bytes (a spool file's body) pass octets over 7F.
    assert outcome(gsm7.decode, raw) == outcome(plain_decode, raw)


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
