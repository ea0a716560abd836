"""How an SMS body is encoded and how many segments (billable parts) it costs. Pure.

A text message carries 140 bytes. If every character is in the GSM 03.38 default alphabet the
phone packs them as 7-bit septets: 160 per single message, 153 per part of a longer message (the
other 7 carry the concatenation header). Nine characters live in the extension table (``^ { } \\
[ ~ ] | €``, and form feed) and take two septets each: an escape, then the character. One
character outside the alphabet (a curly quote pasted from Word, an emoji, a Polish or Urdu
letter) switches the WHOLE message to UCS-2: 16-bit code units, 70 per single message, 67 per
part, and characters beyond the Basic Multilingual Plane (most emoji) take two units.

Multipart messages never split an escape pair or a surrogate pair between two parts, so a part
may carry 152 septets or 66 units; the count here packs parts the way handsets and gateways do
(Twilio's segment calculator agrees), not with a bare ``ceil(n / 153)``.

Staff cannot see any of this from the text, so ``analyse`` reports which characters forced
UCS-2 and what the message would cost without them, for the template editor to say "the curly
quote forces Unicode: 3 segments instead of 1". ``to_gsm`` replaces the usual typographic
punctuation with plain equivalents; it never changes letters (a child's name is spelt as given).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum

# GSM 03.38 default alphabet in code order (0x00-0x7F); 0x1B is the escape to the extension
# table, shown here as a placeholder that is never treated as text.
_GSM_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(_GSM_BASIC_TABLE) == 128
GSM_BASIC: frozenset[str] = frozenset(_GSM_BASIC_TABLE) - {"\x1b"}
# The extension table characters a handset can send: each costs an escape septet plus itself.
GSM_EXTENSION: frozenset[str] = frozenset("^{}\\[~]|€\f")

GSM_SINGLE = 160
GSM_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


class Encoding(str, Enum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentInfo:
    """What a body costs to send.

    ``units`` is septets for GSM-7 and UTF-16 code units for UCS-2. ``unicode_characters`` are the
    distinct characters that forced UCS-2, in order of first appearance (empty for GSM-7).
    ``segments_without_unicode`` is what the message would cost if those characters were made
    plain by ``to_gsm`` (None when some of them have no plain equivalent, such as a Polish letter).
    """

    text: str
    encoding: Encoding
    units: int
    segments: int
    characters: int
    unicode_characters: tuple[str, ...] = ()
    segments_without_unicode: int | None = None

    @property
    def per_segment(self) -> int:
        """Capacity of each part at this length (160/153 or 70/67)."""
        if self.encoding is Encoding.GSM7:
            return GSM_SINGLE if self.segments <= 1 else GSM_PART
        return UCS2_SINGLE if self.segments <= 1 else UCS2_PART

    @property
    def is_unicode(self) -> bool:
        return self.encoding is Encoding.UCS2

    def explain(self) -> str:
        """One sentence for the template editor, e.g.
        'The curly quote ’ forces Unicode (UCS-2): 3 segments instead of 1.'"""
        plural = "s" if self.segments != 1 else ""
        if self.encoding is Encoding.GSM7:
            capacity = GSM_SINGLE if self.segments <= 1 else self.segments * GSM_PART
            return f"Plain text (GSM-7): {self.units} of {capacity} characters, {self.segments} segment{plural}."
        names = ", ".join(describe_character(c) for c in self.unicode_characters[:5])
        if len(self.unicode_characters) > 5:
            names += f" and {len(self.unicode_characters) - 5} more"
        verb = "forces" if len(self.unicode_characters) == 1 else "force"
        sentence = f"{names[0].upper()}{names[1:]} {verb} Unicode (UCS-2): {self.segments} segment{plural}"
        if self.segments_without_unicode is not None and self.segments_without_unicode < self.segments:
            sentence += f" instead of {self.segments_without_unicode}"
        elif self.segments_without_unicode is not None:
            sentence += " (no extra cost at this length)"
        return sentence + "."


def is_gsm_character(char: str) -> bool:
    return char in GSM_BASIC or char in GSM_EXTENSION


def non_gsm_characters(text: str) -> tuple[str, ...]:
    """Distinct characters of ``text`` outside GSM 03.38, in order of first appearance."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in GSM_BASIC and char not in GSM_EXTENSION:
            seen.setdefault(char, None)
    return tuple(seen)


def encoding_of(text: str) -> Encoding:
    return Encoding.UCS2 if non_gsm_characters(text) else Encoding.GSM7


def gsm_septets(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters count two). Assumes it is GSM."""
    return sum(2 if char in GSM_EXTENSION else 1 for char in text)


def utf16_units(text: str) -> int:
    """UTF-16 code units: characters beyond U+FFFF (most emoji) take two."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _pack(sizes: list[int], single: int, part: int) -> int:
    """Parts needed for indivisible items of the given sizes (1 or 2 units each)."""
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:  # an escape or surrogate pair is never split between parts
            parts += 1
            used = 0
        used += size
    return parts


def segment_count(text: str) -> int:
    return analyse(text).segments


def analyse(text: str) -> SegmentInfo:
    """Encoding, size in units and segment count of ``text`` as a gateway will send it."""
    unicode_chars = non_gsm_characters(text)
    if not unicode_chars:
        sizes = [2 if char in GSM_EXTENSION else 1 for char in text]
        return SegmentInfo(text=text, encoding=Encoding.GSM7, units=sum(sizes),
                           segments=_pack(sizes, GSM_SINGLE, GSM_PART), characters=len(text))
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    plain = to_gsm(text)
    without: int | None = None
    if not non_gsm_characters(plain):
        without = _pack([2 if char in GSM_EXTENSION else 1 for char in plain], GSM_SINGLE, GSM_PART)
    return SegmentInfo(text=text, encoding=Encoding.UCS2, units=sum(sizes),
                       segments=_pack(sizes, UCS2_SINGLE, UCS2_PART), characters=len(text),
                       unicode_characters=unicode_chars, segments_without_unicode=without)


# Typographic punctuation word processors and phones insert, with the plain GSM character that
# reads the same. Letters are deliberately absent: names must be sent as spelt.
_PLAIN_EQUIVALENTS: dict[str, str] = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u2039": "'", "\u203a": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2022": "-",
    "\u2026": "...",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ",
    "\u2007": " ", "\u2008": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u205f": " ",
    "\u3000": " ", "\t": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
    "\r\n": "\n",
}
_TRANSLATION = str.maketrans({k: v for k, v in _PLAIN_EQUIVALENTS.items() if len(k) == 1})

# Names staff recognise, for the editor's explanation; anything else gets its Unicode name.
_FRIENDLY_NAMES: dict[str, str] = {
    "\u2018": "curly quote", "\u2019": "curly quote", "\u201c": "curly quote", "\u201d": "curly quote",
    "\u2013": "long dash", "\u2014": "long dash", "\u2026": "ellipsis", "\u00a0": "non-breaking space",
    "\t": "tab", "`": "backtick", "\u2022": "bullet", "\u200b": "invisible zero-width space",
}


def to_gsm(text: str) -> str:
    """``text`` with smart quotes, dashes, ellipses and odd spaces replaced by plain GSM
    characters. Other characters (letters with accents GSM lacks, emoji) are left as they are."""
    return text.replace("\r\n", "\n").translate(_TRANSLATION)


def describe_character(char: str) -> str:
    """'the curly quote ’', 'the emoji 😀', 'the letter ą' (for explanations)."""
    if char in _FRIENDLY_NAMES:
        shown = char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
        return f"the {_FRIENDLY_NAMES[char]} {shown}"
    category = unicodedata.category(char)
    if category == "So" or ord(char) > 0xFFFF:
        return f"the emoji {char}"
    if category.startswith("L"):
        return f"the letter {char}"
    if not char.isprintable():
        return f"the invisible character U+{ord(char):04X}"
    return f"the character {char} ({unicodedata.name(char, 'unnamed').lower()})"
