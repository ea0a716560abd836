"""Attendance measures exactly as the DfE defines them. Pure: no Flask, no database.

Persistent absence (>= 10% of possible sessions missed) and severe absence (>= 50%) are decided
in whole numbers (``absence * 10 >= possible``), never on rounded percentages, so a pupil on
exactly 90.0% attendance is persistently absent. Groups sum sessions across pupils; they never
average pupil percentages.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Iterable

from outreach.attendance.codes import Category, classify, is_late


@dataclass(frozen=True)
class SessionCounts:
    present: int = 0  # includes L
    aea: int = 0  # approved educational activity
    authorised: int = 0
    unauthorised: int = 0
    late: int = 0  # L + U
    not_counted: int = 0  # X, Q, Y, Y1-Y7
    admin: int = 0  # D, Z, #

    def __add__(self, other: "SessionCounts") -> "SessionCounts":
        return SessionCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def possible(self) -> int:
        return self.present + self.aea + self.authorised + self.unauthorised

    @property
    def attended(self) -> int:
        return self.present + self.aea

    @property
    def absent(self) -> int:
        return self.authorised + self.unauthorised

    @property
    def attendance_pct(self) -> float | None:
        return percentage(self.attended, self.possible)

    @property
    def absence_pct(self) -> float | None:
        return percentage(self.absent, self.possible)

    @property
    def persistent_absence(self) -> bool:
        return is_persistent_absence(self.absent, self.possible)

    @property
    def severe_absence(self) -> bool:
        return is_severe_absence(self.absent, self.possible)


def percentage(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def is_persistent_absence(absent: int, possible: int) -> bool:
    return possible > 0 and absent * 10 >= possible


def is_severe_absence(absent: int, possible: int) -> bool:
    return possible > 0 and absent * 2 >= possible


def count_marks(marks: Iterable[tuple[date, str]]) -> SessionCounts:
    """Counts for (date, code) marks, each classified with the code table of its own date."""
    tally = dict.fromkeys(("present", "aea", "authorised", "unauthorised", "late", "not_counted", "admin"), 0)
    key = {
        Category.PRESENT: "present", Category.AEA: "aea", Category.AUTHORISED: "authorised",
        Category.UNAUTHORISED: "unauthorised", Category.NOT_COUNTED: "not_counted", Category.ADMIN: "admin",
    }
    for day, code in marks:
        tally[key[classify(code, day)]] += 1
        if is_late(code):
            tally["late"] += 1
    return SessionCounts(**tally)


def sessions_until_persistent_absence(counts: SessionCounts, remaining_possible: int) -> int:
    """How many more of the remaining possible sessions can be missed before the year's figure
    reaches 10%: the largest k with (absent + k) * 10 < possible + remaining. Negative means the
    pupil is already past the line even if they attend every remaining session."""
    total = counts.possible + remaining_possible
    # (absent + k) * 10 < total  <=>  k < total/10 - absent  <=>  k <= ceil(total/10) - 1 - absent
    return -(-total // 10) - 1 - counts.absent
