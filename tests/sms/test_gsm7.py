import pytest

from sms import gsm7


def test_basic_table_has_the_current_edition_mappings():
    assert gsm7.BASIC_TABLE[0x02] == "$"
    assert gsm7.BASIC_TABLE[0x24] == "¤"
    assert gsm7.BASIC_TABLE[0x09] == "Ç"
    assert gsm7.BASIC_TABLE[0x5F] == "§"
    assert gsm7.BASIC_TABLE[0x11] == "_"
    assert "`" not in gsm7.BASIC_TABLE


def test_extension_characters_cost_two_septets():
    assert gsm7.septet_length("€[]{}|^~\\\x0c") == 20
    assert gsm7.encode("€") == [0x1B, 0x65]


def test_characters_outside_the_alphabet_are_named_in_the_error():
    with pytest.raises(gsm7.GSM7EncodeError, match=r"'ř' \(U\+0159\) at 2"):
        gsm7.encode("abř")


def test_worked_example_packs_as_the_spec_shows():
    septets = gsm7.encode("Hi there, €5 [ok]")
    assert len(septets) == 20
    assert gsm7.pack(septets).hex().upper() == "C834888E2ECBCB2CD0A65C036D78EFF5C607"


def test_unpack_reads_exactly_the_septets_asked_so_trailing_at_sign_survives():
    septets = gsm7.encode("abcdefg@")  # 8 septets fill 7 octets exactly
    packed = gsm7.pack(septets)
    assert len(packed) == 7
    assert gsm7.decode(gsm7.unpack(packed, 8)) == "abcdefg@"
    assert gsm7.decode(gsm7.unpack(packed, 7)) == "abcdefg"


def test_fill_bits_align_text_after_a_user_data_header():
    assert gsm7.fill_bits_after_header(6) == 1
    assert gsm7.header_septets(6) == 7
    assert gsm7.fill_bits_after_header(7) == 0
    assert gsm7.header_septets(7) == 8
    septets = gsm7.encode("hello")
    packed = gsm7.pack(septets, fill_bits=1)
    assert gsm7.unpack(packed, 5, fill_bits=1) == septets


def test_escape_before_an_undefined_code_shows_the_basic_character():
    assert gsm7.decode([0x1B, 0x41]) == "A"
    assert gsm7.decode([0x41, 0x1B]) == "A"  # lone trailing escape dropped
