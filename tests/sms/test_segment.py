import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms import gsm7, ucs2
from sms.segment import (
    Encoding,
    MessageTooLong,
    check_length,
    count_parts,
    fits,
    max_characters,
    segment,
    ucs2_parts,
)


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (153 * 7, 7)],
)
def test_gsm7_part_count_at_every_boundary(length, parts):
    assert count_parts("a" * length) == parts


@pytest.mark.parametrize(
    ("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_part_count_at_every_boundary(length, parts):
    assert count_parts("ř" * length) == parts


def test_extension_characters_count_two_septets():
    assert count_parts("€" * 80) == 1
    assert count_parts("€" * 81) == 2
    assert count_parts("a" * 159 + "€") == 2


def test_an_escape_pair_is_never_split_between_parts():
    text = "a" * 152 + "€" + "b" * 10
    seg = segment(text)
    assert seg.encoding is Encoding.GSM7
    assert seg.parts[0] == "a" * 152  # 152 septets: the € moves whole to part 2
    assert seg.parts[1].startswith("€")


def test_a_surrogate_pair_is_never_split_between_parts():
    text = "ř" * 66 + "😀" + "ř" * 10
    seg = segment(text)
    assert seg.encoding is Encoding.UCS2
    assert seg.parts[0] == "ř" * 66
    assert seg.parts[1].startswith("😀")


def test_one_character_outside_gsm_makes_the_whole_message_ucs2():
    assert segment("Hello ř").encoding is Encoding.UCS2
    assert segment("Hello €").encoding is Encoding.GSM7


def test_an_emoji_costs_two_ucs2_units():
    assert count_parts("😀" * 35) == 1
    assert count_parts("😀" * 36) == 2


def test_three_part_limit():
    assert max_characters(Encoding.GSM7, 3) == 459
    assert max_characters(Encoding.UCS2, 3) == 201
    assert fits("a" * 459)
    assert not fits("a" * 460)
    with pytest.raises(MessageTooLong, match="4 SMS parts, more than the limit of 3"):
        check_length("a" * 460)


def test_sixteen_bit_references_leave_one_unit_less_per_part():
    assert [len(p) for p in segment("a" * 304, ref16=True).parts] == [152, 152]
    assert [len(p) for p in segment("a" * 304).parts] == [153, 151]


text_strategy = st.text(
    alphabet=st.sampled_from(list(gsm7.BASIC_TABLE.replace("\x1b", "")) + list("€[]{}|^~\\řž😀")),
    max_size=600,
)


@given(text_strategy)
def test_parts_join_back_to_the_text_and_respect_capacity(text):
    seg = segment(text)
    assert "".join(seg.parts) == text
    if seg.count > 1:
        cap = 153 if seg.encoding is Encoding.GSM7 else 67
        for part in seg.parts:
            units = (
                gsm7.septet_length(part)
                if seg.encoding is Encoding.GSM7
                else len(part.encode("utf-16-be")) // 2
            )
            assert 0 < units <= cap


@settings(max_examples=200)
@given(st.text(max_size=400), st.booleans())
def test_ucs2_parts_are_segments_parts_with_their_octets(text, ref16):
    texts, octets = ucs2_parts(text, ref16=ref16)
    assert texts == segment(text, ref16=ref16, encoding=Encoding.UCS2).parts
    assert octets == [ucs2.encode(part) for part in texts]
