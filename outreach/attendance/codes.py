"""The DfE attendance codes, as a table dated by the regulations in force.

Each mark is classified with the table in force on its own date, never remapped: ``J`` before
19 August 2024 was an interview counted as approved educational activity, ``J1`` after it is an
authorised absence; ``Y`` became ``Y1``-``Y7``. This module is the only place codes are known:
the importer validates with it, the measures and the SQL rollups classify with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum


class Category(str, Enum):
    PRESENT = "present"
    AEA = "aea"  # approved educational activity: counts as attending
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_COUNTED = "not_counted"  # outside possible sessions
    ADMIN = "admin"  # administrative: dual registered, not on roll, planned closure

    @property
    def in_possible(self) -> bool:
        return self in POSSIBLE_CATEGORIES


POSSIBLE_CATEGORIES = frozenset({Category.PRESENT, Category.AEA, Category.AUTHORISED, Category.UNAUTHORISED})
LATE_CODES = frozenset({"L", "U"})  # DfE "late sessions" = L (before close, present) + U (after close)
NOT_TAKEN = frozenset({"", "-"})  # "not taken yet": excluded and flagged, never a mark


@dataclass(frozen=True)
class Code:
    code: str
    category: Category
    meaning: str
    valid_from: date | None = None  # narrower than the table, e.g. F until 2013
    valid_to: date | None = None  # inclusive


@dataclass(frozen=True)
class CodeTable:
    name: str
    valid_from: date
    valid_to: date | None  # inclusive
    codes: dict[str, Code]

    def covers(self, day: date) -> bool:
        return day >= self.valid_from and (self.valid_to is None or day <= self.valid_to)


def _table(name: str, valid_from: date, valid_to: date | None, rows: list[tuple]) -> CodeTable:
    codes = {}
    for row in rows:
        code = Code(*row)
        codes[code.code] = code
    return CodeTable(name, valid_from, valid_to, codes)


P, A, AU, UN, NC, AD = (Category.PRESENT, Category.AEA, Category.AUTHORISED, Category.UNAUTHORISED,
                        Category.NOT_COUNTED, Category.ADMIN)

SWITCH_2024 = date(2024, 8, 19)

# The Education (Pupil Registration) (England) Regulations 2006, as amended.
REGULATIONS_2006 = _table("2006 regulations", date(1900, 1, 1), date(2024, 8, 18), [
    ("/", P, "present (AM)"),
    ("\\", P, "present (PM)"),
    ("L", P, "late before registers closed"),
    ("B", A, "educated off site"),
    ("J", A, "interview"),
    ("P", A, "approved sporting activity"),
    ("V", A, "educational visit or trip"),
    ("W", A, "work experience"),
    ("C", AU, "other authorised circumstances"),
    ("E", AU, "excluded, no alternative provision"),
    ("H", AU, "holiday authorised by the school"),
    ("I", AU, "illness"),
    ("M", AU, "medical or dental appointment"),
    ("R", AU, "religious observance"),
    ("S", AU, "study leave"),
    ("T", AU, "traveller absence"),
    ("F", AU, "extended family holiday (agreed)", None, date(2013, 8, 31)),
    ("G", UN, "holiday not authorised"),
    ("N", UN, "no reason yet provided"),
    ("O", UN, "other unauthorised absence"),
    ("U", UN, "arrived after registers closed"),
    ("X", NC, "not required to be in school (non-compulsory age)"),
    ("Y", NC, "unable to attend due to exceptional circumstances"),
    ("Z", AD, "pupil not on roll"),
    ("D", AD, "dual registered, at another school"),
    ("#", AD, "planned whole or partial school closure"),
])

# The School Attendance (Pupil Registration) (England) Regulations 2024.
REGULATIONS_2024 = _table("2024 regulations", SWITCH_2024, None, [
    ("/", P, "present (AM)"),
    ("\\", P, "present (PM)"),
    ("L", P, "late before registers closed"),
    ("K", A, "education provision arranged by the local authority"),
    ("V", A, "educational visit or trip"),
    ("P", A, "approved sporting activity"),
    ("W", A, "work experience"),
    ("B", A, "other approved educational activity"),
    ("C", AU, "exceptional circumstances"),
    ("C1", AU, "regulated performance or employment abroad"),
    ("C2", AU, "part-time timetable"),
    ("M", AU, "medical or dental appointment"),
    ("J1", AU, "interview"),
    ("S", AU, "study leave"),
    ("T", AU, "mobile child, parent travelling for work"),
    ("R", AU, "religious observance"),
    ("I", AU, "illness"),
    ("E", AU, "suspended or excluded, no alternative provision"),
    ("G", UN, "holiday not granted by the school"),
    ("N", UN, "reason not yet established"),
    ("O", UN, "absent in other or unknown circumstances"),
    ("U", UN, "arrived after registers closed"),
    ("X", NC, "not of compulsory school age, not required to attend"),
    ("Q", NC, "unable to attend: lack of access arrangements"),
    ("Y1", NC, "unable to attend: transport not available"),
    ("Y2", NC, "unable to attend: widespread travel disruption"),
    ("Y3", NC, "unable to attend: part of premises closed"),
    ("Y4", NC, "unable to attend: whole school site closed"),
    ("Y5", NC, "unable to attend: in criminal justice detention"),
    ("Y6", NC, "unable to attend: public health guidance or law"),
    ("Y7", NC, "unable to attend: other unavoidable cause"),
    ("D", AD, "dual registered, at another school"),
    ("Z", AD, "prospective pupil not yet on roll"),
    ("#", AD, "planned whole or partial school closure"),
])

TABLES: tuple[CodeTable, ...] = (REGULATIONS_2006, REGULATIONS_2024)


class UnknownCode(ValueError):
    """A code that is not in the table in force on the mark's date."""


def table_for(day: date) -> CodeTable:
    for table in TABLES:
        if table.covers(day):
            return table
    raise UnknownCode(f"no code table covers {day.isoformat()}")


def normalise_code(raw: str) -> str:
    """Codes are case-insensitive in exports; ``/`` and ``\\`` are kept as they are."""
    return raw.strip().upper()


def _in_force(entry: Code, day: date) -> bool:
    return not ((entry.valid_from and day < entry.valid_from) or (entry.valid_to and day > entry.valid_to))


def codes_in_force(day: date) -> list[str]:
    """Every code valid on ``day``, sorted."""
    return sorted(c.code for c in table_for(day).codes.values() if _in_force(c, day))


def lookup(code: str, day: date) -> Code:
    table = table_for(day)
    entry = table.codes.get(code)
    if entry is None or not _in_force(entry, day):
        valid = " ".join(codes_in_force(day))
        raise UnknownCode(f"{code!r} is not a code under the {table.name} (in force on {day.isoformat()}); valid codes: {valid}")
    return entry


def classify(code: str, day: date) -> Category:
    """The statistical category of ``code`` on ``day``; raises UnknownCode."""
    return lookup(code, day).category


def is_late(code: str) -> bool:
    return code in LATE_CODES
