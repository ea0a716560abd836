"""Message purposes, the placeholders each allows, and the template mini-language. Pure.

A template body is plain text with placeholders in braces: ``Hello {parent_name}``. Braces mean
nothing else, so a stray ``{``, an empty ``{}``, ``{ name }`` or a format spec such as ``{date:%d}``
is refused rather than guessed at; so is a placeholder the template's purpose does not provide.
The check runs when a template is saved, so a broken template never reaches the outbox, and the
renderer here does plain substitution (never ``str.format``, which would evaluate attribute and
index lookups written by a user).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

# Values every message can fill: who it is to, which children, which school.
COMMON_PLACEHOLDERS = ("parent_name", "child_names", "school_name", "school_phone")


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str
    description: str
    extra_placeholders: tuple[str, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return COMMON_PLACEHOLDERS + self.extra_placeholders


PURPOSES: dict[str, Purpose] = {p.key: p for p in (
    Purpose("first_day_absence", "First day of absence",
            "Same-day contact when a child is absent without a reason (statutory expectation).",
            ("date",)),
    Purpose("attendance_concern", "Attendance concern",
            "Supportive note giving the number of days missed (never a percentage) and an offer to talk.",
            ("days_missed", "since_date")),
    Purpose("walking_bus_schedule", "Walking bus schedule",
            "Where and when the walking bus collects a child.",
            ("date", "route_name", "stop_name", "pickup_time")),
    Purpose("parent_group_invite", "Parent group invitation",
            "An invitation to a parent group meeting.",
            ("group_name", "date", "time", "place")),
    Purpose("general", "General message", "Anything else a school sends to families.", ("date",)),
)}

# What each placeholder means (for the editor's help text and docs/messaging-content.md).
PLACEHOLDER_HELP: dict[str, str] = {
    "parent_name": "the contact's name as the school holds it",
    "child_names": "the children the message is about: 'Amira', 'Amira and Yusuf', 'Amira, Yusuf and Zain'",
    "school_name": "the school's name",
    "school_phone": "the school's phone number",
    "date": "a date given when sending, e.g. 'Monday 3 March'",
    "days_missed": "days of school missed (a number, halves as .5; '6 and 4' for siblings, in the order of child_names)",
    "since_date": "the start of the period days_missed counts from, e.g. '1 September'",
    "route_name": "the walking bus route",
    "stop_name": "the walking bus stop",
    "pickup_time": "when the walking bus calls at the stop",
    "group_name": "the parent group",
    "time": "the meeting time",
    "place": "where the meeting is",
}

# Realistic values for previews (school name and phone come from the school itself).
SAMPLE_VALUES: dict[str, str] = {
    "parent_name": "Ms Khan",
    "child_names": "Amira and Yusuf",
    "school_name": "Test Primary",
    "school_phone": "01632 960000",
    "date": "Monday 3 March",
    "days_missed": "6",
    "since_date": "1 September",
    "route_name": "Green Lane",
    "stop_name": "the library",
    "pickup_time": "08:15",
    "group_name": "Coffee morning",
    "time": "09:00",
    "place": "the school hall",
}

# "and" in the languages families in England most often prefer; others join with " & ".
_AND = {
    "en": "and", "pl": "i", "ro": "și", "ur": "اور", "pa": "ਅਤੇ", "bn": "এবং", "gu": "અને",
    "so": "iyo", "ar": "و", "lt": "ir", "lv": "un", "pt": "e", "es": "y", "it": "e", "fr": "et",
    "de": "und", "tr": "ve", "bg": "и", "ru": "и", "uk": "і", "hu": "és", "sk": "a", "cs": "a",
    "ta": "மற்றும்", "fa": "و", "ps": "او", "ku": "û", "sq": "dhe", "ti": "ከምኡ'ውን", "zh": "和",
}

_BRACE_TOKEN = re.compile(r"\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template body; ``position`` is a 0-based character offset."""

    kind: str  # "malformed" | "unknown"
    text: str
    position: int
    message: str


def scan(body: str) -> tuple[list[tuple[str, int]], list[TemplateProblem]]:
    """Placeholders used in ``body`` (name, position) and brace problems found."""
    used: list[tuple[str, int]] = []
    problems: list[TemplateProblem] = []
    for match in _BRACE_TOKEN.finditer(body):
        token, pos = match.group(0), match.start()
        name = match.group(1)
        if name is None:
            which = "opening" if token == "{" else "closing"
            problems.append(TemplateProblem("malformed", token, pos,
                                            f"unmatched {which} brace '{token}' at character {pos + 1}: "
                                            "braces are only for placeholders such as {parent_name}"))
        elif not _NAME.match(name):
            hint = name.strip().split(":")[0].split("!")[0].strip().lower()
            fix = f"; did you mean {{{hint}}}?" if _NAME.match(hint) else ""
            problems.append(TemplateProblem("malformed", token, pos,
                                            f"'{token}' at character {pos + 1} is not a placeholder: use lower-case "
                                            f"letters, digits and _ only, nothing else inside the braces{fix}"))
        else:
            used.append((name, pos))
    return used, problems


def check(body: str, allowed: Sequence[str]) -> list[TemplateProblem]:
    """Every problem with ``body`` for a purpose allowing ``allowed`` placeholders (empty: fine)."""
    used, problems = scan(body)
    for name, pos in used:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            suggestion = f"; did you mean {{{close[0]}}}?" if close else ""
            problems.append(TemplateProblem("unknown", "{" + name + "}", pos,
                                            f"unknown placeholder {{{name}}} at character {pos + 1}{suggestion} "
                                            f"(allowed: {', '.join('{' + a + '}' for a in allowed)})"))
    return sorted(problems, key=lambda p: p.position)


def placeholders_in(body: str) -> list[str]:
    """Distinct placeholder names in order of first use (assumes a checked body)."""
    seen: dict[str, None] = {}
    for name, _ in scan(body)[0]:
        seen.setdefault(name, None)
    return list(seen)


def render(body: str, values: Mapping[str, str]) -> str:
    """Substitute every placeholder; a value missing is a KeyError naming it (callers check
    ``placeholders_in`` against their values first, so users see a clear error instead)."""
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None or not _NAME.match(name):
            raise ValueError(f"template has a malformed brace at character {match.start() + 1}")
        return str(values[name])
    return _BRACE_TOKEN.sub(substitute, body)


def join_names(names: Sequence[str], language: str = "en") -> str:
    """'Amira', 'Amira and Yusuf', 'Amira, Yusuf and Zain' in the message's language."""
    names = [n for n in names if n]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    word = _AND.get(language.split("-")[0].lower())
    joiner = f" {word} " if word else " & "
    return ", ".join(names[:-1]) + joiner + names[-1]


def format_days(sessions: int) -> str:
    """Days from half-day sessions: 12 -> '6', 13 -> '6.5' (plain digits keep the SMS in GSM-7)."""
    whole, half = divmod(int(sessions), 2)
    return f"{whole}.5" if half else str(whole)
