"""Charts for the dashboard pages, memoised on their data.

Drawing an SVG with matplotlib costs tens of milliseconds, far more than reading the figures
from rollups; the same figures draw the same chart (``charts`` is deterministic), so each
process keeps the last charts it drew keyed on the data itself (frozen dataclasses, hashed by
value). New marks change the figures and so the key: nothing stale can be served.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from outreach.attendance import charts
from outreach.attendance.queries import CohortGap, WeekPoint

CACHE_SIZE = 128  # charts are 20-60 kB of SVG: a few MB per worker at most


@lru_cache(maxsize=CACHE_SIZE)
def _trend(points: tuple[WeekPoint, ...], comparison: float | None, chart_id: str) -> str:
    return charts.weekly_trend_svg(list(points), comparison, "National", chart_id=chart_id)


@lru_cache(maxsize=CACHE_SIZE)
def _gaps(gaps: tuple[CohortGap, ...], measure: str, title: str, chart_id: str) -> str:
    return charts.cohort_gaps_svg(list(gaps), measure, title, chart_id=chart_id)


def trend_svg(points: Sequence[WeekPoint], national: float | None, chart_id: str = "trend") -> str:
    return _trend(tuple(points), national, chart_id)


def gaps_svg(gaps: Sequence[CohortGap], measure: str = "absence", chart_id: str = "gaps") -> str:
    title = "Absence gaps by group" if measure == "absence" else "Persistent absence gaps by group"
    return _gaps(tuple(gaps), measure, title, chart_id)
