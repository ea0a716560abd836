"""Read helpers: attendance figures for pupils, schools, cohorts and trusts over a date range.

Every figure comes from pupil-week rollups, never from a scan of raw marks over a whole range: a
range is split into the Monday-to-Sunday weeks wholly inside it, read from ``pupil_weeks`` with
one ``GROUP BY``, and the partial edge weeks (a range that starts or ends mid-week), read from
``marks`` for just those few days with the same SQL classifier the rollups use
(``rollups.count_sum_expressions``). Both paths classify each mark by the code table of its own
date, so a range across 19 August 2024 is counted exactly as the DfE counts it.

Measures follow ``measures.py``: groups sum sessions across pupils and never average
percentages; an enrolment counts for a range only when it has at least one possible session in
it; persistent (>= 10%) and severe (>= 50%) absence are decided in whole numbers. Date ranges
default to the current academic year so far (``periods.resolve_range``).

Everything here reads through ``db.session`` inside an app context and returns frozen
dataclasses; pandas and numpy work only over small aggregates (per pupil or per pupil-week rows
of one school).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Iterable, Sequence

import numpy as np
from sqlalchemy import Select, Text, case, cast, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from outreach.attendance import rollups
from outreach.attendance.measures import SessionCounts, percentage, sessions_until_persistent_absence
from outreach.attendance.models import PupilWeek
from outreach.attendance.periods import DateRange, resolve_range, week_segments
from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import academic_year_start, london_today, week_start
from outreach.extensions import db
from outreach.registers.models import Mark
from outreach.registers.store import has_marks, week_bounds
from outreach.schools.models import Pupil, School, Trust

# SessionCounts fields in declaration order: rows are built positionally from these sums.
COUNT_FIELDS = ("present", "aea", "authorised", "unauthorised", "late", "not_counted", "admin")
YEAR_SESSIONS = 380  # schools must open at least 380 sessions (190 days) a year
_SQL_IN_LIMIT = 2000  # larger pupil-id filters are applied in Python after aggregation

_pw = PupilWeek.__table__
_marks = Mark.__table__


# --- values --------------------------------------------------------------------------------


class _CountsView:
    """Session figures read off ``self.counts`` (shared by pupil, group and week values)."""

    counts: SessionCounts

    @property
    def possible(self) -> int:
        return self.counts.possible

    @property
    def present(self) -> int:
        return self.counts.present

    @property
    def aea(self) -> int:
        return self.counts.aea

    @property
    def authorised(self) -> int:
        return self.counts.authorised

    @property
    def unauthorised(self) -> int:
        return self.counts.unauthorised

    @property
    def late(self) -> int:
        return self.counts.late

    @property
    def absent(self) -> int:
        """Sessions missed: authorised + unauthorised absence."""
        return self.counts.absent

    @property
    def attendance_pct(self) -> float | None:
        return self.counts.attendance_pct

    @property
    def absence_pct(self) -> float | None:
        return self.counts.absence_pct

    @property
    def authorised_absence_pct(self) -> float | None:
        return percentage(self.counts.authorised, self.counts.possible)

    @property
    def unauthorised_absence_pct(self) -> float | None:
        return percentage(self.counts.unauthorised, self.counts.possible)


@dataclass(frozen=True)
class PupilMeasures(_CountsView):
    """One enrolment's figures over a range, with what the pages and reports show beside them."""

    pupil_id: int
    school_id: int
    upn: str
    forename: str
    surname: str
    preferred_forename: str | None
    year_group: str | None
    reg_group: str | None
    fsm: bool
    sen_status: str
    eal: bool
    sex: str | None
    admission_date: date | None
    leaving_date: date | None
    counts: SessionCounts

    @property
    def display_name(self) -> str:
        return f"{self.preferred_forename or self.forename} {self.surname}"

    @property
    def persistent_absence(self) -> bool:
        return self.counts.persistent_absence

    @property
    def severe_absence(self) -> bool:
        return self.counts.severe_absence


@dataclass(frozen=True)
class GroupMeasures(_CountsView):
    """A school's (or any group's) figures: sessions summed across enrolments, never averaged.

    ``enrolments`` counts pupils with at least one possible session in the range; persistent and
    severe absence percentages are of those enrolments."""

    date_from: date
    date_to: date
    enrolments: int
    counts: SessionCounts
    persistent_absence_enrolments: int
    severe_absence_enrolments: int

    @property
    def persistent_absence_pct(self) -> float | None:
        return percentage(self.persistent_absence_enrolments, self.enrolments)

    @property
    def severe_absence_pct(self) -> float | None:
        return percentage(self.severe_absence_enrolments, self.enrolments)

    @classmethod
    def from_counts(cls, rng: DateRange, pupil_counts: Iterable[SessionCounts]) -> "GroupMeasures":
        total, enrolments, pa, sa = [0] * len(COUNT_FIELDS), 0, 0, 0
        for counts in pupil_counts:
            if counts.possible == 0:
                continue
            for i, name in enumerate(COUNT_FIELDS):
                total[i] += getattr(counts, name)
            enrolments += 1
            pa += counts.persistent_absence
            sa += counts.severe_absence
        return cls(rng.start, rng.end, enrolments, SessionCounts(*total), pa, sa)


@dataclass(frozen=True)
class WeekPoint(_CountsView):
    """One week of a trend. ``start``/``end`` are the days counted: a week cut by the range
    (``partial``) counts only the days inside it. ``cumulative_pa_pct`` is the persistent
    absence percentage over the range from its start to this week's end (year to date when the
    range starts on 1 September), None when not computed."""

    week_start: date
    start: date
    end: date
    counts: SessionCounts
    pupils: int  # enrolments with a possible session this week
    cumulative_pa_pct: float | None = None
    cumulative_sa_pct: float | None = None

    @property
    def partial(self) -> bool:
        return self.start != self.week_start or self.end != self.week_start + timedelta(days=6)


@dataclass(frozen=True)
class CohortGap:
    """One group of one dimension (e.g. FSM / eligible) against the REST of the school: the
    gap is group minus rest in percentage points (positive = the group misses more)."""

    dimension: str  # year_group, fsm, sen, eal, sex
    dimension_label: str
    group: str  # the stored value: "7", "True", "K", "F", "" for not recorded
    label: str  # how a person reads it: "Year 7", "FSM", "SEN support"
    enrolments: int
    possible: int
    absent: int
    persistent_absence_enrolments: int
    rest_enrolments: int
    rest_possible: int
    rest_absent: int
    rest_persistent_absence_enrolments: int

    @property
    def absence_pct(self) -> float | None:
        return percentage(self.absent, self.possible)

    @property
    def persistent_absence_pct(self) -> float | None:
        return percentage(self.persistent_absence_enrolments, self.enrolments)

    @property
    def rest_absence_pct(self) -> float | None:
        return percentage(self.rest_absent, self.rest_possible)

    @property
    def rest_persistent_absence_pct(self) -> float | None:
        return percentage(self.rest_persistent_absence_enrolments, self.rest_enrolments)

    @property
    def absence_gap_pp(self) -> float | None:
        return _gap(self.absence_pct, self.rest_absence_pct)

    @property
    def persistent_absence_gap_pp(self) -> float | None:
        return _gap(self.persistent_absence_pct, self.rest_persistent_absence_pct)


@dataclass(frozen=True)
class NewlyPersistent:
    """A pupil who crossed into persistent (or severe) absence between two dates."""

    pupil: PupilMeasures  # figures to ``until``
    before: SessionCounts  # figures to the day before ``since``
    newly_persistent: bool
    newly_severe: bool


@dataclass(frozen=True)
class SchoolComparison:
    school_id: int
    urn: str
    name: str
    phase: str
    la_code: str | None
    measures: GroupMeasures


@dataclass(frozen=True)
class PupilProjection:
    """How many more sessions a pupil can miss before the year's figure is persistent absence.
    Negative: already past the line even with full attendance for the rest of the year."""

    pupil: PupilMeasures
    remaining_possible: int
    sessions_until_pa: int

    @property
    def can_avoid_pa(self) -> bool:
        return self.sessions_until_pa >= 0

    @property
    def days_until_pa(self) -> int | None:
        """Whole school days (two sessions) that can still be missed; what parents are told."""
        return self.sessions_until_pa // 2 if self.sessions_until_pa >= 0 else None


@dataclass(frozen=True)
class YearEndProjection:
    year_start: date
    as_of: date
    school_sessions_so_far: int
    remaining_sessions: int
    pupils: tuple[PupilProjection, ...]


@dataclass(frozen=True)
class PupilFilter:
    """Which enrolments a figure covers; None means no restriction on that attribute."""

    year_groups: frozenset[str] | None = None
    reg_groups: frozenset[str] | None = None
    fsm: bool | None = None
    sen_statuses: frozenset[str] | None = None
    eal: bool | None = None
    sex: str | None = None
    pupil_ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        for name in ("year_groups", "reg_groups", "sen_statuses", "pupil_ids"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, frozenset):
                if isinstance(value, (str, int)):
                    value = [value]
                object.__setattr__(self, name, frozenset(value))

    def with_pupils(self, pupil_ids: Iterable[int] | None) -> "PupilFilter":
        """This filter narrowed to ``pupil_ids`` (intersected with any ids already set)."""
        if pupil_ids is None:
            return self
        ids = frozenset(int(i) for i in pupil_ids)
        return replace(self, pupil_ids=ids if self.pupil_ids is None else ids & self.pupil_ids)

    def attribute_conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.year_groups is not None:
            conditions.append(Pupil.year_group.in_(sorted(self.year_groups)))
        if self.reg_groups is not None:
            conditions.append(Pupil.reg_group.in_(sorted(self.reg_groups)))
        if self.fsm is not None:
            conditions.append(Pupil.fsm.is_(self.fsm))
        if self.sen_statuses is not None:
            conditions.append(Pupil.sen_status.in_(sorted(self.sen_statuses)))
        if self.eal is not None:
            conditions.append(Pupil.eal.is_(self.eal))
        if self.sex is not None:
            conditions.append(Pupil.sex == self.sex)
        return conditions


def _gap(group: float | None, rest: float | None) -> float | None:
    return None if group is None or rest is None else group - rest


def _filter(pupil_filter: PupilFilter | None, pupil_ids: Iterable[int] | None) -> PupilFilter | None:
    if pupil_ids is None:
        return pupil_filter
    return (pupil_filter or PupilFilter()).with_pupils(pupil_ids)


# --- the counting core ---------------------------------------------------------------------


def _restrict(stmt: Select, pupil_col: Any, school_id: int, pf: PupilFilter | None) -> Select:
    """Apply a pupil filter in SQL: small id lists as IN, attributes as a semi-join on pupils."""
    if pf is None:
        return stmt
    if pf.pupil_ids is not None and len(pf.pupil_ids) <= _SQL_IN_LIMIT:
        stmt = stmt.where(pupil_col.in_(sorted(pf.pupil_ids)))
    conditions = pf.attribute_conditions()
    if conditions:
        stmt = stmt.where(pupil_col.in_(select(Pupil.id).where(Pupil.school_id == school_id, *conditions)))
    return stmt


def _python_filter(pf: PupilFilter | None) -> frozenset[int] | None:
    """Id lists too long for SQL IN are applied after aggregation."""
    if pf is not None and pf.pupil_ids is not None and len(pf.pupil_ids) > _SQL_IN_LIMIT:
        return pf.pupil_ids
    return None


def _plan(school_id: int, rng: DateRange) -> tuple[tuple[date, date] | None, list[DateRange]]:
    """Which weeks of ``rng`` to read from rollups, and which edge days from marks.

    A partial edge week is read from its rollup after all when the school has no marks on the
    days of that week outside the range (a range ending on a Friday, or today with the rest of
    the week still to come, or starting on a Tuesday after a bank holiday): the rollup then holds
    exactly the edge's marks. One indexed probe per edge decides it."""
    whole, edges = week_segments(rng)
    marks_edges: list[DateRange] = []
    for edge in edges:
        monday = week_start(edge.start)
        outside = [(monday, edge.start - timedelta(days=1)), (edge.end + timedelta(days=1), monday + timedelta(days=6))]
        if any(a <= b and has_marks(db.session, school_id, a, b) for a, b in outside):
            marks_edges.append(edge)
        else:
            whole = (min(whole[0], monday), max(whole[1], monday)) if whole else (monday, monday)
    return whole, marks_edges


# Whole weeks are read as packed integers: each pupil-week row becomes one integer holding the
# pupil id and the counts wanted (4 bits each: a pupil has at most 14 sessions a week, by the
# marks key of date and AM/PM), optionally a week number (13 bits, counted from a base Monday),
# aggregated into one string by the database (``group_concat`` / ``string_agg``) and parsed by
# numpy in one call. Tens of thousands of rows then cross as one value instead of as Python row
# objects and need no GROUP BY sort: two to five times faster on both engines.
_COUNT_BITS, _COUNT_MASK, _WEEK_BITS, _WEEK_MASK = 4, 0xF, 13, 0x1FFF


def _packed(school_id: int, whole: tuple[date, date], pf: PupilFilter | None, columns: Sequence[str],
            week_base: date | None = None) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray]]:
    """(pupil ids, week numbers from ``week_base`` or None, one array per column) for every
    pupil-week of the school in ``whole``; ``columns`` are SQL over ``pupil_weeks`` (0..14)."""
    dialect = db.session.get_bind().dialect.name
    terms, shift = [], 0
    for column in columns:
        terms.append(f"({column}) * {1 << shift}")
        shift += _COUNT_BITS
    if week_base is not None:
        base = week_base.isoformat()
        week_no = (f"((pupil_weeks.week_start - DATE '{base}') / 7)" if dialect == "postgresql" else
                   f"(CAST(julianday(pupil_weeks.week_start) - julianday('{base}') AS INTEGER) / 7)")
        terms.append(f"{week_no} * {1 << shift}")
        shift += _WEEK_BITS
    pupil = "CAST(pupil_weeks.pupil_id AS BIGINT)" if dialect == "postgresql" else "pupil_weeks.pupil_id"
    terms.append(f"{pupil} * {1 << shift}")
    packed = literal_column("(" + " + ".join(terms) + ")")
    joined = (func.string_agg(cast(packed, Text), literal_column("','")) if dialect == "postgresql"
              else func.group_concat(packed))
    first = whole[0] if week_base is None else max(whole[0], week_base)
    stmt = select(joined).where(_pw.c.school_id == school_id, _pw.c.week_start >= first, _pw.c.week_start <= whole[1])
    values = np.fromstring(db.session.execute(_restrict(stmt, _pw.c.pupil_id, school_id, pf)).scalar() or "",
                           dtype=np.int64, sep=",")
    fields = [(values >> (_COUNT_BITS * i)) & _COUNT_MASK for i in range(len(columns))]
    offset = _COUNT_BITS * len(columns)
    weeks = None
    if week_base is not None:
        weeks = (values >> offset) & _WEEK_MASK
        offset += _WEEK_BITS
    return values >> offset, weeks, fields


def _mark_sums(within: DateRange) -> list[Any]:
    exprs = rollups.count_sum_expressions("marks.date", "marks.code", (within.start, within.end))
    return [literal_column(exprs[name]) for name in COUNT_FIELDS]


def _edge_by_pupil(school_id: int, edge: DateRange, pf: PupilFilter | None) -> Select:
    """Counts per pupil for a few days of marks, classified by the rollups' SQL."""
    stmt = select(_marks.c.pupil_id, *_mark_sums(edge)).where(
        _marks.c.school_id == school_id, _marks.c.week_start.between(*week_bounds(edge.start, edge.end)),
        _marks.c.date >= edge.start, _marks.c.date <= edge.end)
    return _restrict(stmt, _marks.c.pupil_id, school_id, pf).group_by(_marks.c.pupil_id)


def _counts_by_pupil(school_id: int, rng: DateRange, pf: PupilFilter | None = None) -> dict[int, SessionCounts]:
    """pupil_id -> counts over ``rng`` for every pupil of the school with any mark in it."""
    whole, edges = _plan(school_id, rng)
    keep = _python_filter(pf)
    tallies: dict[int, list[int]] = {}
    if whole:
        pupils, _weeks, fields = _packed(school_id, whole, pf, COUNT_FIELDS)
        if len(pupils):
            ids, index = np.unique(pupils, return_inverse=True)
            sums = np.stack([np.bincount(index, weights=f, minlength=len(ids)) for f in fields], axis=1)
            tallies = dict(zip(ids.tolist(), sums.astype(np.int64).tolist()))
    for edge in edges:
        for pupil_id, *values in db.session.execute(_edge_by_pupil(school_id, edge, pf)):
            values = [int(v or 0) for v in values]
            tally = tallies.get(pupil_id)
            tallies[pupil_id] = values if tally is None else [x + y for x, y in zip(tally, values)]
    return {pid: SessionCounts(*tally) for pid, tally in tallies.items() if keep is None or pid in keep}


_PUPIL_COLUMNS = (Pupil.id, Pupil.school_id, Pupil.upn, Pupil.forename, Pupil.surname, Pupil.preferred_forename,
                  Pupil.year_group, Pupil.reg_group, Pupil.fsm, Pupil.sen_status, Pupil.eal, Pupil.sex,
                  Pupil.admission_date, Pupil.leaving_date)


def _pupil_rows(school_id: int, counts: dict[int, SessionCounts]) -> list[PupilMeasures]:
    """PupilMeasures for every pupil in ``counts`` with a possible session, sorted by UPN."""
    wanted = {pid for pid, c in counts.items() if c.possible > 0}
    if not wanted:
        return []
    stmt = select(*_PUPIL_COLUMNS)  # a few pupils by id; many by school (cheaper than a long IN list)
    stmt = stmt.where(Pupil.id.in_(sorted(wanted))) if len(wanted) <= 100 else stmt.where(Pupil.school_id == school_id)
    result = [PupilMeasures(*row, counts=counts[row[0]]) for row in db.session.execute(stmt) if row[0] in wanted]
    result.sort(key=lambda p: (p.upn, p.pupil_id))
    return result


# --- pupils and schools --------------------------------------------------------------------


def pupil_measures(school_id: int, date_from: date | None = None, date_to: date | None = None,
                   pupil_ids: Iterable[int] | None = None,
                   pupil_filter: PupilFilter | None = None) -> list[PupilMeasures]:
    """One PupilMeasures per enrolment at the school with at least one possible session in the
    range (default: this academic year so far), sorted by UPN."""
    rng = resolve_range(date_from, date_to)
    counts = _counts_by_pupil(school_id, rng, _filter(pupil_filter, pupil_ids))
    return _pupil_rows(school_id, counts)


def school_measures(school_id: int, date_from: date | None = None, date_to: date | None = None,
                    pupil_filter: PupilFilter | None = None) -> GroupMeasures:
    """The school's figures (or a filtered group's) over the range: sessions summed across
    enrolments with a possible session; PA and SA as counts and percentages of those."""
    rng = resolve_range(date_from, date_to)
    return GroupMeasures.from_counts(rng, _counts_by_pupil(school_id, rng, pupil_filter).values())


def persistent_absence_list(school_id: int, date_from: date | None = None, date_to: date | None = None,
                            pupil_filter: PupilFilter | None = None,
                            severe_only: bool = False) -> list[PupilMeasures]:
    """Pupils at or over persistent absence (or severe, with ``severe_only``), most absent first
    (absence %, then sessions missed, then UPN). ``absent`` on each is the sessions missed."""
    pupils = pupil_measures(school_id, date_from, date_to, pupil_filter=pupil_filter)
    flagged = [p for p in pupils if (p.severe_absence if severe_only else p.persistent_absence)]
    flagged.sort(key=lambda p: (-(p.absence_pct or 0.0), -p.absent, p.upn))
    return flagged


def newly_persistent(school_id: int, since: date, until: date | None = None,
                     year_start: date | None = None,
                     pupil_filter: PupilFilter | None = None) -> list[NewlyPersistent]:
    """Pupils whose figures crossed into persistent or severe absence between ``since`` and
    ``until`` (default today, London).

    Both figures run from ``year_start`` (default 1 September of ``until``'s academic year):
    "before" to the day before ``since``, "after" to ``until``. A pupil newly persistent is PA
    after and was not PA before (including a pupil with no possible sessions before, such as a
    new joiner); newly severe likewise. Ordered like the PA list."""
    until = until or london_today()
    if since > until:
        raise UserError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    year_start = year_start or academic_year_start(until)
    if year_start > until:
        raise UserError(f"the year starts ({year_start.isoformat()}) after until ({until.isoformat()})")
    after = pupil_measures(school_id, year_start, until, pupil_filter=pupil_filter)
    candidates = [p for p in after if p.persistent_absence]
    if not candidates:
        return []
    if since <= year_start:
        before_counts: dict[int, SessionCounts] = {}
    else:
        ids = [p.pupil_id for p in candidates]
        before_counts = _counts_by_pupil(school_id, DateRange(year_start, since - timedelta(days=1)),
                                         (pupil_filter or PupilFilter()).with_pupils(ids))
    crossed = []
    for pupil in candidates:
        before = before_counts.get(pupil.pupil_id, SessionCounts())
        new_pa = not before.persistent_absence
        new_sa = pupil.severe_absence and not before.severe_absence
        if new_pa or new_sa:
            crossed.append(NewlyPersistent(pupil, before, new_pa, new_sa))
    crossed.sort(key=lambda n: (-(n.pupil.absence_pct or 0.0), -n.pupil.absent, n.pupil.upn))
    return crossed


def trust_comparison(trust_id: int, date_from: date | None = None,
                     date_to: date | None = None) -> list[SchoolComparison]:
    """Each school of the trust with its GroupMeasures over the same range, by school name."""
    trust = db.session.get(Trust, trust_id)
    if trust is None:
        raise NotFound(f"no trust with id {trust_id}")
    rng = resolve_range(date_from, date_to)
    schools = db.session.execute(
        select(School.id, School.urn, School.name, School.phase, School.la_code)
        .where(School.trust_id == trust_id).order_by(School.name, School.urn)).all()
    return [SchoolComparison(s.id, s.urn, s.name, s.phase, s.la_code,
                             GroupMeasures.from_counts(rng, _counts_by_pupil(s.id, rng).values()))
            for s in schools]


# --- trends ----------------------------------------------------------------------------------


def weekly_trend(school_id: int, date_from: date | None = None, date_to: date | None = None,
                 pupil_ids: Iterable[int] | None = None, pupil_filter: PupilFilter | None = None,
                 cumulative: bool = True) -> list[WeekPoint]:
    """One point per week with possible sessions in the range: sessions, attendance and absence
    %, enrolments present that week and, with ``cumulative``, the persistent and severe absence
    percentages from the range start to that week's end (a pupil keeps their figure in weeks
    they have no sessions, e.g. after leaving)."""
    rng = resolve_range(date_from, date_to)
    pf = _filter(pupil_filter, pupil_ids)
    whole, edges = _plan(school_id, rng)
    keep = _python_filter(pf)
    totals: dict[date, list[int]] = {}
    pupils: dict[date, int] = defaultdict(int)
    if whole:
        sums = [func.sum(_pw.c[name]) for name in COUNT_FIELDS]
        where = (_pw.c.school_id == school_id, _pw.c.week_start >= whole[0], _pw.c.week_start <= whole[1])
        if keep is None:
            stmt = select(_pw.c.week_start, func.sum(case((_pw.c.possible > 0, 1), else_=0)), *sums).where(*where)
            for week, n_pupils, *values in db.session.execute(_restrict(stmt, _pw.c.pupil_id, school_id, pf)
                                                              .group_by(_pw.c.week_start)):
                totals[week] = [int(v or 0) for v in values]
                pupils[week] = int(n_pupils or 0)
        else:  # a very long id list: read pupil-weeks and filter here
            stmt = select(_pw.c.week_start, _pw.c.pupil_id, _pw.c.possible, *(_pw.c[n] for n in COUNT_FIELDS)).where(*where)
            for week, pupil_id, possible, *values in db.session.execute(stmt):
                if pupil_id in keep:
                    tally = totals.setdefault(week, [0] * len(COUNT_FIELDS))
                    totals[week] = [x + y for x, y in zip(tally, values)]
                    pupils[week] += possible > 0
    edge_rows: list[tuple[date, int, SessionCounts]] = []
    for edge in edges:
        week = week_start(edge.start)
        for pupil_id, *values in db.session.execute(_edge_by_pupil(school_id, edge, pf)):
            if keep is not None and pupil_id not in keep:
                continue
            counts = SessionCounts(*(int(v or 0) for v in values))
            edge_rows.append((week, pupil_id, counts))
            tally = totals.setdefault(week, [0] * len(COUNT_FIELDS))
            totals[week] = [x + y for x, y in zip(tally, (int(v or 0) for v in values))]
            pupils[week] += counts.possible > 0
    weeks = sorted(w for w, values in totals.items() if SessionCounts(*values).possible > 0)
    flags = _cumulative_flags(school_id, whole, pf, keep, edge_rows, weeks) if cumulative and weeks else {}
    return [WeekPoint(w, max(w, rng.start), min(w + timedelta(days=6), rng.end), SessionCounts(*totals[w]), pupils[w],
                      *flags.get(w, (None, None))) for w in weeks]


def _cumulative_flags(school_id: int, whole: tuple[date, date] | None, pf: PupilFilter | None,
                      keep: frozenset[int] | None, edge_rows: list[tuple[date, int, SessionCounts]],
                      weeks: list[date]) -> dict[date, tuple[float | None, float | None]]:
    """Week -> (PA %, SA %) of enrolments, on each pupil's sums from the range start to the end
    of that week: every pupil-week's (absent, possible) goes into a pupils x weeks matrix, and
    cumulative sums along the weeks carry each pupil forward."""
    base = weeks[0]
    column = np.full((weeks[-1] - base).days // 7 + 1, -1, dtype=np.int64)  # week number -> point
    for i, w in enumerate(weeks):
        column[(w - base).days // 7] = i
    pupil_parts, week_parts, absent_parts, possible_parts = [], [], [], []
    if whole and whole[1] >= base:
        pupil, week_no, (absent, possible) = _packed(school_id, whole, pf, ("authorised + unauthorised", "possible"),
                                                     week_base=base)
        inside = week_no < len(column)
        point = np.where(inside, column[np.minimum(week_no, len(column) - 1)], -1)
        wanted = point >= 0
        if keep is not None:
            wanted &= np.isin(pupil, np.fromiter(keep, dtype=np.int64, count=len(keep)))
        pupil_parts.append(pupil[wanted])
        week_parts.append(point[wanted])
        absent_parts.append(absent[wanted])
        possible_parts.append(possible[wanted])
    edge = [(int(column[(w - base).days // 7]), pid, c) for w, pid, c in edge_rows
            if base <= w <= weeks[-1] and column[(w - base).days // 7] >= 0]
    if edge:
        pupil_parts.append(np.array([pid for _i, pid, _c in edge], dtype=np.int64))
        week_parts.append(np.array([i for i, _p, _c in edge], dtype=np.int64))
        absent_parts.append(np.array([c.absent for _i, _p, c in edge], dtype=np.int64))
        possible_parts.append(np.array([c.possible for _i, _p, c in edge], dtype=np.int64))
    if sum(len(part) for part in pupil_parts) == 0:
        return {}
    ids, rows = np.unique(np.concatenate(pupil_parts), return_inverse=True)
    n_pupils, n_weeks = len(ids), len(weeks)
    flat = rows * n_weeks + np.concatenate(week_parts)
    absent_sum = np.bincount(flat, weights=np.concatenate(absent_parts), minlength=n_pupils * n_weeks)
    possible_sum = np.bincount(flat, weights=np.concatenate(possible_parts), minlength=n_pupils * n_weeks)
    absent_sum = absent_sum.reshape(n_pupils, n_weeks).cumsum(axis=1)
    possible_sum = possible_sum.reshape(n_pupils, n_weeks).cumsum(axis=1)
    enrolled = possible_sum > 0
    # the same whole-number rules as measures.is_persistent_absence / is_severe_absence
    pa = (enrolled & (absent_sum * 10 >= possible_sum)).sum(axis=0)
    sa = (enrolled & (absent_sum * 2 >= possible_sum)).sum(axis=0)
    n_enrolled = enrolled.sum(axis=0)
    return {w: (percentage(int(pa[i]), int(n_enrolled[i])), percentage(int(sa[i]), int(n_enrolled[i])))
            for i, w in enumerate(weeks)}


# --- cohorts ---------------------------------------------------------------------------------

DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("year_group", "Year group"), ("fsm", "Free school meals"), ("sen", "Special educational needs"),
    ("eal", "English as an additional language"), ("sex", "Sex"),
)
_SEN_LABELS = {"N": "No SEN", "K": "SEN support", "E": "EHC plan"}
_YEAR_ORDER = {"N1": -2, "N2": -1, "R": 0}


def _year_label(year: str | None) -> str:
    if not year:
        return "Not recorded"
    if year == "R":
        return "Reception"
    if year in ("N1", "N2"):
        return f"Nursery {year[1]}"
    return f"Year {year}"


def _year_order(year: str) -> tuple[int, str]:
    if not year:
        return (999, "")
    if year.isdigit():
        return (int(year), year)
    return (_YEAR_ORDER.get(year, 100), year)


def _group_of(pupil: PupilMeasures, dimension: str) -> tuple[str, str, tuple]:
    """(stored value, label, sort key) of ``pupil`` on ``dimension``."""
    if dimension == "year_group":
        value = pupil.year_group or ""
        return value, _year_label(value), _year_order(value)
    if dimension == "fsm":
        return str(pupil.fsm), "FSM" if pupil.fsm else "Not FSM", (not pupil.fsm,)
    if dimension == "sen":
        return pupil.sen_status, _SEN_LABELS.get(pupil.sen_status, pupil.sen_status), ("NKE".find(pupil.sen_status),)
    if dimension == "eal":
        return str(pupil.eal), "EAL" if pupil.eal else "Not EAL", (not pupil.eal,)
    if dimension == "sex":
        value = pupil.sex or ""
        return value, {"F": "Female", "M": "Male"}.get(value, "Not recorded"), ({"F": 0, "M": 1}.get(value, 2),)
    raise ValueError(f"unknown dimension {dimension!r}")


def cohort_gaps_from(pupils: Sequence[PupilMeasures],
                     dimensions: Sequence[tuple[str, str]] = DIMENSIONS) -> list[CohortGap]:
    """Cohort gaps over already computed pupil figures (pure): each group against the rest of
    those pupils. Pupils without possible sessions are ignored."""
    counted = [p for p in pupils if p.possible > 0]
    total_n = len(counted)
    total_possible = sum(p.possible for p in counted)
    total_absent = sum(p.absent for p in counted)
    total_pa = sum(p.persistent_absence for p in counted)
    gaps: list[CohortGap] = []
    for dimension, dimension_label in dimensions:
        groups: dict[str, list[Any]] = {}
        for pupil in counted:
            value, label, order = _group_of(pupil, dimension)
            g = groups.setdefault(value, [label, order, 0, 0, 0, 0])
            g[2] += 1
            g[3] += pupil.possible
            g[4] += pupil.absent
            g[5] += pupil.persistent_absence
        for value, (label, _order, n, possible, absent, pa) in sorted(groups.items(), key=lambda kv: kv[1][1]):
            gaps.append(CohortGap(dimension, dimension_label, value, label, n, possible, absent, pa,
                                  total_n - n, total_possible - possible, total_absent - absent, total_pa - pa))
    return gaps


def cohort_gaps(school_id: int, date_from: date | None = None, date_to: date | None = None) -> list[CohortGap]:
    """For each dimension (year group, FSM, SEN N/K/E, EAL, sex) and each group present: its
    enrolments, absence % and PA %, and the gap in percentage points to the rest of the school.
    Against the rest, not the whole school: a group that is most of the school would otherwise
    look close to "average" however far it is from everyone else."""
    return cohort_gaps_from(pupil_measures(school_id, date_from, date_to))


# --- projection ------------------------------------------------------------------------------


def school_sessions_held(school_id: int, date_from: date, date_to: date) -> int:
    """Estimate of the sessions the school has held in the range: for each week, the most
    possible sessions any one pupil had (a pupil on roll all week with no not-counted codes has
    exactly the school's sessions). Read from rollups (plus marks for partial edge weeks)."""
    rng = DateRange(date_from, date_to)
    whole, edges = _plan(school_id, rng)
    held = 0
    if whole:
        per_week = select(func.max(_pw.c.possible).label("most")).where(
            _pw.c.school_id == school_id, _pw.c.week_start >= whole[0], _pw.c.week_start <= whole[1]
        ).group_by(_pw.c.week_start).subquery()
        held += int(db.session.scalar(select(func.coalesce(func.sum(per_week.c.most), 0))) or 0)
    for edge in edges:
        most = max((SessionCounts(*(int(v or 0) for v in sums)).possible
                    for _pid, *sums in db.session.execute(_edge_by_pupil(school_id, edge, None))), default=0)
        held += most
    return held


def year_end_projection(school_id: int, as_of: date | None = None, pupil_ids: Iterable[int] | None = None,
                        year_sessions: int = YEAR_SESSIONS) -> YearEndProjection:
    """For each pupil, how many more sessions they can miss before their figure for the whole
    academic year reaches persistent absence (``measures.sessions_until_persistent_absence``).

    The remaining possible sessions are an estimate: the school's sessions so far (the most
    possible sessions any pupil had in each week, summed from 1 September to ``as_of``) are
    taken from the statutory 380-session year, and every pupil is assumed to stay on roll with
    every remaining session possible. So a school that opens more than 380 sessions, a pupil who
    leaves, or not-counted codes (X, Y1-Y7) later in the year move the true figure; the estimate
    is best used as "about N more sessions", which is how it is shown."""
    as_of = as_of or london_today()
    year_start = academic_year_start(as_of)
    held = school_sessions_held(school_id, year_start, as_of)
    remaining = max(0, year_sessions - held)
    pupils = pupil_measures(school_id, year_start, as_of, pupil_ids=pupil_ids)
    projections = tuple(PupilProjection(p, remaining, sessions_until_persistent_absence(p.counts, remaining))
                        for p in pupils)
    return YearEndProjection(year_start, as_of, held, remaining, projections)
