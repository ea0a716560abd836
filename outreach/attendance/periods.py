"""Date ranges for attendance figures: the academic year, its terms, and the default range.

Pure (no Flask, no database). The DfE academic year runs 1 September to 31 August. Term dates
differ between local authorities and academies, so terms here are fixed calendar approximations
that every school shares:

- autumn: 1 September to 31 December
- spring: 1 January to 31 March (the real spring term ends at Easter, which moves between
  22 March and 25 April; approximating it as January to March keeps terms stable and comparable
  across schools and years)
- summer: 1 April to 31 August

A school's holidays inside those ranges cost nothing: weeks without sessions have no marks and
add nothing to any figure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from outreach.core.errors import UserError
from outreach.core.timeutil import academic_year_label, academic_year_start, london_today

TERMS = ("autumn", "spring", "summer")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of dates [start, end]."""

    start: date
    end: date
    label: str = ""

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise UserError(f"the range starts ({self.start.isoformat()}) after it ends ({self.end.isoformat()})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def academic_year_range(day: date | None = None) -> DateRange:
    """1 September to 31 August of the academic year holding ``day`` (default: today in London)."""
    day = day or london_today()
    start = academic_year_start(day)
    return DateRange(start, date(start.year + 1, 8, 31), academic_year_label(day))


def term_range(term: str, year_start: date) -> DateRange:
    """The ``term`` (autumn, spring, summer) of the academic year starting ``year_start``."""
    name = term.strip().lower()
    year = year_start.year
    if name == "autumn":
        return DateRange(date(year, 9, 1), date(year, 12, 31), f"autumn {year}")
    if name == "spring":
        return DateRange(date(year + 1, 1, 1), date(year + 1, 3, 31), f"spring {year + 1}")
    if name == "summer":
        return DateRange(date(year + 1, 4, 1), date(year + 1, 8, 31), f"summer {year + 1}")
    raise UserError(f"term must be one of {', '.join(TERMS)}, got {term!r}")


def term_of(day: date) -> DateRange:
    """The term holding ``day``."""
    name = "autumn" if day.month >= 9 else "spring" if day.month <= 3 else "summer"
    return term_range(name, academic_year_start(day))


def resolve_range(date_from: date | None = None, date_to: date | None = None,
                  today: date | None = None) -> DateRange:
    """The range a figure covers when the caller leaves ends open: ``date_to`` defaults to today
    (London), ``date_from`` to 1 September of the academic year holding ``date_to``. So no
    arguments means "this academic year so far", and ``--to 2024-12-31`` alone means autumn 2024
    onwards from 1 September 2024. A range starting after it ends is a UserError."""
    end = date_to or today or london_today()
    start = date_from or academic_year_start(end)
    return DateRange(start, end)


def parse_date(raw: str, name: str = "date") -> date:
    """A date typed by a person as YYYY-MM-DD; anything else (including impossible dates such
    as 2025-02-30) is a UserError naming the option."""
    text = (raw or "").strip()
    if not _ISO_DATE.match(text):
        raise UserError(f"{name} must be a date as YYYY-MM-DD, got {raw!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"{name} is not a real date: {raw!r} ({exc})") from exc


def week_segments(rng: DateRange) -> tuple[tuple[date, date] | None, list[DateRange]]:
    """Split ``rng`` into whole Monday-to-Sunday weeks and partial edge pieces.

    Returns ``(whole, edges)``: ``whole`` is (first Monday, last Monday) of the weeks wholly
    inside the range, or None; ``edges`` are the leftover pieces, each inside a single week, so
    figures read whole weeks from pupil-week rollups and only the edge days from marks."""
    first_full = rng.start + timedelta(days=(7 - rng.start.weekday()) % 7)
    last_full_end = rng.end - timedelta(days=(rng.end.weekday() + 1) % 7)
    if first_full + timedelta(days=6) <= last_full_end:
        whole = (first_full, last_full_end - timedelta(days=6))
        edges = []
        if rng.start < first_full:
            edges.append(DateRange(rng.start, first_full - timedelta(days=1)))
        if last_full_end < rng.end:
            edges.append(DateRange(last_full_end + timedelta(days=1), rng.end))
        return whole, edges
    edges = []
    day = rng.start
    while day <= rng.end:
        sunday = day + timedelta(days=6 - day.weekday())
        edges.append(DateRange(day, min(sunday, rng.end)))
        day = sunday + timedelta(days=1)
    return None, edges
