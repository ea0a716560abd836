"""What an ambassador's text means. Pure (no Flask, no database).

Ambassadors reply from a phone at the school gate, often with one thumb, so the words are few
and the reading is forgiving: case, spacing and punctuation do not matter ("can't mon", "CANT
MON", "Cant-Mon."), and a word of four letters or more may carry one slip (a letter wrong,
missing, extra or two letters swapped: "CNAT", "Mondya", "DOEN", "ARIVED").

The words (HELP is not one: the carrier answers it before we see the text):

* ``CANT <day>`` (also CAN'T, CANNOT, CAN NOT): I cannot walk that day. Several days may follow
  ("CANT MON TUE"); ``today`` and ``tomorrow`` work too.
* ``DONE`` or ``ARRIVED``: the walk has reached school (check-in). A number may follow: ``DONE 7``.
* ``COUNT 7``: how many children walked this morning (digits, or the words one to twenty).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DAY_WORDS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "tu": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
}
RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "tmrw": 1, "tomoz": 1}
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
CANT_WORDS = ("cant", "cannot")
DONE_WORDS = ("done", "arrived", "arrive")
# Real words one slip from a command word: read as themselves, never as the command.
NOT_TYPOS = frozenset({"none", "dont", "gone", "dome", "bone", "want", "cane", "cart", "card", "care", "cast",
                       "county", "mount", "court", "arrives"})
COUNT_WORDS = ("count",)
FILLER = {"i", "im", "on", "for", "this", "next", "the", "walk", "sorry", "please", "we", "have", "all", "at",
          "school", "children", "kids", "do", "walking", "x", "xx", "thanks", "thank", "you", "ok", "and", "make", "it"}
MAX_COUNT = 200

HELP_TEXT = ("Sorry, we did not understand. Reply CANT MON if you cannot walk Monday, DONE when the walk "
             "reaches school, or COUNT 7 for children walked.")


@dataclass(frozen=True)
class Reply:
    kind: str  # "cant" | "done" | "count" | "unknown"
    weekdays: tuple[int, ...] = ()  # for cant: Monday = 0
    relative_days: tuple[int, ...] = ()  # for cant: 0 today, 1 tomorrow
    count: int | None = None
    problem: str | None = None  # for unknown: what was missing, in words for the reply

    @property
    def understood(self) -> bool:
        return self.kind != "unknown"


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` by at most one substitution, insertion, deletion or swap of
    two neighbouring letters (optimal string alignment distance <= 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if la < lb else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False


def _matches(token: str, words) -> str | None:  # type: ignore[no-untyped-def]
    """The word ``token`` stands for: exact, or one slip away for words of four letters or more."""
    if token in words:
        return token
    if len(token) >= 4 and token not in NOT_TYPOS:
        for word in words:
            if len(word) >= 4 and edit_distance_at_most_one(token, word):
                return word
    return None


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers; apostrophes vanish (can't -> cant), other marks split."""
    text = text.lower().replace("’", "").replace("'", "").replace("`", "")
    text = re.sub(r"(\d+)", r" \1 ", text)
    return [t for t in re.split(r"[^a-z0-9]+", text) if t]


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    word = _matches(token, NUMBER_WORDS)
    return NUMBER_WORDS[word] if word else None


def parse(text: str) -> Reply:
    """Read one text (see the module doc)."""
    words = tokens(text or "")
    # "can not" and "can t" are one word.
    joined: list[str] = []
    for w in words:
        if joined and joined[-1] == "can" and w in ("not", "t"):
            joined[-1] = "cannot"
        else:
            joined.append(w)
    words = [w for w in joined if w not in FILLER]
    if not words:
        return Reply("unknown", problem="empty")
    head, rest = words[0], words[1:]
    if _matches(head, CANT_WORDS):
        weekdays: list[int] = []
        relative: list[int] = []
        for w in rest:
            day = _matches(w, DAY_WORDS)
            rel = _matches(w, RELATIVE_DAYS)
            if day is not None:
                weekdays.append(DAY_WORDS[day])
            elif rel is not None:
                relative.append(RELATIVE_DAYS[rel])
            else:
                return Reply("unknown", problem=f"unknown day '{w[:12]}'")
        if not weekdays and not relative:
            return Reply("unknown", problem="no day")
        return Reply("cant", weekdays=tuple(sorted(set(weekdays))), relative_days=tuple(sorted(set(relative))))
    if _matches(head, DONE_WORDS):
        if not rest:
            return Reply("done")
        n = _number(rest[0]) if len(rest) == 1 else None
        if n is None or n > MAX_COUNT:
            return Reply("unknown", problem="done with extra words")
        return Reply("done", count=n)
    if _matches(head, COUNT_WORDS) or (head.isdigit() and not rest):
        numbers = rest if _matches(head, COUNT_WORDS) else [head]
        if len(numbers) != 1:
            return Reply("unknown", problem="no number")
        n = _number(numbers[0])
        if n is None or n > MAX_COUNT:
            return Reply("unknown", problem="no number")
        return Reply("count", count=n)
    return Reply("unknown", problem="unknown word")
