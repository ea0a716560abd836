"""``/api/v1``: attendance figures of the schools, pupils and trusts a token's user may see.

The same read side as the pages (``attendance.queries`` over rollups, ``dashboard.queries``);
pupil-level answers are audited like the pages (``pupils.list`` / ``pupil.view``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from flask_login import current_user

from outreach.attendance import queries as aq
from outreach.attendance.measures import SessionCounts, percentage
from outreach.attendance.national import reference_figures
from outreach.core import audit
from outreach.core.api import ApiBlueprint
from outreach.core.errors import UserError
from outreach.core.pagination import Page
from outreach.core.scoping import require_row, require_school, require_trust
from outreach.core.timeutil import academic_year_start, london_today
from outreach.dashboard import cache, logic, queries
from outreach.dashboard.schemas import (
    CohortsSchema, PupilAttendanceQuerySchema, PupilAttendanceSchema, PupilMeasuresSchema, RangeQuerySchema,
    SchoolMeasuresSchema, TrendSchema, TrustComparisonSchema,
)
from outreach.extensions import db
from outreach.schools.models import Pupil, School

bp = ApiBlueprint("attendance_api", __name__, tag="Attendance",
                  description="Attendance, absence, persistent and severe absence, trends and cohort gaps.")


@dataclass(frozen=True)
class _Span:
    """The range asked for; ``empty`` when it ends before it starts (answered with no sessions)."""

    start: date
    end: date

    @property
    def empty(self) -> bool:
        return self.start > self.end


def _range(query: dict[str, Any]) -> _Span:
    end = query.get("date_to") or london_today()
    return _Span(query.get("date_from") or academic_year_start(end), end)


def _no_sessions(span: _Span) -> aq.GroupMeasures:
    return aq.GroupMeasures(span.start, span.end, 0, SessionCounts(), 0, 0)


def _reference(school: Any) -> dict[str, Any] | None:
    try:
        return reference_figures(school.phase, school.la_code)
    except UserError:
        return reference_figures(school.phase)


@bp.endpoint("/schools/<urn>/measures", summary="A school's attendance figures for a date range",
             query=RangeQuerySchema, response=SchoolMeasuresSchema)
def school_measures(urn: str, query: dict[str, Any]) -> dict[str, Any]:
    """Sessions summed across enrolments (never averaged), persistent and severe absence as
    counts and percentages of enrolments, beside the published national, regional and LA
    figures for the school's phase. Default range: this academic year so far."""
    school = require_school(current_user, urn)
    rng = _range(query)
    # kept per process like the pages' figures (dashboard.cache): a client polling the year's
    # figures recomputed them from every rollup on each call
    measures = _no_sessions(rng) if rng.empty else cache.cached(
        [school.id], ("school_measures", rng.start, rng.end), lambda: aq.school_measures(school.id, rng.start, rng.end))
    return {**_group(measures), "urn": school.urn, "reference": _reference(school)}


def _figures(counts: SessionCounts) -> dict[str, Any]:
    return {"possible": counts.possible, "present": counts.present, "aea": counts.aea, "authorised": counts.authorised,
            "unauthorised": counts.unauthorised, "absent": counts.absent, "late": counts.late,
            "attendance_pct": counts.attendance_pct, "absence_pct": counts.absence_pct,
            "authorised_absence_pct": percentage(counts.authorised, counts.possible),
            "unauthorised_absence_pct": percentage(counts.unauthorised, counts.possible)}


def _group(measures: aq.GroupMeasures) -> dict[str, Any]:
    fields = ("date_from", "date_to", "enrolments", "possible", "present", "aea", "authorised", "unauthorised", "absent",
              "late", "attendance_pct", "absence_pct", "authorised_absence_pct", "unauthorised_absence_pct",
              "persistent_absence_enrolments", "severe_absence_enrolments", "persistent_absence_pct", "severe_absence_pct")
    return {name: getattr(measures, name) for name in fields}


@bp.endpoint("/schools/<urn>/trend", summary="Attendance week by week", query=RangeQuerySchema, response=TrendSchema)
def school_trend(urn: str, query: dict[str, Any]) -> dict[str, Any]:
    """One point per week with possible sessions; persistent and severe absence from the
    range's first day to each week's end."""
    school = require_school(current_user, urn)
    rng = _range(query)
    return {"urn": school.urn, "date_from": rng.start, "date_to": rng.end,
            "weeks": [] if rng.empty else aq.weekly_trend(school.id, rng.start, rng.end)}


@bp.endpoint("/schools/<urn>/cohorts", summary="Cohort gaps: each group against the rest of the school",
             query=RangeQuerySchema, response=CohortsSchema)
def school_cohorts(urn: str, query: dict[str, Any]) -> dict[str, Any]:
    """Year group, FSM, SEN (none, support, EHC plan), EAL and sex: each group's absence and
    persistent absence beside the rest of the school, and the gap in percentage points."""
    school = require_school(current_user, urn)
    rng = _range(query)
    return {"urn": school.urn, "date_from": rng.start, "date_to": rng.end,
            "groups": [] if rng.empty else aq.cohort_gaps(school.id, rng.start, rng.end)}


@bp.endpoint("/schools/<urn>/attendance/pupils", summary="Pupils with their attendance, filtered and sorted",
             query=PupilAttendanceQuerySchema, response=PupilAttendanceSchema, paginated=True, audited=True)
def school_pupil_attendance(urn: str, query: dict[str, Any]) -> Page[Any]:
    """The Pupils page as data: pupils on roll (and, with ``include_left``, earlier enrolments;
    pupils who left but had sessions in the period are always included), each with their
    figures for the period. Sorted by ``sort`` (ties by name). The pupils returned are audited."""
    school = require_school(current_user, urn)
    wanted = logic.parse_pupil_query({k: ("1" if v is True else "" if v is False else v) for k, v in query.items()
                                      if k not in ("page", "per_page")})
    rows, rng = queries.pupil_rows(school, wanted.period, wanted.include_left, london_today())
    shown = logic.sort_rows([r for r in rows if logic.matches(r, wanted)], wanted)
    page_no, per_page = query["page"], query["per_page"]
    items = shown[(page_no - 1) * per_page:page_no * per_page]
    audit.record("pupils.list", school=school, pupil_ids=[r.pupil_id for r in items],
                 detail={"page": page_no, "from": rng.start.isoformat(), "to": rng.end.isoformat(),
                         **{k: v for k, v in wanted.args().items() if k != "q"}, "searched": bool(wanted.q)})
    return Page(items, page_no, per_page, len(shown))


@bp.endpoint("/pupils/<int:pupil_id>/attendance", summary="One pupil's attendance figures and projection",
             query=RangeQuerySchema, response=PupilMeasuresSchema, audited=True)
def pupil_attendance(pupil_id: int, query: dict[str, Any]) -> dict[str, Any]:
    """Sessions and percentages over the range (default this academic year so far) and, when
    the range ends in the current academic year, how many more sessions can be missed before
    the year's figure is persistent absence (an estimate: see the projection fields)."""
    pupil = require_row(current_user, Pupil, pupil_id, message="Pupil not found")
    rng = _range(query)
    found = [] if rng.empty else aq.pupil_measures(pupil.school_id, rng.start, rng.end, pupil_ids=[pupil.id])
    counts = found[0].counts if found else SessionCounts()
    projection = None
    today = london_today()
    if not rng.empty and academic_year_start(rng.end) == academic_year_start(today):
        year = aq.year_end_projection(pupil.school_id, min(rng.end, today), pupil_ids=[pupil.id])
        if year.pupils:
            p = year.pupils[0]
            projection = {"remaining_sessions": p.remaining_possible, "sessions_until_pa": p.sessions_until_pa,
                          "days_until_pa": p.days_until_pa, "can_avoid_pa": p.can_avoid_pa}
    audit.record("pupil.view", school_id=pupil.school_id, pupil_ids=[pupil.id], detail={"attendance": True})
    return {"id": pupil.id, "school_urn": pupil.school.urn, "upn": pupil.upn, "display_name": pupil.display_name,
            "year_group": pupil.year_group, "reg_group": pupil.reg_group, "date_from": rng.start, "date_to": rng.end,
            "measures": _figures(counts), "persistent_absence": counts.persistent_absence,
            "severe_absence": counts.severe_absence, "projection": projection}


@bp.endpoint("/trusts/<int:trust_id>/comparison", summary="A trust's schools side by side",
             query=RangeQuerySchema, response=TrustComparisonSchema)
def trust_comparison(trust_id: int, query: dict[str, Any]) -> dict[str, Any]:
    """Each school of the trust over the same range, by name. For trust leads (their trust) and
    administrators; any other token gets 404."""
    trust = require_trust(current_user, trust_id)
    rng = _range(query)
    if rng.empty:
        compared = [(s, _no_sessions(rng)) for s in db.session.scalars(
            select(School).where(School.trust_id == trust.id).order_by(School.name, School.urn))]
    else:
        compared = [(c, c.measures) for c in aq.trust_comparison(trust.id, rng.start, rng.end)]
    schools = [{**_group(m), "urn": c.urn, "name": c.name, "phase": c.phase, "la_code": c.la_code} for c, m in compared]
    return {"trust_id": trust.id, "name": trust.name, "date_from": rng.start, "date_to": rng.end, "schools": schools}
