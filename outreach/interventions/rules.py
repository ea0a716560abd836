"""The rules that prompt staff to act, as pure functions over one pupil's register. No Flask, no DB.

Inputs are small and explicit: each pupil's marks summarised per day (``Day``), the school's
calendar (school days are days on which the school held at least one session counted in possible
sessions, so holidays and closures drop out), the dates contact with the family was logged, the
academic year's pupil-week rollups for persistent/severe absence, and for each rule how far
existing tasks already reach (``covered``).

Episodes. Each finding has a deterministic ``episode_key`` (the first day of a run of absence,
the week a pupil crossed into persistent absence, the day the penalty threshold was reached ...)
and the services keep one task per key (a unique constraint). Conditions that last (a long
absence, a sustained fall, a Monday/Friday habit) would otherwise look new whenever the data
window moves, so each rule also reads ``covered``: the last day of evidence the newest existing
task for that pupil and rule already covers. A finding whose episode began on or before that day
is the same episode and makes no task; only evidence after it can start a new one. The penalty
threshold uses the same anchor as the framework does in practice: sessions counted towards one
consideration are not counted again towards the next.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Sequence

from outreach.attendance.codes import Category, UnknownCode, classify
from outreach.attendance.measures import is_persistent_absence, is_severe_absence, percentage
from outreach.interventions.vocabulary import RULES
from outreach.messaging.placeholders import format_days


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds and switches; the defaults follow the guidance and are the database defaults too."""

    first_day_contact: bool = True
    n_code_overdue: bool = True
    consecutive_absence: bool = True
    persistent_absence: bool = True
    severe_absence: bool = True
    attendance_drop: bool = True
    monday_friday: bool = True
    penalty_threshold: bool = True
    n_code_school_days: int = 5  # an N must be resolved within 5 school days
    consecutive_days: int = 3
    pa_min_possible: int = 20  # no PA/SA task on fewer possible sessions (2 weeks): one missed session is not a pattern
    drop_points: float = 5.0
    drop_weeks: int = 4
    monday_friday_weeks: int = 12
    monday_friday_min_days: int = 4
    monday_friday_ratio: float = 2.0
    penalty_sessions: int = 10  # national framework: 10 unauthorised sessions ...
    penalty_school_weeks: int = 10  # ... within a rolling 10 school weeks
    review_reminder_days: int = 5
    parent_texts: bool = False
    parent_text_template: str = "attendance_concern"
    parent_text_cooldown_days: int = 14

    @classmethod
    def from_object(cls, obj: Any) -> "RuleConfig":
        return cls(**{f.name: getattr(obj, f.name) for f in fields(cls)})

    def enabled(self, rule: str) -> bool:
        return bool(getattr(self, rule))


DEFAULTS = RuleConfig()

# Limits the settings may take (checked by services when a person edits them).
LIMITS: dict[str, tuple[float, float]] = {
    "n_code_school_days": (1, 20), "consecutive_days": (2, 20), "pa_min_possible": (1, 400),
    "drop_points": (1, 50), "drop_weeks": (2, 8), "monday_friday_weeks": (4, 20),
    "monday_friday_min_days": (2, 40), "monday_friday_ratio": (1.1, 10), "penalty_sessions": (1, 100),
    "penalty_school_weeks": (1, 20), "review_reminder_days": (0, 60), "parent_text_cooldown_days": (1, 365),
}

MIN_BLOCK_SESSIONS_PER_WEEK = 4  # a drop compares blocks with at least this many possible sessions a week
RECENT_SCHOOL_DAYS = 5  # a run of absence that ended longer ago than this is history, not a prompt
# Rules after which a supportive text may go to parents (days missed, never a percentage).
TEXT_RULES = frozenset({"persistent_absence", "attendance_drop", "monday_friday"})


@dataclass(frozen=True)
class Day:
    """One pupil's marks on one day, counted."""

    possible: int = 0
    attended: int = 0
    absent: int = 0
    unauthorised: int = 0
    n_sessions: int = 0

    @property
    def all_absent(self) -> bool:
        return self.possible > 0 and self.absent == self.possible


@dataclass(frozen=True)
class Calendar:
    """The school's days (ascending, up to the evaluation date) and its school weeks (Mondays)."""

    days: tuple[date, ...]
    weeks: tuple[date, ...] = field(init=False)
    day_week: Mapping[date, int] = field(init=False, repr=False)  # school day -> index into weeks

    def __post_init__(self) -> None:
        weeks = tuple(sorted({_monday(d) for d in self.days}))
        position = {w: i for i, w in enumerate(weeks)}
        object.__setattr__(self, "weeks", weeks)
        object.__setattr__(self, "day_week", {d: position[_monday(d)] for d in self.days})

    def school_days_after(self, day: date, until: date) -> int:
        """School days strictly after ``day`` up to and including ``until``."""
        return bisect_right(self.days, until) - bisect_right(self.days, day)

    def week_index(self, day: date) -> int:
        return bisect_left(self.weeks, _monday(day))

    def previous_day(self, day: date) -> date | None:
        i = bisect_left(self.days, day)
        return self.days[i - 1] if i > 0 else None

    def last_days(self, n: int) -> tuple[date, ...]:
        return self.days[-n:] if n > 0 else ()


@dataclass(frozen=True)
class Finding:
    rule: str
    pupil_id: int
    episode_key: str
    episode_start: date
    episode_end: date
    summary: str
    detail: dict[str, Any]

    @property
    def next_step(self) -> str:
        return RULES[self.rule].next_step


@dataclass(frozen=True)
class YearWeek:
    """A pupil-week rollup (this academic year, before the evaluation week)."""

    week_start: date
    absent: int
    possible: int


@dataclass(frozen=True)
class PupilContext:
    contacted: frozenset[date] = frozenset()  # London dates with contact with the family logged
    covered: Mapping[str, date] = field(default_factory=dict)  # rule -> newest task's episode_end
    year_weeks: tuple[YearWeek, ...] = ()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def days_text(sessions: int) -> str:
    """Sessions as days, halves shown: 1 -> '0.5 days', 2 -> '1 day', 7 -> '3.5 days'."""
    number = format_days(sessions)
    return f"{number} day" if number == "1" else f"{number} days"


def format_day(day: date) -> str:
    """'Mon 4 Nov 2024': how rules, tasks and timelines name a day."""
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y')}"


# --- summarising marks ------------------------------------------------------------------------

def summarise_marks(marks: Iterable[tuple[int, date, str, str]]) -> dict[int, dict[date, Day]]:
    """``(pupil_id, date, session, code)`` rows -> per pupil, per day counts, each mark classified
    with the code table of its own date. A code no table knows is left out (the importer refuses
    such codes, so this only guards against rows written some other way)."""
    acc: dict[int, dict[date, list[int]]] = {}
    cache: dict[tuple[str, date], Category | None] = {}
    for pupil_id, day, _session, code in marks:
        key = (code, day)
        if key not in cache:
            try:
                cache[key] = classify(code, day)
            except UnknownCode:
                cache[key] = None
        category = cache[key]
        if category is None or not category.in_possible:
            continue
        counts = acc.setdefault(pupil_id, {}).setdefault(day, [0, 0, 0, 0, 0])
        counts[0] += 1
        if category in (Category.PRESENT, Category.AEA):
            counts[1] += 1
        else:
            counts[2] += 1
            if category is Category.UNAUTHORISED:
                counts[3] += 1
                if code == "N":
                    counts[4] += 1
    return {pid: {d: Day(*c) for d, c in days.items()} for pid, days in acc.items()}


def school_calendar(registers: Mapping[int, Mapping[date, Day]], as_of: date) -> Calendar:
    """School days: days up to ``as_of`` on which any pupil had a session counted in possible."""
    days = {d for days in registers.values() for d, day in days.items() if day.possible and d <= as_of}
    return Calendar(tuple(sorted(days)))


# --- the rules --------------------------------------------------------------------------------

def first_day_contact(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date,
                      contacted: frozenset[date], covered: date | None) -> Finding | None:
    """An unexplained absence (N) today and no contact with the family logged since it began."""
    today = days.get(as_of)
    if today is None or today.n_sessions == 0:
        return None
    start = as_of
    while (prev := cal.previous_day(start)) is not None and days.get(prev, Day()).n_sessions > 0:
        start = prev
    if covered is not None and start <= covered:
        return None
    if any(start <= d <= as_of for d in contacted):
        return None
    run = cal.school_days_after(start, as_of) + 1
    summary = ("Absent today with no reason given, and no contact with the family logged" if start == as_of else
               f"Absent with no reason given since {format_day(start)} ({run} school days), and no contact logged")
    return Finding("first_day_contact", pupil_id, start.isoformat(), start, start, summary,
                   {"since": start.isoformat(), "school_days": run, "n_sessions_today": today.n_sessions})


def n_code_overdue(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date,
                   school_days: int, covered: date | None) -> Finding | None:
    """N marks still unresolved more than ``school_days`` school days later."""
    overdue = sorted(d for d, day in days.items()
                     if day.n_sessions and d <= as_of and (covered is None or d > covered)
                     and cal.school_days_after(d, as_of) > school_days)
    if not overdue:
        return None
    sessions = sum(days[d].n_sessions for d in overdue)
    first, last = overdue[0], overdue[-1]
    when = format_day(first) if first == last else f"{len(overdue)} days from {format_day(first)} to {format_day(last)}"
    summary = f"No reason recorded for {sessions} session{'s' if sessions != 1 else ''} marked N ({when}) after {school_days} school days"
    return Finding("n_code_overdue", pupil_id, first.isoformat(), first, last, summary,
                   {"dates": [d.isoformat() for d in overdue], "sessions": sessions})


def consecutive_absence(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date,
                        min_days: int, covered: date | None) -> Finding | None:
    """The latest run of ``min_days`` or more school days absent in every possible session, ending
    within the last few school days. Days on which the pupil had no possible session neither
    break nor extend a run."""
    pupil_days = [d for d in cal.days if d <= as_of and days.get(d, Day()).possible]
    recent = set(cal.last_days(RECENT_SCHOOL_DAYS))
    best: tuple[date, date, int] | None = None
    run: list[date] = []
    for d in pupil_days + [None]:  # type: ignore[list-item]
        if d is not None and days[d].all_absent:
            run.append(d)
            continue
        if len(run) >= min_days and run[-1] in recent:
            best = (run[0], run[-1], len(run))
        run = []
    if best is None:
        return None
    start, end, length = best
    if covered is not None and start <= covered:
        return None
    ongoing = end == (pupil_days[-1] if pupil_days else None)
    summary = (f"Absent {length} school days in a row since {format_day(start)}" if ongoing
               else f"Was absent {length} school days in a row, {format_day(start)} to {format_day(end)}")
    return Finding("consecutive_absence", pupil_id, start.isoformat(), start, end, summary,
                   {"from": start.isoformat(), "to": end.isoformat(), "school_days": length, "ongoing": ongoing})


def _year_series(ctx: PupilContext, days: Mapping[date, Day], as_of: date) -> list[tuple[date, int, int]]:
    """Cumulative (week, absent, possible) this academic year: rollups for the weeks before
    ``as_of``'s week, this week's marks up to ``as_of``."""
    this_week = _monday(as_of)
    weeks: dict[date, list[int]] = {w.week_start: [w.absent, w.possible] for w in ctx.year_weeks if w.week_start < this_week}
    current = [0, 0]
    for d, day in days.items():
        if this_week <= d <= as_of:
            current[0] += day.absent
            current[1] += day.possible
    if current[1]:
        weeks[this_week] = current
    series, absent, possible = [], 0, 0
    for week in sorted(weeks):
        absent += weeks[week][0]
        possible += weeks[week][1]
        series.append((week, absent, possible))
    return series


def _crossing(pupil_id: int, rule: str, series: list[tuple[date, int, int]], test, min_possible: int,  # type: ignore[no-untyped-def]
              as_of: date, covered: date | None, label: str) -> Finding | None:
    flags = [test(a, p) and p >= min_possible for _, a, p in series]
    if not flags or not flags[-1]:
        return None
    i = len(flags) - 1
    while i > 0 and flags[i - 1]:
        i -= 1
    crossed = series[i][0]
    if covered is not None and crossed <= covered:
        return None
    _, absent, possible = series[-1]
    pct = percentage(absent, possible) or 0.0
    summary = (f"Now {label} this year: {days_text(absent)} missed of {days_text(possible)} "
               f"({absent} of {possible} sessions, {pct:.1f}% absence) since the week of {format_day(crossed)}")
    return Finding(rule, pupil_id, crossed.isoformat(), crossed, as_of, summary,
                   {"absent_sessions": absent, "possible_sessions": possible, "absence_pct": round(pct, 1),
                    "crossed_week": crossed.isoformat()})


def persistent_absence(pupil_id: int, days: Mapping[date, Day], ctx: PupilContext, as_of: date, min_possible: int,
                       covered: date | None) -> Finding | None:
    """This year's absence reached 10% of possible sessions (whole-number rule): keyed by the week it crossed."""
    return _crossing(pupil_id, "persistent_absence", _year_series(ctx, days, as_of), is_persistent_absence,
                     min_possible, as_of, covered, "persistently absent")


def severe_absence(pupil_id: int, days: Mapping[date, Day], ctx: PupilContext, as_of: date, min_possible: int,
                   covered: date | None) -> Finding | None:
    """This year's absence reached 50% of possible sessions."""
    return _crossing(pupil_id, "severe_absence", _year_series(ctx, days, as_of), is_severe_absence,
                     min_possible, as_of, covered, "severely absent")


def _weekly(days: Mapping[date, Day], cal: Calendar, as_of: date) -> list[list[int]]:
    """Per school week (index as ``cal.weeks``): [attended, possible] sessions."""
    weeks = [[0, 0] for _ in cal.weeks]
    for d, day in days.items():
        i = cal.day_week.get(d)
        if i is not None and d <= as_of:
            weeks[i][0] += day.attended
            weeks[i][1] += day.possible
    return weeks


def _run_start(holds, first: int, last: int) -> tuple[int, bool] | None:  # type: ignore[no-untyped-def]
    """If ``holds(last)``, the first index of the unbroken run ending at ``last`` and whether the
    run reaches ``first`` (the earliest index that can be evaluated: its true start is unknown)."""
    if last < first or not holds(last):
        return None
    i = last
    while i > first and holds(i - 1):
        i -= 1
    return i, i == first


def attendance_drop(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date,
                    weeks: int, points: float, covered: date | None) -> Finding | None:
    """Attendance over the last ``weeks`` school weeks at least ``points`` below the ``weeks`` before."""
    per_week = _weekly(days, cal, as_of)
    min_block = MIN_BLOCK_SESSIONS_PER_WEEK * weeks

    def blocks(i: int) -> tuple[float, float] | None:
        recent, prior = per_week[i - weeks + 1:i + 1], per_week[i - 2 * weeks + 1:i - weeks + 1]
        ra, rp = sum(w[0] for w in recent), sum(w[1] for w in recent)
        pa, pp = sum(w[0] for w in prior), sum(w[1] for w in prior)
        if rp < min_block or pp < min_block:
            return None
        return 100.0 * pa / pp, 100.0 * ra / rp

    def holds(i: int) -> bool:
        b = blocks(i)
        return b is not None and b[0] - b[1] >= points

    found = _run_start(holds, 2 * weeks - 1, len(per_week) - 1)
    if found is None:
        return None
    i, truncated = found
    start = cal.weeks[i]
    if covered is not None and (start <= covered or truncated):
        return None
    before, now = blocks(len(per_week) - 1)  # type: ignore[misc]
    summary = (f"Attendance fell from {before:.1f}% to {now:.1f}% ({before - now:.1f} points) "
               f"over the last {weeks} school weeks compared with the {weeks} before")
    return Finding("attendance_drop", pupil_id, start.isoformat(), start, as_of, summary,
                   {"before_pct": round(before, 1), "recent_pct": round(now, 1), "weeks": weeks})


def monday_friday(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date, weeks: int,
                  min_days: int, ratio: float, covered: date | None) -> Finding | None:
    """Over the last ``weeks`` school weeks, at least ``min_days`` Mondays/Fridays with an absence,
    at a rate at least ``ratio`` times the rate on other days."""
    by_week: list[list[int]] = [[0, 0, 0, 0] for _ in cal.weeks]  # mf_absent, mf_days, other_absent, other_days
    for d, day in days.items():
        i = cal.day_week.get(d)
        if i is None or d > as_of or not day.possible:
            continue
        slot = 0 if d.weekday() in (0, 4) else 2
        by_week[i][slot] += 1 if day.absent else 0
        by_week[i][slot + 1] += 1

    def counts(i: int) -> list[int]:
        window = by_week[i - weeks + 1:i + 1]
        return [sum(w[k] for w in window) for k in range(4)]

    def holds(i: int) -> bool:
        mf_abs, mf_n, other_abs, other_n = counts(i)
        if mf_abs < min_days or not mf_n or not other_n:
            return False
        return mf_abs / mf_n >= ratio * (other_abs / other_n)

    found = _run_start(holds, weeks - 1, len(by_week) - 1)
    if found is None:
        return None
    i, truncated = found
    start = cal.weeks[i]
    if covered is not None and (start <= covered or truncated):
        return None
    mf_abs, mf_n, other_abs, other_n = counts(len(by_week) - 1)
    summary = (f"Absent on {mf_abs} of {mf_n} Mondays and Fridays in the last {weeks} school weeks, "
               f"against {other_abs} of {other_n} other days")
    return Finding("monday_friday", pupil_id, start.isoformat(), start, as_of, summary,
                   {"monday_friday_absent": mf_abs, "monday_friday_days": mf_n,
                    "other_absent": other_abs, "other_days": other_n, "weeks": weeks})


def penalty_threshold(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date,
                      sessions: int, school_weeks: int, covered: date | None) -> Finding | None:
    """``sessions`` unauthorised sessions (G, N, O, U) within a rolling ``school_weeks`` school weeks,
    a school week being any week with at least one session, so holidays are skipped and the window
    runs across half terms, Christmas and year ends. Sessions already counted towards an earlier
    consideration (on or before ``covered``) are not counted again. Only a threshold reached within
    the current window makes a finding: a person must then consider it."""
    unauth = sorted((d, day.unauthorised) for d, day in days.items()
                    if day.unauthorised and d <= as_of and (covered is None or d > covered))
    if not unauth or not cal.weeks:
        return None
    week_of = [cal.day_week[d] if d in cal.day_week else cal.week_index(d) for d, _ in unauth]
    trigger: tuple[int, int, int, int] | None = None  # (index into unauth, window's first week, sessions, first counted)
    anchor = -1  # index into unauth of the last trigger: sessions up to it are used
    lo = 0
    total = 0
    for j in range(len(unauth)):
        first_week = week_of[j] - (school_weeks - 1)
        total += unauth[j][1]
        lo = max(lo, anchor + 1)
        while lo <= j and week_of[lo] < first_week:
            total -= unauth[lo][1]
            lo += 1
        if total >= sessions:
            trigger = (j, max(first_week, 0), total, lo)
            anchor, lo, total = j, j + 1, 0
    if trigger is None:
        return None
    j, first_week, counted, first_counted = trigger
    if week_of[j] < len(cal.weeks) - school_weeks:
        return None  # reached long ago and never since: history, not a prompt
    day = unauth[j][0]
    window_start = cal.weeks[first_week]
    summary = (f"{counted} unauthorised sessions ({days_text(counted)}) within {school_weeks} school weeks "
               f"({format_day(window_start)} to {format_day(day)}): a penalty notice must be considered by a person")
    return Finding("penalty_threshold", pupil_id, day.isoformat(), window_start, day, summary,
                   {"sessions": counted, "window_start": window_start.isoformat(), "reached_on": day.isoformat(),
                    "first_session": unauth[first_counted][0].isoformat(), "school_weeks": school_weeks})


# --- all rules for one pupil ------------------------------------------------------------------

def evaluate_pupil(pupil_id: int, days: Mapping[date, Day], cal: Calendar, as_of: date,
                   config: RuleConfig, ctx: PupilContext) -> list[Finding]:
    """Every enabled rule's finding for one pupil (at most one per rule)."""
    cov = ctx.covered.get
    checks: Sequence[tuple[str, Any]] = (
        ("first_day_contact", lambda: first_day_contact(pupil_id, days, cal, as_of, ctx.contacted, cov("first_day_contact"))),
        ("n_code_overdue", lambda: n_code_overdue(pupil_id, days, cal, as_of, config.n_code_school_days, cov("n_code_overdue"))),
        ("consecutive_absence", lambda: consecutive_absence(pupil_id, days, cal, as_of, config.consecutive_days,
                                                            cov("consecutive_absence"))),
        ("persistent_absence", lambda: persistent_absence(pupil_id, days, ctx, as_of, config.pa_min_possible,
                                                          cov("persistent_absence"))),
        ("severe_absence", lambda: severe_absence(pupil_id, days, ctx, as_of, config.pa_min_possible, cov("severe_absence"))),
        ("attendance_drop", lambda: attendance_drop(pupil_id, days, cal, as_of, config.drop_weeks, config.drop_points,
                                                    cov("attendance_drop"))),
        ("monday_friday", lambda: monday_friday(pupil_id, days, cal, as_of, config.monday_friday_weeks,
                                                config.monday_friday_min_days, config.monday_friday_ratio,
                                                cov("monday_friday"))),
        ("penalty_threshold", lambda: penalty_threshold(pupil_id, days, cal, as_of, config.penalty_sessions,
                                                        config.penalty_school_weeks, cov("penalty_threshold"))),
    )
    findings = []
    for rule, check in checks:
        if config.enabled(rule) and (finding := check()) is not None:
            findings.append(finding)
    return findings
