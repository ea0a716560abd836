"""Pure dashboard logic (no Flask, no database): the pupil list's filters and sorting, the
calendar of a pupil's marks, trend sparklines and spreadsheet-safe CSV cells.

Kept apart so the rules a person relies on ("sorted by attendance, lowest first, ties by
name"; "a cell starting with = is not a formula") are tested directly.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any, Iterable, Sequence

from outreach.attendance.codes import Category, UnknownCode, lookup
from outreach.core.errors import UserError

# --- the pupil list ----------------------------------------------------------------------------

YEAR_GROUP_ORDER = ("N1", "N2", "R", *(str(n) for n in range(1, 15)), "X")

# sort key -> (label, key function over a row dict, default direction)
SORTS: dict[str, tuple[str, str]] = {
    "name": ("Name", "asc"),
    "upn": ("UPN", "asc"),
    "year": ("Year", "asc"),
    "reg": ("Registration group", "asc"),
    "possible": ("Possible sessions", "desc"),
    "attendance": ("Attendance", "asc"),
    "absent": ("Sessions missed", "desc"),
    "authorised": ("Authorised", "desc"),
    "unauthorised": ("Unauthorised", "desc"),
    "late": ("Late", "desc"),
}
FLAGS = {"": "Everyone", "pa": "Persistent absence (10% or more)", "sa": "Severe absence (50% or more)",
         "not_pa": "Not persistently absent"}
COHORTS = {"": "All pupils", "fsm": "Free school meals", "not_fsm": "Not FSM", "sen": "Any SEN (support or EHC plan)",
           "sen_support": "SEN support", "ehcp": "EHC plan", "eal": "EAL", "not_eal": "Not EAL"}
PERIODS = {"year": "This academic year", "term": "This term"}
MAX_QUERY = 100


@dataclass(frozen=True)
class PupilListQuery:
    """What the pupil list shows, parsed from the query string (the page and the API share it)."""

    year: str = ""
    reg: str = ""
    flag: str = ""
    cohort: str = ""
    q: str = ""
    sort: str = "attendance"
    order: str = ""  # "" = the sort's natural direction
    period: str = "year"
    include_left: bool = False

    @property
    def direction(self) -> str:
        return self.order or SORTS[self.sort][1]

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link: this query with ``changes``, defaults left out."""
        values = {"year": self.year, "reg": self.reg, "flag": self.flag, "cohort": self.cohort, "q": self.q,
                  "sort": self.sort, "order": self.order, "period": self.period,
                  "include_left": "1" if self.include_left else ""}
        values.update(changes)
        defaults = {"sort": "attendance", "period": "year"}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    def sort_link(self, key: str) -> dict[str, Any]:
        """Arguments that sort by ``key``: its natural direction first, the other on a second click."""
        if key == self.sort:
            flipped = "desc" if self.direction == "asc" else "asc"
            return self.args(sort=key, order="" if flipped == SORTS[key][1] else flipped, page=None)
        return self.args(sort=key, order="", page=None)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "ascending" if self.direction == "asc" else "descending"


def parse_pupil_query(args: Any) -> PupilListQuery:
    """A PupilListQuery from request args; a value that is not one of the choices is a UserError
    naming it (the page shows it as a 400, nothing else happens)."""
    def get(name: str) -> str:
        value = args.get(name, "") or ""
        return str(value).strip()

    problems: dict[str, str] = {}
    year = get("year")
    if year and year not in YEAR_GROUP_ORDER:
        problems["year"] = f"not a year group: {year!r}"
    flag, cohort = get("flag"), get("cohort")
    if flag not in FLAGS:
        problems["flag"] = f"must be one of {', '.join(k for k in FLAGS if k)}"
    if cohort not in COHORTS:
        problems["cohort"] = f"must be one of {', '.join(k for k in COHORTS if k)}"
    sort = get("sort") or "attendance"
    if sort not in SORTS:
        problems["sort"] = f"must be one of {', '.join(SORTS)}"
    order = get("order")
    if order not in ("", "asc", "desc"):
        problems["order"] = "must be asc or desc"
    period = get("period") or "year"
    if period not in PERIODS:
        problems["period"] = f"must be one of {', '.join(PERIODS)}"
    reg, q = get("reg"), get("q")
    if len(reg) > 20:
        problems["reg"] = "at most 20 characters"
    if len(q) > MAX_QUERY:
        problems["q"] = f"at most {MAX_QUERY} characters"
    include_left = get("include_left").lower() in ("1", "true", "yes", "on")
    if problems:
        raise UserError("Some of the list options were not understood: "
                        + "; ".join(f"{k} {v}" for k, v in problems.items()), problems)
    return PupilListQuery(year, reg, flag, cohort, q, sort, order, period, include_left)


def _name_key(row: Any) -> tuple[str, str, str]:
    return (row.surname.casefold(), (row.preferred_forename or row.forename).casefold(), row.upn)


def _year_key(year: str | None) -> int:
    return YEAR_GROUP_ORDER.index(year) if year in YEAR_GROUP_ORDER else len(YEAR_GROUP_ORDER)


def matches(row: Any, query: PupilListQuery) -> bool:
    """Does a pupil row (with the attributes of ``queries.PupilMeasures``) pass the filters?"""
    if query.year and row.year_group != query.year:
        return False
    if query.reg and (row.reg_group or "").casefold() != query.reg.casefold():
        return False
    if query.flag == "pa" and not row.persistent_absence:
        return False
    if query.flag == "sa" and not row.severe_absence:
        return False
    if query.flag == "not_pa" and row.persistent_absence:
        return False
    cohort = query.cohort
    if (cohort == "fsm" and not row.fsm) or (cohort == "not_fsm" and row.fsm):
        return False
    if (cohort == "eal" and not row.eal) or (cohort == "not_eal" and row.eal):
        return False
    if cohort == "sen" and row.sen_status not in ("K", "E"):
        return False
    if (cohort == "sen_support" and row.sen_status != "K") or (cohort == "ehcp" and row.sen_status != "E"):
        return False
    if query.q:
        needle = query.q.casefold()
        compact = needle.replace(" ", "")
        names = f"{row.forename} {row.preferred_forename or ''} {row.surname}".casefold()
        full = f"{row.preferred_forename or row.forename} {row.surname}".casefold()
        if not (compact.upper() in row.upn.upper() or needle in names or needle in full
                or all(part in names for part in needle.split())):
            return False
    return True


def sort_rows(rows: Sequence[Any], query: PupilListQuery) -> list[Any]:
    """Rows sorted by the query's column; ties always by name then UPN so pages are stable. A
    pupil with no possible sessions has no attendance figure and sorts last either way."""
    key = query.sort
    reverse = query.direction == "desc"

    def value(row: Any) -> Any:
        if key == "name":
            return _name_key(row)
        if key == "upn":
            return row.upn
        if key == "year":
            return _year_key(row.year_group)
        if key == "reg":
            return (row.reg_group or "").casefold()
        if key == "attendance":
            return row.attendance_pct
        return getattr(row, key)

    keyed = [(value(r), r) for r in rows]  # each key once: 2,000 rows sort in a few milliseconds
    unknown = sorted((r for v, r in keyed if v is None), key=_name_key)
    known = sorted(((v, _name_key(r), r) for v, r in keyed if v is not None), key=lambda t: t[1])
    known.sort(key=lambda t: t[0], reverse=reverse)  # stable: ties keep the name order
    return [r for _v, _n, r in known] + unknown


def reg_groups(rows: Iterable[Any]) -> list[str]:
    return sorted({r.reg_group for r in rows if r.reg_group}, key=lambda g: (g.casefold(), g))


def year_groups(rows: Iterable[Any]) -> list[str]:
    return sorted({r.year_group for r in rows if r.year_group}, key=_year_key)


# --- CSV ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``...) gets a leading
    apostrophe (OWASP's advice for CSV injection); numbers, booleans and None pass through."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# --- the mark calendar -------------------------------------------------------------------------

CATEGORY_STYLE: dict[str, tuple[str, str]] = {  # category -> (css suffix, legend label)
    Category.PRESENT.value: ("present", "Present"),
    Category.AEA.value: ("aea", "Approved educational activity"),
    Category.AUTHORISED.value: ("authorised", "Authorised absence"),
    Category.UNAUTHORISED.value: ("unauthorised", "Unauthorised absence"),
    Category.NOT_COUNTED.value: ("not-counted", "Not counted (e.g. X, Y)"),
    Category.ADMIN.value: ("admin", "Administrative (closed, not on roll)"),
    "unknown": ("unknown", "Code not recognised"),
}


@dataclass(frozen=True)
class SessionMark:
    code: str
    category: str
    meaning: str

    @property
    def css(self) -> str:
        return CATEGORY_STYLE[self.category][0]

    @property
    def label(self) -> str:
        return CATEGORY_STYLE[self.category][1]


@dataclass(frozen=True)
class CalendarDay:
    day: date | None  # None: padding before the 1st or after the end of the month
    am: SessionMark | None = None
    pm: SessionMark | None = None
    in_range: bool = True  # False for days after "today" (no marks can exist yet)

    @property
    def has_marks(self) -> bool:
        return self.am is not None or self.pm is not None

    def describe(self) -> str:
        """The cell in words, for screen readers and the hover title."""
        if self.day is None:
            return ""
        parts = []
        for name, mark in (("AM", self.am), ("PM", self.pm)):
            if mark is not None:
                parts.append(f"{name} {mark.code}: {mark.meaning}")
        when = f"{self.day.strftime('%a')} {self.day.day} {self.day.strftime('%B')}"
        return f"{when}: " + ("; ".join(parts) if parts else "no mark")


@dataclass
class CalendarMonth:
    year: int
    month: int
    weeks: list[list[CalendarDay]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{_calendar.month_name[self.month]} {self.year}"


def classify_mark(code: str, day: date) -> SessionMark:
    try:
        entry = lookup(code, day)
    except UnknownCode:
        return SessionMark(code, "unknown", "a code no table in force knows")
    return SessionMark(code, entry.category.value, entry.meaning)


def mark_calendar(first: date, last: date, marks: Iterable[tuple[date, str, str]],
                  weekends: bool | None = None) -> list[CalendarMonth]:
    """Months from ``first`` to ``last`` (inclusive), one row per week, Monday first, each day
    with its AM and PM marks classified by the code table of that day. Weekends are shown only
    when ``weekends`` (default: when any mark falls on one), so no mark is ever hidden."""
    by_day: dict[date, dict[str, SessionMark]] = {}
    for day, session, code in marks:
        by_day.setdefault(day, {})[session] = classify_mark(code, day)
    if weekends is None:
        weekends = any(d.weekday() >= 5 for d in by_day)
    width = 7 if weekends else 5
    months: list[CalendarMonth] = []
    cursor = date(first.year, first.month, 1)
    while cursor <= last:
        month = CalendarMonth(cursor.year, cursor.month)
        for week in _calendar.Calendar(firstweekday=0).monthdatescalendar(cursor.year, cursor.month):
            row = []
            for day in week[:width]:
                if day.month != cursor.month:
                    row.append(CalendarDay(None))
                    continue
                sessions = by_day.get(day, {})
                row.append(CalendarDay(day, sessions.get("AM"), sessions.get("PM"), first <= day <= last))
            if any(c.day is not None for c in row):
                month.weeks.append(row)
        months.append(month)
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    return months


def category_totals(marks: Iterable[tuple[date, str, str]]) -> list[tuple[str, str, int]]:
    """(css, label, sessions) per category present in ``marks``, in legend order."""
    counts: dict[str, int] = {}
    for day, _session, code in marks:
        category = classify_mark(code, day).category
        counts[category] = counts.get(category, 0) + 1
    return [(css, label, counts[c]) for c, (css, label) in CATEGORY_STYLE.items() if c in counts]


# --- sparklines --------------------------------------------------------------------------------

SPARK_INK = "#1d70b8"  # 5.2:1 on white, like the charts' school line


def sparkline_svg(values: Sequence[float | None], label: str, width: int = 120, height: int = 32,
                  low: float | None = None, high: float = 100.0) -> str:
    """A small inline SVG line of weekly attendance (``role="img"`` with the values in words):
    the trust page shows one per school beside the figures, so it carries no axes of its own."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return f'<span class="meta">no weeks yet<span class="visually-hidden">: {escape(label)}</span></span>'
    floor = low if low is not None else max(0.0, min(v for _i, v in points) - 2.0)
    span = max(high - floor, 1e-9)
    step = (width - 4) / max(1, len(values) - 1)
    coords = [(2 + i * step, 2 + (height - 4) * (1 - (v - floor) / span)) for i, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    first_v, last_v = points[0][1], points[-1][1]
    lowest, highest = min(v for _i, v in points), max(v for _i, v in points)
    desc = (f"{label}: {len(points)} weeks, from {first_v:.1f}% to {last_v:.1f}% "
            f"(lowest {lowest:.1f}%, highest {highest:.1f}%)")
    return (f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(desc)}" focusable="false"><title>{escape(desc)}</title>'
            f'<polyline fill="none" stroke="{SPARK_INK}" stroke-width="2" points="{path}"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{SPARK_INK}"/></svg>')


def same_span_last_year(first: date, last: date) -> tuple[date, date]:
    """The same dates a year earlier (29 February becomes 28 February)."""
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return date(day.year - 1, 2, 28)  # only 29 February has no twin

    return back(first), back(last)
