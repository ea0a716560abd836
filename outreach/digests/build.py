"""What a school's weekly digest says: a list of sections built from the attendance queries.

Every section is made by a builder registered here (``register_section``), in order; a builder
returns None when it has nothing to say (a school with no interventions this week gets no empty
table). Later features add their own section without editing this file, e.g. the walking bus:

    from outreach.digests.build import Section, register_section
    register_section("walking_bus", walking_bus_section, order=60)

A section is plain data (title, paragraphs, tables, links, an optional chart) so the same
section renders into the HTML email, the plain-text alternative and the dashboard page, and is
archived as JSON beside the email exactly as sent.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import func, select

from outreach.attendance import charts, national, queries
from outreach.attendance.queries import GroupMeasures
from outreach.core.errors import UserError
from outreach.core.timeutil import academic_year_start
from outreach.digests.weeks import iso_week, london_bounds
from outreach.extensions import db
from outreach.interventions.models import Intervention, Referral, Task
from outreach.interventions.vocabulary import INTERVENTION_TYPES
from outreach.schools.models import School

DASH = "–"  # shown for a figure that does not exist (no sessions, not published)
TOP_GAPS = 6  # cohort gaps shown: the largest
MIN_GAP_GROUP = 3  # smaller groups swing on one pupil's week: not shown among the largest gaps
TREND_TABLE_WEEKS = 8


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]  # the first cell of each row is its header


@dataclass(frozen=True)
class Link:
    label: str
    path: str  # on the dashboard, e.g. "/schools/100001"; made absolute with OUTREACH_PUBLIC_BASE_URL


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    chart: str | None = None  # key of a PNG in DigestContent.images; its alt text is paragraphs[0]
    pupil_ids: list[int] = field(default_factory=list)  # pupils named (for the audit log when viewed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Section":
        return cls(key=data["key"], title=data["title"], paragraphs=list(data.get("paragraphs") or []),
                   tables=[Table(t["caption"], list(t["headers"]), [list(r) for r in t["rows"]])
                           for t in data.get("tables") or []],
                   links=[Link(link["label"], link["path"]) for link in data.get("links") or []],
                   chart=data.get("chart"), pupil_ids=list(data.get("pupil_ids") or []))


@dataclass
class DigestContext:
    """What every section builder may read: the school, the week and the figures already computed."""

    school: School
    week_start: date
    now: datetime
    this_week: GroupMeasures
    last_week: GroupMeasures
    this_year: GroupMeasures
    reference: dict[str, Any] | None  # national.reference_figures, None when the phase is not published
    images: dict[str, bytes] = field(default_factory=dict)

    @property
    def week(self) -> str:
        return iso_week(self.week_start)

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def year_start(self) -> date:
        return academic_year_start(self.week_end)

    @property
    def school_path(self) -> str:
        return f"/schools/{self.school.urn}"


@dataclass
class DigestContent:
    school_id: int
    week: str
    week_start: date
    subject: str
    sections: list[Section]
    images: dict[str, bytes]
    this_week: GroupMeasures

    @property
    def had_sessions(self) -> bool:
        return self.this_week.possible > 0


SectionBuilder = Callable[[DigestContext], "Section | None"]
_SECTIONS: dict[str, tuple[int, SectionBuilder]] = {}


def register_section(key: str, builder: SectionBuilder, order: int = 100) -> None:
    """Add (or replace) a digest section; sections appear by ``order``, then key."""
    _SECTIONS[key] = (order, builder)


def registered_sections() -> list[tuple[str, SectionBuilder]]:
    return [(key, builder) for key, (_order, builder) in sorted(_SECTIONS.items(), key=lambda kv: (kv[1][0], kv[0]))]


# --- formatting ------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    """One decimal place, as the DfE publishes: 93.46 -> "93.5%"."""
    return DASH if value is None else f"{value:.1f}%"


def pct_with_count(value: float | None, count: int) -> str:
    return DASH if value is None else f"{value:.1f}% ({count:,})"


def points(value: float | None) -> str:
    return DASH if value is None else f"{value:+.1f} pts"


def compared(change: float | None) -> str:
    """", up 0.4 percentage points on last week" (rounded as shown, so 0.04 reads as unchanged)."""
    if change is None:
        return ""
    if round(change, 1) == 0:
        return ", the same as last week"
    return f", {'up' if change > 0 else 'down'} {abs(change):.1f} percentage points on last week"


def day_label(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def short_day(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


# --- the content -----------------------------------------------------------------------------


def build(school: School, monday: date, now: datetime) -> DigestContent:
    """Every section of ``school``'s digest for the week starting ``monday``."""
    week_end = monday + timedelta(days=6)
    year_start = academic_year_start(week_end)
    try:
        reference: dict[str, Any] | None = national.reference_figures(school.phase, school.la_code)
    except UserError:  # a phase or LA code the DfE data does not know: show the school's own figures
        reference = None
    ctx = DigestContext(
        school=school, week_start=monday, now=now,
        this_week=queries.school_measures(school.id, monday, week_end),
        last_week=queries.school_measures(school.id, monday - timedelta(days=7), monday - timedelta(days=1)),
        this_year=queries.school_measures(school.id, year_start, week_end),
        reference=reference,
    )
    sections = [s for _key, builder in registered_sections() if (s := builder(ctx)) is not None]
    subject = (f"{school.name}: attendance for the week of {day_label(monday)}"
               f" ({pct(ctx.this_week.attendance_pct)})" if ctx.this_week.possible else
               f"{school.name}: no school sessions in the week of {day_label(monday)}")
    return DigestContent(school.id, ctx.week, monday, subject, sections, ctx.images, ctx.this_week)


def _reference_columns(ctx: DigestContext) -> list[tuple[str, dict[str, Any]]]:
    if ctx.reference is None:
        return []
    columns = [("England", ctx.reference["national"])]
    if ctx.reference.get("la"):
        columns.append((ctx.reference["la"]["name"] or "Local authority", ctx.reference["la"]))
    return columns


def figures_section(ctx: DigestContext) -> Section:
    periods = [("This week", ctx.this_week), ("Last week", ctx.last_week), ("This year", ctx.this_year)]
    refs = _reference_columns(ctx)
    headers = ["Measure"] + [label for label, _ in periods] + [name for name, _ in refs]
    rows = [
        ["Attendance"] + [pct(m.attendance_pct) for _, m in periods] + [pct(r["attendance_pct"]) for _, r in refs],
        ["Overall absence"] + [pct(m.absence_pct) for _, m in periods] + [pct(r["absence_pct"]) for _, r in refs],
        ["Persistent absence (pupils)"] + [pct_with_count(m.persistent_absence_pct, m.persistent_absence_enrolments)
                                           for _, m in periods] + [pct(r["persistent_absence_pct"]) for _, r in refs],
        ["Severe absence (pupils)"] + [pct_with_count(m.severe_absence_pct, m.severe_absence_enrolments)
                                       for _, m in periods] + [DASH for _ in refs],
        ["Pupils with sessions"] + [f"{m.enrolments:,}" for _, m in periods] + [DASH for _ in refs],
    ]
    paragraphs = []
    if ctx.this_week.possible == 0:
        paragraphs.append("The school held no sessions this week (a holiday, or registers not imported yet).")
    else:
        change = None
        if ctx.last_week.attendance_pct is not None and ctx.this_week.attendance_pct is not None:
            change = ctx.this_week.attendance_pct - ctx.last_week.attendance_pct
        paragraphs.append(f"Attendance this week was {pct(ctx.this_week.attendance_pct)}{compared(change)}."
                          f" This year so far: {pct(ctx.this_year.attendance_pct)}.")
    paragraphs.append(f"This week is Monday {day_label(ctx.week_start)} to Sunday {day_label(ctx.week_end)}; this year "
                      f"runs from {day_label(ctx.year_start)}. Persistent absence: missing 10% or more of possible "
                      "sessions in the period; severe: 50% or more.")
    if ctx.reference is not None:
        paragraphs.append(f"England and local-authority figures: {ctx.reference['source']}, {ctx.reference['period']} "
                          f"({ctx.reference['phase'].lower()} schools); severe absence is not published there.")
    return Section("figures", "Attendance at a glance", paragraphs,
                   [Table("Attendance, absence and persistent absence", headers, rows)],
                   [Link("School overview", ctx.school_path)])


def trend_section(ctx: DigestContext) -> Section | None:
    trend = queries.weekly_trend(ctx.school.id, ctx.year_start, ctx.week_end, cumulative=False)
    if not trend:
        return None
    comparison = ctx.reference["national"]["attendance_pct"] if ctx.reference else None
    title = "Attendance by week this year"
    ctx.images["trend"] = charts.weekly_trend_png(trend, comparison, "England", title)
    alt = charts.trend_description(trend, comparison, "England")
    recent = trend[-TREND_TABLE_WEEKS:]
    rows = [[f"w/c {short_day(p.week_start)}", pct(p.attendance_pct), pct(p.absence_pct), f"{p.pupils:,}"]
            for p in reversed(recent)]
    return Section("trend", title, [alt],
                   [Table(f"The last {len(recent)} weeks", ["Week", "Attendance", "Absence", "Pupils"], rows)],
                   chart="trend")


def newly_persistent_section(ctx: DigestContext) -> Section:
    crossed = queries.newly_persistent(ctx.school.id, ctx.week_start, ctx.week_end, year_start=ctx.year_start)
    if not crossed:
        return Section("newly_persistent", "Newly persistently absent",
                       ["No pupil became persistently or severely absent this week."])
    rows = [[n.pupil.display_name, queries._year_label(n.pupil.year_group), pct(n.pupil.absence_pct),
             f"{n.pupil.absent} of {n.pupil.possible}", "severe" if n.newly_severe else "persistent"]
            for n in crossed]
    n_pa = sum(1 for n in crossed if n.newly_persistent)
    n_sa = sum(1 for n in crossed if n.newly_severe)
    return Section("newly_persistent", "Newly persistently absent",
                   [f"{n_pa} pupil{'s' if n_pa != 1 else ''} crossed into persistent absence this week"
                    + (f" and {n_sa} into severe absence" if n_sa else "")
                    + " (figures for the year so far)."],
                   [Table("Pupils who crossed the line this week",
                          ["Pupil", "Year", "Absence this year", "Sessions missed", "Now"], rows)],
                   [Link("School overview", ctx.school_path)],
                   pupil_ids=[n.pupil.pupil_id for n in crossed])


def cohort_gaps_section(ctx: DigestContext) -> Section | None:
    gaps = [g for g in queries.cohort_gaps(ctx.school.id, ctx.year_start, ctx.week_end)
            if g.enrolments >= MIN_GAP_GROUP and g.rest_enrolments > 0 and g.absence_gap_pp is not None]
    widest = sorted((g for g in gaps if (g.absence_gap_pp or 0) > 0), key=lambda g: -(g.absence_gap_pp or 0))[:TOP_GAPS]
    if not widest:
        return None
    rows = [[g.label, f"{g.enrolments:,}", pct(g.absence_pct), pct(g.rest_absence_pct), points(g.absence_gap_pp),
             pct(g.persistent_absence_pct)] for g in widest]
    return Section("cohort_gaps", "Where the gaps are",
                   [f"The groups missing most school this year compared with the rest of the school (groups of "
                    f"{MIN_GAP_GROUP} or more pupils; gap in percentage points of absence)."],
                   [Table("Largest absence gaps this year",
                          ["Group", "Pupils", "Absence", "Rest of school", "Gap", "Persistent absence"], rows)])


def interventions_section(ctx: DigestContext) -> Section:
    start, end = london_bounds(ctx.week_start)
    sid = ctx.school.id
    by_type = dict(db.session.execute(
        select(Intervention.type, func.count()).where(Intervention.school_id == sid, Intervention.occurred_at >= start,
                                                      Intervention.occurred_at < end)
        .group_by(Intervention.type)).all())

    def count(model: Any, column: Any, *extra: Any) -> int:
        return int(db.session.scalar(select(func.count()).select_from(model).where(
            model.school_id == sid, column >= start, column < end, *extra)) or 0)

    rows = [["Interventions recorded", f"{sum(by_type.values()):,}"]]
    rows += [[f"· {INTERVENTION_TYPES[t].label if t in INTERVENTION_TYPES else t}", f"{n:,}"]
             for t, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))]
    rows += [
        ["Tasks opened", f"{count(Task, Task.created_at):,}"],
        ["Tasks closed", f"{count(Task, Task.closed_at, Task.status != 'open'):,}"],
        ["Early-help referrals opened", f"{count(Referral, Referral.created_at):,}"],
        ["Early-help referrals closed", f"{count(Referral, Referral.closed_at):,}"],
    ]
    open_tasks = int(db.session.scalar(select(func.count()).select_from(Task).where(
        Task.school_id == sid, Task.status == "open")) or 0)
    return Section("interventions", "Interventions this week",
                   [f"{open_tasks:,} task{'s' if open_tasks != 1 else ''} open for attendance officers now."],
                   [Table("Opened and closed this week", ["What", "This week"], rows)])


register_section("figures", figures_section, order=10)
register_section("trend", trend_section, order=20)
register_section("newly_persistent", newly_persistent_section, order=30)
register_section("cohort_gaps", cohort_gaps_section, order=40)
register_section("interventions", interventions_section, order=50)
