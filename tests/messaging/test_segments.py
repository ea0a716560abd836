"""Encoding and segment counts, checked against the gsm0338 codec and UTF-16 as oracles."""
from __future__ import annotations

import gsm0338  # noqa: F401  (registers the 'gsm03.38' codec)
import pytest
from hypothesis import given, settings, strategies as st

from outreach.messaging.segments import (
    GSM_BASIC, GSM_EXTENSION, Encoding, analyse, describe_character, encoding_of, non_gsm_characters,
    segment_count, to_gsm,
)

GSM_TEXT = st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=700)
ANY_TEXT = st.text(alphabet=st.one_of(
    st.sampled_from(sorted(GSM_BASIC | GSM_EXTENSION)),
    st.sampled_from(list("ąćęłńóśźżçÇ’“”–—…€😀👍🏽اردو\u00a0")),
    st.characters(exclude_characters="\x1b", exclude_categories=("Cs",)),
), max_size=400)


def oracle_cut(units: list, single: int, part: int, binds_to_next) -> int:
    """Parts for a stream of encoded units: one if it fits ``single``, else cuts every ``part``
    units, stepping back one where the last unit of a part ``binds_to_next``."""
    if not units:
        return 0
    if len(units) <= single:
        return 1
    parts, i = 0, 0
    while i < len(units):
        end = min(i + part, len(units))
        if end < len(units) and binds_to_next(units[end - 1]):
            end -= 1
        parts, i = parts + 1, end
    return parts


def oracle_gsm_segments(text: str) -> int:
    """The codec's septet stream, never cut after an escape byte."""
    return oracle_cut(list(text.encode("gsm03.38")), 160, 153, lambda septet: septet == 0x1B)


def oracle_ucs2_segments(text: str) -> int:
    """The UTF-16 code-unit stream, never cut inside a surrogate pair."""
    raw = text.encode("utf-16-be")
    units = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    return oracle_cut(units, 70, 67, lambda unit: 0xD800 <= unit <= 0xDBFF)


def codec_accepts(text: str) -> bool:
    try:
        text.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(("text", "segments"), [
    ("", 0),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("€" * 80, 1),       # 160 septets
    ("€" * 81, 2),       # 162 septets
    ("a" * 159 + "{", 2),  # the extension character counts two: 161 septets
    ("ą" * 70, 1),
    ("ą" * 71, 2),
    ("ą" * 134, 2),
    ("ą" * 135, 3),
    ("😀" * 35, 1),      # 70 UTF-16 units
    ("😀" * 36, 2),      # 72 units
])
def test_segment_boundaries(text: str, segments: int) -> None:
    assert segment_count(text) == segments


def test_escape_pair_is_never_split_between_parts() -> None:
    # 306 septets would be 2 parts by division, but '{' cannot straddle parts 1 and 2.
    text = "a" * 152 + "{" + "a" * 152
    info = analyse(text)
    assert info.units == 306
    assert info.segments == 3 == oracle_gsm_segments(text)


def test_surrogate_pair_is_never_split_between_parts() -> None:
    text = "ą" * 66 + "😀" + "ą" * 66  # 134 units, but the emoji cannot straddle parts
    assert analyse(text).units == 134
    assert analyse(text).segments == 3 == oracle_ucs2_segments(text)


@pytest.mark.parametrize("text", [
    "Cześć, Amira nie przyszła dziś do szkoły.",   # Polish
    "السلام علیکم، امیرہ آج اسکول نہیں آئی۔",      # Urdu
    "Bună ziua, Amira nu a venit azi la școală.",  # Romanian
    "See you tomorrow 👍",
    "François",                                     # lower-case ç is not GSM (only Ç is)
    "It’s Amira’s day",
])
def test_non_gsm_text_goes_ucs2(text: str) -> None:
    assert encoding_of(text) is Encoding.UCS2
    assert non_gsm_characters(text)


@pytest.mark.parametrize("text", ["José, Zoé, Ñaño, Müller, Åse, Øyvind", "Price: £5 or €6 {ok} [x] ~ | ^ \\", "line\nbreak"])
def test_gsm_text_stays_gsm(text: str) -> None:
    assert encoding_of(text) is Encoding.GSM7


def test_the_characters_that_forced_unicode_are_named_with_the_cost() -> None:
    text = "It’s a reminder that the walking bus leaves at 08:15 from the library. " * 2
    info = analyse(text)
    assert info.unicode_characters == ("’",)
    assert info.segments == 3
    assert info.segments_without_unicode == 1
    assert info.explain() == "The curly quote ’ forces Unicode (UCS-2): 3 segments instead of 1."


def test_letters_without_plain_equivalent_have_no_cheaper_alternative() -> None:
    info = analyse("Dzień dobry")
    assert info.unicode_characters == ("ń",)
    assert info.segments_without_unicode is None
    assert info.explain() == "The letter ń forces Unicode (UCS-2): 1 segment."


def test_describe_character() -> None:
    assert describe_character("😀") == "the emoji 😀"
    assert describe_character("\u00a0") == "the non-breaking space U+00A0"
    assert describe_character("—") == "the long dash —"


def test_to_gsm_replaces_punctuation_but_never_letters() -> None:
    assert to_gsm("“Don’t” – wait… ok") == "\"Don't\" - wait... ok"
    assert to_gsm("Zoë\u00a0Łucja") == "Zoë Łucja"
    assert to_gsm("a\r\nb\u200b") == "a\nb"


@settings(max_examples=300, deadline=None)
@given(GSM_TEXT)
def test_gsm_units_and_segments_match_the_codec(text: str) -> None:
    info = analyse(text)
    assert info.encoding is Encoding.GSM7
    assert info.units == len(text.encode("gsm03.38"))
    assert info.segments == oracle_gsm_segments(text)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_encoding_and_segments_match_the_oracles(text: str) -> None:
    info = analyse(text)
    assert (info.encoding is Encoding.GSM7) == codec_accepts(text)
    if info.encoding is Encoding.UCS2:
        assert info.units == len(text.encode("utf-16-le")) // 2
        assert info.segments == oracle_ucs2_segments(text)
        assert set(info.unicode_characters) == {c for c in text if not codec_accepts(c)}
    else:
        assert info.segments == oracle_gsm_segments(text)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, st.characters(exclude_characters="\x1b", exclude_categories=("Cs",)))
def test_adding_a_character_never_makes_a_message_cheaper(text: str, char: str) -> None:
    assert segment_count(text + char) >= segment_count(text)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_to_gsm_is_idempotent_and_only_touches_punctuation(text: str) -> None:
    plain = to_gsm(text)
    assert to_gsm(plain) == plain
    letters = [c for c in text if c.isalpha()]
    assert [c for c in plain if c.isalpha()] == letters
