import pytest

from sms.diacritics import strip_diacritics


def test_czech_pangram():
    assert (
        strip_diacritics("Příliš žluťoučký kůň úpěl ďábelské ódy")
        == "Prilis zlutoucky kun upel dabelske ody"
    )


def test_slovak_letters():
    assert strip_diacritics("Ľúbostná ĺžka, päť ôsmich, Ŕ") == "Lubostna lzka, pat osmich, R"


@pytest.mark.parametrize(
    ("letter", "ascii"),
    [
        ("ø", "o"),
        ("Ø", "O"),
        ("ł", "l"),
        ("Ł", "L"),
        ("đ", "d"),
        ("ß", "ss"),
        ("æ", "ae"),
        ("œ", "oe"),
        ("þ", "th"),
        ("ı", "i"),
    ],
)
def test_letters_that_nfkd_does_not_decompose(letter, ascii):
    assert strip_diacritics(letter) == ascii


def test_decomposed_input_loses_its_combining_marks():
    assert strip_diacritics("c\u030cervene\u0301") == "cervene"


def test_other_scripts_symbols_and_emoji_are_left_alone():
    assert strip_diacritics("Привет €5 [ok] 😀 東京") == "Привет €5 [ok] 😀 東京"
