"""What the dashboard pages and API read, assembled from the attendance and interventions read
sides (which own every figure: this module adds no arithmetic of its own beyond choosing ranges).

Figures come from pupil-week rollups (``attendance.queries``). Raw marks are read only where a
page is about marks themselves: one pupil's calendar (their weeks by primary key, unfolded by
the ``marks`` view), and on Today the school's ``N`` marks this year (only weeks holding an N
are unfolded) and its school days of the last few weeks (``store.days_with_possible``), both
kept at the school's figure version.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Sequence

from sqlalchemy import func, select

from outreach.attendance import queries as aq
from outreach.attendance.measures import SessionCounts, sessions_until_persistent_absence
from outreach.attendance.national import reference_figures
from outreach.attendance.periods import DateRange, term_of
from outreach.core.errors import UserError
from outreach.core.timeutil import academic_year_start, london_today, week_start
from outreach.dashboard import cache, logic
from outreach.extensions import db
from outreach.interventions import rules
from outreach.interventions.queries import TimelineEvent, case_timeline
from outreach.interventions.services import logged_contacts, rule_config
from outreach.registers.models import ImportBatch, Mark
from outreach.registers.store import days_with_possible, week_bounds
from outreach.schools.models import Pupil, PupilContact, School, Trust
from outreach.schools.queries import on_roll

CALENDAR_WEEKS = 6  # recent weeks read to know the school days (enough for a 20-school-day rule)


# --- ranges ------------------------------------------------------------------------------------


def year_range(as_of: date) -> DateRange:
    return DateRange(academic_year_start(as_of), as_of, "this year so far")


def term_range(as_of: date) -> DateRange:
    term = term_of(as_of)
    return DateRange(term.start, min(term.end, as_of), term.label + " so far")


def period_range(period: str, as_of: date) -> DateRange:
    return term_range(as_of) if period == "term" else year_range(as_of)


# --- Today -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnexplainedAbsence:
    pupil: Pupil
    sessions_today: int  # N sessions today
    since: date  # the first day of the unbroken run of N days
    school_days: int  # length of that run in school days


@dataclass(frozen=True)
class OverdueN:
    pupil: Pupil
    dates: tuple[date, ...]
    sessions: int


@dataclass
class TodayLists:
    school: School
    as_of: date
    n_code_school_days: int
    unexplained: list[UnexplainedAbsence] = field(default_factory=list)
    newly: list[Any] = field(default_factory=list)  # (NewlyPersistent, Pupil)
    newly_since: date | None = None
    last_import: ImportBatch | None = None
    overdue: list[OverdueN] = field(default_factory=list)
    is_school_day: bool = False


def school_days(school_id: int, first: date, last: date) -> tuple[date, ...]:
    """Days in [first, last] on which the school had a session counted in possible (any pupil):
    the same notion of a school day the intervention rules use, so closures and holidays drop
    out (``registers.store.days_with_possible``). Kept per process at the school's figure version,
    as figures are: they change only when marks are written, and Today asks on every visit."""
    return cache.cached([school_id], ("school_days", first, last),
                        lambda: tuple(days_with_possible(db.session, school_id, first, last)), figures_only=True)


def _n_marks(school_id: int, first: date, last: date) -> tuple[tuple[int, date, str, str], ...]:
    """The school's N marks in [first, last]: only weeks holding an N are unfolded (no other code
    has the letter), and the answer is kept at the school's figure version, as the school days
    are (Today asks on every visit; marks change only with an import)."""
    def read() -> tuple[tuple[int, date, str, str], ...]:
        return tuple(tuple(r) for r in db.session.execute(  # type: ignore[misc]
            select(Mark.pupil_id, Mark.date, Mark.session, Mark.code).where(
                Mark.school_id == school_id, Mark.week_start.between(*week_bounds(first, last)),
                Mark.week_codes.like("%N%"), Mark.date >= first, Mark.date <= last, Mark.code == "N")))

    return cache.cached([school_id], ("n_marks", first, last), read, figures_only=True)


def last_register_imports(school_id: int, limit: int = 2) -> list[ImportBatch]:
    return list(db.session.scalars(
        select(ImportBatch).where(ImportBatch.school_id == school_id, ImportBatch.kind == "registers",
                                  ImportBatch.status == "completed")
        .order_by(ImportBatch.finished_at.desc().nulls_last(), ImportBatch.id.desc()).limit(limit)))


def newly_since(imports: Sequence[ImportBatch], year_start: date, as_of: date) -> date | None:
    """The first day whose marks the last import brought: the day after the previous import's
    last register date (what was known before), or the last import's first date when there was
    no earlier import; kept inside this academic year. None without any import."""
    if not imports:
        return None
    last = imports[0]
    since = None
    if len(imports) > 1 and imports[1].date_to is not None and (last.date_to is None or imports[1].date_to < last.date_to):
        since = imports[1].date_to + timedelta(days=1)
    elif last.date_from is not None:
        since = last.date_from
    if since is None:
        return None
    return min(max(since, year_start), as_of)


def today_lists(school: School, as_of: date | None = None) -> TodayLists:
    """The officer's morning: unexplained absences today (N today, no contact logged since the
    run of N began), pupils who crossed into persistent or severe absence since the last import,
    and N marks still unresolved after the school's ``n_code_school_days``. The rules are the
    intervention rules' own (``rules.first_day_contact`` / ``rules.n_code_overdue``), run without
    task history, so the lists show what is true now whether or not a task was raised."""
    as_of = as_of or london_today()
    config = rule_config(school.id)
    year_start = academic_year_start(as_of)
    out = TodayLists(school, as_of, config.n_code_school_days)
    window = max(year_start, week_start(as_of) - timedelta(weeks=CALENDAR_WEEKS))
    cal = rules.Calendar(school_days(school.id, window, as_of))
    out.is_school_day = as_of in cal.days
    n_rows = _n_marks(school.id, year_start, as_of)
    registers = rules.summarise_marks(n_rows)
    today_ids = [pid for pid, days in registers.items() if as_of in days]
    contacted = logged_contacts(school.id, today_ids, window, as_of) if today_ids else {}
    found_today, found_overdue = [], []
    for pid, days in registers.items():
        if pid in today_ids:
            f = rules.first_day_contact(pid, days, cal, as_of, frozenset(contacted.get(pid, ())), None)
            if f is not None:
                found_today.append((pid, f))
        f = rules.n_code_overdue(pid, days, cal, as_of, config.n_code_school_days, None)
        if f is not None:
            found_overdue.append((pid, f, days))
    imports = last_register_imports(school.id)
    out.last_import = imports[0] if imports else None
    out.newly_since = newly_since(imports, year_start, as_of)
    newly = (cache.cached([school.id], ("newly", out.newly_since, as_of),
                          lambda: aq.newly_persistent(school.id, out.newly_since, as_of)) if out.newly_since else [])
    wanted = {pid for pid, _ in found_today} | {pid for pid, _f, _d in found_overdue} | {n.pupil.pupil_id for n in newly}
    pupils = pupils_by_id(school.id, wanted)
    for pid, f in found_today:
        out.unexplained.append(UnexplainedAbsence(pupils[pid], registers[pid][as_of].n_sessions,
                                                  date.fromisoformat(f.detail["since"]), int(f.detail["school_days"])))
    for pid, f, _days in found_overdue:
        out.overdue.append(OverdueN(pupils[pid], tuple(date.fromisoformat(d) for d in f.detail["dates"]),
                                    int(f.detail["sessions"])))
    out.unexplained.sort(key=lambda u: (-u.school_days, _name(u.pupil)))
    out.overdue.sort(key=lambda o: (o.dates[0], _name(o.pupil)))
    out.newly = [(n, pupils[n.pupil.pupil_id]) for n in newly]
    return out


def _name(pupil: Pupil) -> tuple[str, str]:
    return (pupil.surname.casefold(), (pupil.preferred_forename or pupil.forename).casefold())


def pupils_by_id(school_id: int, ids: set[int]) -> dict[int, Pupil]:
    if not ids:
        return {}
    stmt = select(Pupil).where(Pupil.school_id == school_id)
    if len(ids) <= 500:
        stmt = stmt.where(Pupil.id.in_(sorted(ids)))
    return {p.id: p for p in db.session.scalars(stmt) if p.id in ids}


# --- school overview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureRow:
    label: str
    rng: DateRange
    measures: aq.GroupMeasures


@dataclass(frozen=True)
class Overview:
    as_of: date
    rows: list[MeasureRow]
    trend: list[aq.WeekPoint]
    gaps: list[aq.CohortGap]
    reference: dict[str, Any] | None
    reference_problem: str | None = None

    @property
    def year(self) -> aq.GroupMeasures:
        return self.rows[0].measures

    @property
    def national_attendance(self) -> float | None:
        national = (self.reference or {}).get("national") or {}
        return national.get("attendance_pct")


def school_overview(school: School, as_of: date | None = None) -> Overview:
    """This year and this term so far, each beside the same span last year; the weekly trend of
    this year; cohort gaps this year; the published national / regional / LA figures. Kept per
    process while the school's figures do not change (``dashboard.cache``)."""
    as_of = as_of or london_today()
    phase, la_code = school.phase, school.la_code
    return cache.cached([school.id], ("overview", as_of, phase, la_code),
                        lambda: _school_overview(school.id, phase, la_code, as_of), figures_only=True)


def _school_overview(school_id: int, phase: str, la_code: str | None, as_of: date) -> Overview:
    year, term = year_range(as_of), term_range(as_of)
    pupils = aq.pupil_measures(school_id, year.start, year.end)
    rows = [MeasureRow("This year so far", year, aq.GroupMeasures.from_counts(year, (p.counts for p in pupils)))]
    rows.append(MeasureRow(f"This term ({term.label.removesuffix(' so far')}) so far", term,
                           aq.school_measures(school_id, term.start, term.end)))
    for label, rng in (("Same span last year", year), ("Same term last year", term)):
        first, last = logic.same_span_last_year(rng.start, rng.end)
        earlier = DateRange(first, last)
        rows.append(MeasureRow(label, earlier, aq.school_measures(school_id, first, last)))
    trend = aq.weekly_trend(school_id, year.start, year.end)
    gaps = aq.cohort_gaps_from(pupils)
    reference, problem = None, None
    try:
        reference = reference_figures(phase, la_code)
    except UserError as exc:  # an LA code the data cannot use: national figures still help
        problem = exc.message
        reference = reference_figures(phase)
    return Overview(as_of, rows, trend, gaps, reference, problem)


# --- pupils ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PupilRow(aq.PupilMeasures):
    """A pupil on the list: their figures (zero when no session was possible yet) and whether
    they are on roll today. A PupilMeasures, so everything that reads those reads these."""

    on_roll: bool = True

    @classmethod
    def of(cls, measures: aq.PupilMeasures, on_roll: bool) -> "PupilRow":
        return cls(**{f.name: getattr(measures, f.name) for f in fields(aq.PupilMeasures)}, on_roll=on_roll)


def pupil_rows(school: School, period: str = "year", include_left: bool = False,
               as_of: date | None = None) -> tuple[list[PupilRow], DateRange]:
    """Every pupil on roll today (and, with ``include_left``, every earlier enrolment), each with
    figures over ``period``; pupils who left but had sessions this period are counted in the
    school's figures, so they are listed with a "left" tag too."""
    as_of = as_of or london_today()
    return cache.cached([school.id], ("pupil_rows", period, include_left, as_of),
                        lambda: _pupil_rows(school.id, period, include_left, as_of))


def _pupil_rows(school_id: int, period: str, include_left: bool, as_of: date) -> tuple[list[PupilRow], DateRange]:
    rng = period_range(period, as_of)
    measured = {p.pupil_id: p for p in aq.pupil_measures(school_id, rng.start, rng.end)}
    columns = aq._PUPIL_COLUMNS  # the same pupil fields PupilMeasures carries
    stmt = select(*columns, on_roll(as_of).label("on_roll")).where(Pupil.school_id == school_id)
    rows = []
    for *values, is_on_roll in db.session.execute(stmt):
        pupil_id = values[0]
        if not (is_on_roll or include_left or pupil_id in measured):
            continue
        measures = measured.get(pupil_id) or aq.PupilMeasures(*values, counts=SessionCounts())
        rows.append(PupilRow.of(measures, bool(is_on_roll)))
    return rows, rng


# --- one pupil ---------------------------------------------------------------------------------


@dataclass
class PupilDetail:
    pupil: Pupil
    as_of: date
    year: DateRange
    year_measures: aq.PupilMeasures | None
    term_measures: aq.PupilMeasures | None
    projection: aq.PupilProjection | None
    remaining_sessions: int
    months: list[logic.CalendarMonth]
    totals: list[tuple[str, str, int]]
    contacts: list[PupilContact]
    timeline: list[TimelineEvent]


def pupil_marks(pupil: Pupil, first: date, last: date) -> list[tuple[date, str, str]]:
    return [tuple(r) for r in db.session.execute(  # type: ignore[misc]
        select(Mark.date, Mark.session, Mark.code).where(
            Mark.pupil_id == pupil.id, Mark.week_start.between(*week_bounds(first, last)), Mark.date >= first,
            Mark.date <= last).order_by(Mark.date, Mark.session))]


def pupil_detail(pupil: Pupil, as_of: date | None = None) -> PupilDetail:
    as_of = as_of or london_today()
    year, term = year_range(as_of), term_range(as_of)
    ids = [pupil.id]
    year_m = next(iter(aq.pupil_measures(pupil.school_id, year.start, year.end, pupil_ids=ids)), None)
    term_m = next(iter(aq.pupil_measures(pupil.school_id, term.start, term.end, pupil_ids=ids)), None)
    # the school's sessions so far are school-wide (a max over every pupil-week): kept per version
    held = cache.cached([pupil.school_id], ("sessions_held", year.start, as_of),
                        lambda: aq.school_sessions_held(pupil.school_id, year.start, as_of), figures_only=True)
    remaining = max(0, aq.YEAR_SESSIONS - held)
    projection = (aq.PupilProjection(year_m, remaining, sessions_until_persistent_absence(year_m.counts, remaining))
                  if year_m is not None else None)
    marks = pupil_marks(pupil, year.start, as_of)
    last_month_end = as_of
    contacts = sorted(pupil.contact_links, key=lambda link: (link.priority, link.contact.name))
    timeline = list(reversed(case_timeline(pupil.school_id, pupil.id)))
    return PupilDetail(pupil, as_of, year, year_m, term_m, projection, remaining, logic.mark_calendar(year.start, last_month_end, marks),
                       logic.category_totals(marks), contacts, timeline)


# --- trust -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustRow:
    comparison: aq.SchoolComparison
    weekly: tuple[float | None, ...]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.comparison, name)


TRUST_SORTS = {"name": "School", "enrolments": "Pupils counted", "attendance": "Attendance",
               "absence": "Absence", "unauthorised": "Unauthorised", "pa": "Persistent absence",
               "sa": "Severe absence"}


def trust_rows(trust: Trust, as_of: date | None = None, sort: str = "name", order: str = "asc") -> list[TrustRow]:
    """Each school of the trust this year so far, with its weekly attendance for a sparkline."""
    as_of = as_of or london_today()
    year = year_range(as_of)
    school_ids = list(db.session.scalars(select(School.id).where(School.trust_id == trust.id)))

    def compute() -> list[TrustRow]:
        return [TrustRow(c, tuple(p.attendance_pct for p in aq.weekly_trend(c.school_id, year.start, year.end,
                                                                             cumulative=False)))
                for c in aq.trust_comparison(trust.id, year.start, year.end)]

    rows = list(cache.cached(school_ids, ("trust", trust.id, as_of), compute, figures_only=True))
    value = {
        "name": lambda r: (r.name.casefold(), r.urn),
        "enrolments": lambda r: r.measures.enrolments,
        "attendance": lambda r: r.measures.attendance_pct,
        "absence": lambda r: r.measures.absence_pct,
        "unauthorised": lambda r: r.measures.unauthorised_absence_pct,
        "pa": lambda r: r.measures.persistent_absence_pct,
        "sa": lambda r: r.measures.severe_absence_pct,
    }[sort]
    known = [r for r in rows if value(r) is not None]
    unknown = [r for r in rows if value(r) is None]
    known.sort(key=lambda r: (r.name.casefold(), r.urn))
    known.sort(key=value, reverse=order == "desc")
    return known + unknown


def trust_school_counts(trust_ids: Sequence[int]) -> dict[int, int]:
    if not trust_ids:
        return {}
    return dict(db.session.execute(select(School.trust_id, func.count()).where(School.trust_id.in_(list(trust_ids)))
                                   .group_by(School.trust_id)).all())

