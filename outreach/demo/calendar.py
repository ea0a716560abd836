"""School calendars for the demo: England term dates with half terms, holidays and INSET days.

Pure (no Flask, no database). Term dates in England are set by each local authority or academy
trust, so these are typical dates rather than one authority's: three terms, a week's half term
in each, two weeks at Christmas and Easter, the May bank holidays, and five INSET (training) days,
leaving exactly 190 pupil days (380 sessions, the statutory minimum) in each year.

How an MIS exports such a calendar, and so how the demo writes marks:
- pupil days: a mark for every session of every pupil on roll;
- INSET days: ``#`` (planned closure) for both sessions, as SIMS and Arbor do;
- weekends, holidays and bank holidays: no marks at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date, timedelta
from enum import Enum


class DayKind(str, Enum):
    PUPIL = "pupil"  # sessions held: every pupil on roll gets a mark
    INSET = "inset"  # staff training: '#' for both sessions
    CLOSED = "closed"  # weekend, holiday, bank holiday: no marks


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class SchoolYear:
    """One academic year's calendar. ``terms`` are (first day, last day) including INSET days;
    ``breaks`` are holidays inside a term (half terms) and ``bank_holidays`` closed weekdays."""

    label: str
    terms: tuple[tuple[date, date], ...]
    breaks: tuple[tuple[date, date], ...]
    bank_holidays: tuple[date, ...]
    inset_days: tuple[date, ...]

    @property
    def start(self) -> date:
        return date(self.terms[0][0].year, 9, 1)

    @property
    def end(self) -> date:
        return date(self.start.year + 1, 8, 31)

    @cached_property
    def _kinds(self) -> dict[date, DayKind]:
        return {d: self._kind(d) for first, last in self.terms for d in _days(first, last)}

    def kind(self, day: date) -> DayKind:
        return self._kinds.get(day, DayKind.CLOSED)

    def _kind(self, day: date) -> DayKind:
        if day.weekday() >= 5 or day in self.bank_holidays:
            return DayKind.CLOSED
        if not any(first <= day <= last for first, last in self.terms):
            return DayKind.CLOSED
        if any(first <= day <= last for first, last in self.breaks):
            return DayKind.CLOSED
        return DayKind.INSET if day in self.inset_days else DayKind.PUPIL

    def open_days(self) -> list[date]:
        """Every pupil day and INSET day (the days that have marks), in order."""
        return list(self._open)

    def pupil_days(self) -> list[date]:
        return list(self._pupil)

    @cached_property
    def _open(self) -> tuple[date, ...]:
        return tuple(d for d, kind in self._kinds.items() if kind is not DayKind.CLOSED)

    @cached_property
    def _pupil(self) -> tuple[date, ...]:
        return tuple(d for d, kind in self._kinds.items() if kind is DayKind.PUPIL)

    def half_term_edges(self) -> list[tuple[date, date]]:
        """(last pupil day before, first pupil day after) each break and each holiday between
        terms: where families take term-time holidays."""
        days = self.pupil_days()
        return [(a, b) for a, b in zip(days, days[1:]) if (b - a).days > 4]


# 2025/26: autumn 1 Sep - 19 Dec (half term 27-31 Oct), spring 5 Jan - 27 Mar (half term
# 16-20 Feb; Good Friday is 3 Apr), summer 13 Apr - 20 Jul (4 May and 25 May bank holidays, half
# term 25-29 May).
YEAR_2025_26 = SchoolYear(
    label="2025/26",
    terms=((date(2025, 9, 1), date(2025, 12, 19)), (date(2026, 1, 5), date(2026, 3, 27)),
           (date(2026, 4, 13), date(2026, 7, 20))),
    breaks=((date(2025, 10, 27), date(2025, 10, 31)), (date(2026, 2, 16), date(2026, 2, 20)),
            (date(2026, 5, 25), date(2026, 5, 29))),
    bank_holidays=(date(2026, 5, 4), date(2026, 5, 25)),
    inset_days=(date(2025, 9, 1), date(2025, 9, 2), date(2026, 1, 5), date(2026, 6, 1), date(2026, 7, 20)),
)

# 2026/27: autumn 1 Sep - 18 Dec (half term 26-30 Oct), spring 4 Jan - 25 Mar (half term
# 15-19 Feb; Good Friday is 26 Mar), summer 12 Apr - 21 Jul (3 May and 31 May bank holidays, half
# term 31 May - 4 Jun).
YEAR_2026_27 = SchoolYear(
    label="2026/27",
    terms=((date(2026, 9, 1), date(2026, 12, 18)), (date(2027, 1, 4), date(2027, 3, 25)),
           (date(2027, 4, 12), date(2027, 7, 21))),
    breaks=((date(2026, 10, 26), date(2026, 10, 30)), (date(2027, 2, 15), date(2027, 2, 19)),
            (date(2027, 5, 31), date(2027, 6, 4))),
    bank_holidays=(date(2027, 5, 3), date(2027, 5, 31)),
    inset_days=(date(2026, 9, 1), date(2026, 9, 2), date(2027, 1, 4), date(2027, 6, 7), date(2027, 7, 21)),
)

YEARS: tuple[SchoolYear, ...] = (YEAR_2025_26, YEAR_2026_27)
