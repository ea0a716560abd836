"""Read helpers for schools: who is on roll, counted from ``Pupil`` rows (one row per enrolment)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from outreach.extensions import db
from outreach.schools.models import Pupil, School

YEAR_GROUPS = ("N1", "N2", "R", *(str(n) for n in range(1, 15)), "X")


def on_roll(day: date) -> ColumnElement[bool]:
    """Enrolled on ``day``: admitted by then (or no date recorded) and not yet left."""
    return and_(
        or_(Pupil.admission_date.is_(None), Pupil.admission_date <= day),
        or_(Pupil.leaving_date.is_(None), Pupil.leaving_date >= day),
    )


def pupils_on_roll(school_ids: Iterable[int], day: date) -> dict[int, int]:
    """Pupils on roll per school, in one grouped query."""
    ids = list(school_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Pupil.school_id, func.count()).where(Pupil.school_id.in_(ids), on_roll(day)).group_by(Pupil.school_id)
    )
    return {school_id: n for school_id, n in rows}


def year_group_order(year: str | None) -> int:
    return YEAR_GROUPS.index(year) if year in YEAR_GROUPS else len(YEAR_GROUPS)


@dataclass
class RollSummary:
    on_roll: int = 0
    by_year_group: list[dict[str, Any]] = field(default_factory=list)
    fsm: int = 0
    sen_support: int = 0
    ehcp: int = 0
    eal: int = 0
    left: int = 0


def roll_summary(school: School, day: date) -> RollSummary:
    """Head counts for a school's home page: on roll, by year group, and the groups the DfE
    reports attendance for (free school meals, SEN support, EHC plan, EAL)."""
    def as_int(cond: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    totals = db.session.execute(
        select(func.count(), as_int(Pupil.fsm.is_(True)), as_int(Pupil.sen_status == "K"), as_int(Pupil.sen_status == "E"),
               as_int(Pupil.eal.is_(True)))
        .where(Pupil.school_id == school.id, on_roll(day))
    ).one()
    years = db.session.execute(
        select(Pupil.year_group, func.count()).where(Pupil.school_id == school.id, on_roll(day)).group_by(Pupil.year_group)
    ).all()
    left = db.session.scalar(select(func.count()).where(Pupil.school_id == school.id, Pupil.leaving_date < day)) or 0
    by_year = sorted(({"year_group": y or "unknown", "pupils": n} for y, n in years), key=lambda r: year_group_order(r["year_group"]))
    return RollSummary(on_roll=totals[0], by_year_group=by_year, fsm=int(totals[1]), sen_support=int(totals[2]),
                       ehcp=int(totals[3]), eal=int(totals[4]), left=int(left))


def school_search(stmt: Any, q: str | None) -> Any:
    """Narrow a select of schools by a name fragment or URN prefix."""
    q = (q or "").strip()
    if not q:
        return stmt
    if q.isdigit():
        return stmt.where(School.urn.startswith(q))
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return stmt.where(func.lower(School.name).like(like.lower(), escape="\\"))
