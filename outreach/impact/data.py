"""Thin data access for impact: pupil-week rollups and pupil traits in, ``stats`` out.

Walking buses, parent groups and interventions all call ``measure_programme`` with their own
participants (pupil id -> the date they started).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Mapping

from sqlalchemy import func, select

from outreach.attendance.models import PupilWeek
from outreach.core.errors import UserError
from outreach.extensions import db
from outreach.impact import stats
from outreach.schools.models import Pupil

# How far either side of the start dates rollups are read: enough school weeks for the longest
# period allowed even across a summer holiday.
MAX_WEEKS = 20
_MARGIN = timedelta(weeks=MAX_WEEKS + 10)


def school_weeks(school_id: int, since: date, until: date) -> list[date]:
    """Weeks in which the school held at least one session (any pupil had a possible session)."""
    rows = db.session.scalars(
        select(PupilWeek.week_start).where(PupilWeek.school_id == school_id, PupilWeek.week_start >= since,
                                           PupilWeek.week_start <= until)
        .group_by(PupilWeek.week_start).having(func.sum(PupilWeek.possible) > 0).order_by(PupilWeek.week_start))
    return list(rows)


def load_pool(school_id: int, since: date, until: date) -> dict[int, stats.PupilSeries]:
    """Every pupil of the school with rollups in [since, until], with FSM and SEN status."""
    weeks: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    rows = db.session.execute(
        select(PupilWeek.pupil_id, PupilWeek.week_start, PupilWeek.present + PupilWeek.aea, PupilWeek.possible)
        .where(PupilWeek.school_id == school_id, PupilWeek.week_start >= since, PupilWeek.week_start <= until))
    for pupil_id, week, attended, possible in rows:
        weeks[pupil_id][week] = (int(attended), int(possible))
    traits = db.session.execute(select(Pupil.id, Pupil.fsm, Pupil.sen_status).where(Pupil.school_id == school_id))
    return {pid: stats.PupilSeries(pid, weeks[pid], bool(fsm), sen or "N") for pid, fsm, sen in traits if pid in weeks}


def match_programme(school_id: int, participants: Mapping[int, date], *, weeks: int = stats.DEFAULT_WEEKS,
                    k: int = stats.DEFAULT_K, exclude: set[int] | None = None) -> tuple[list[stats.Matched], int]:
    """Matched participants of one school (for pooling across a trust) and how many were not measured.
    ``exclude``: pupils who must not serve as comparisons (e.g. took part at another time)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise UserError(f"the period must be 1 to {MAX_WEEKS} school weeks, got {weeks}")
    if not participants:
        return [], 0
    starts = list(participants.values())
    since, until = min(starts) - _MARGIN, max(starts) + _MARGIN
    pool = load_pool(school_id, since, until)
    for pid in exclude or ():
        if pid not in participants:
            pool.pop(pid, None)
    foreign = db.session.scalars(select(Pupil.id).where(Pupil.id.in_(list(participants)), Pupil.school_id != school_id)).all()
    if foreign:
        raise UserError(f"{len(foreign)} participant(s) are not at this school")
    return stats.match(participants, pool, school_weeks(school_id, since, until), weeks=weeks, k=k)


def measure_programme(school_id: int, participants: Mapping[int, date], *, label: str = "pupils",
                      weeks: int = stats.DEFAULT_WEEKS, k: int = stats.DEFAULT_K, min_pupils: int = stats.MIN_PUPILS,
                      exclude: set[int] | None = None, seed: int = stats.SEED) -> stats.ImpactResult:
    """Attendance of ``participants`` before vs since their start, against similar pupils of the school."""
    matched, not_measured = match_programme(school_id, participants, weeks=weeks, k=k, exclude=exclude)
    return stats.summarise(matched, label=label, weeks=weeks, not_measured=not_measured, min_pupils=min_pupils, seed=seed)
