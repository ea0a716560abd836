"""Keep pupil-week rollups equal to a recomputation from marks, and the SQL classifier.

A week's counts live in the same row as its marks (``registers/store.py``) and are recounted
from them with ``codes.lookup``. The SQL below classifies marks read from the ``marks`` view for
the few queries that count days rather than weeks (a date range's partial edge weeks): a CASE
expression generated from ``codes.TABLES``, so it cannot drift from the Python classifier.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.attendance.codes import TABLES, Category, LATE_CODES

_CATEGORY_COLUMN = {
    Category.PRESENT: "present", Category.AEA: "aea", Category.AUTHORISED: "authorised",
    Category.UNAUTHORISED: "unauthorised", Category.NOT_COUNTED: "not_counted", Category.ADMIN: "admin",
}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def category_condition(category: Category, date_col: str = "m.date", code_col: str = "m.code",
                       within: tuple[date, date] | None = None) -> str:
    """SQL that is true when a mark falls in ``category`` under the table of its own date.

    ``within`` (first, last) promises the marks lie in those dates: code windows outside it are
    left out and windows covering it lose their date tests, so a query over a few days under one
    code table classifies with plain ``code IN (...)`` lists."""
    parts: list[str] = []
    for table in TABLES:
        # group codes by their own validity window inside the table
        windows: dict[tuple[date, date | None], list[str]] = {}
        for code in table.codes.values():
            if code.category is not category:
                continue
            start = max(table.valid_from, code.valid_from) if code.valid_from else table.valid_from
            end_candidates = [d for d in (table.valid_to, code.valid_to) if d is not None]
            end = min(end_candidates) if end_candidates else None
            windows.setdefault((start, end), []).append(code.code)
        for (start, end), codes in sorted(windows.items(), key=lambda item: str(item[0])):
            in_list = ", ".join(_quote(c) for c in sorted(codes))
            if within is not None:
                if start > within[1] or (end is not None and end < within[0]):
                    continue
                if start <= within[0] and (end is None or end >= within[1]):
                    parts.append(f"({code_col} IN ({in_list}))")
                    continue
            bounds = f"{date_col} >= {_quote(start.isoformat())}"
            if end is not None:
                bounds += f" AND {date_col} <= {_quote(end.isoformat())}"
            parts.append(f"({bounds} AND {code_col} IN ({in_list}))")
    return "(" + " OR ".join(parts) + ")" if parts else "(1 = 0)"


def _week_expr(dialect: str) -> str:
    if dialect == "postgresql":
        return "CAST(date_trunc('week', m.date) AS date)"
    # SQLite: 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is
    # that week's Monday. One date() call a row: a third faster than strftime arithmetic over a
    # year's marks, and this expression runs once per mark on every import.
    return "date(m.date, 'weekday 0', '-6 days')"


def count_sum_expressions(date_col: str = "m.date", code_col: str = "m.code",
                          within: tuple[date, date] | None = None) -> dict[str, str]:
    """Column name -> ``SUM(CASE ...)`` over marks for every count a rollup holds (the six
    categories and ``late``): the one SQL classifier, shared by the rollups and by the queries
    that read a few days of marks directly (the partial edge weeks of a date range)."""
    sums = {col: f"SUM(CASE WHEN {category_condition(cat, date_col, code_col, within)} THEN 1 ELSE 0 END)"
            for cat, col in _CATEGORY_COLUMN.items()}
    late = ", ".join(_quote(c) for c in sorted(LATE_CODES))
    sums["late"] = f"SUM(CASE WHEN {code_col} IN ({late}) THEN 1 ELSE 0 END)"
    return sums


def refresh(session: Session, school_id: int, date_from: date, date_to: date,
            pupil_ids: Iterable[int] | None = None) -> int:
    """Recount the rollups of the weeks touching [date_from, date_to] (for the given pupils, or
    the whole school) from the marks those weeks hold. The importer writes a week's marks and
    counts together (``registers.store.apply``), so this is for anything that changes how marks
    count without changing them. Runs inside the caller's transaction; returns the rows kept."""
    from outreach.registers.store import recount

    return recount(session, school_id, date_from, date_to, pupil_ids)


def rebuild(session: Session, school_id: int | None = None) -> int:
    """Recount every rollup from the marks it holds (``outreach attendance rebuild``)."""
    from outreach.registers.store import recount
    from outreach.schools.models import School

    school_ids = [school_id] if school_id is not None else list(session.scalars(select(School.id)))
    return sum(recount(session, sid) for sid in school_ids)


def bump_version(session: Session, school_id: int) -> None:
    """Say the school's figures changed (one atomic upsert, inside the caller's transaction):
    readers holding figures computed before will recompute them."""
    from outreach.attendance.models import FigureVersion
    from outreach.core.timeutil import utcnow

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    table = FigureVersion.__table__
    now = utcnow()
    stmt = insert(table).values(school_id=school_id, version=1, changed_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.school_id],
                                      set_={"version": table.c.version + 1, "changed_at": now})
    session.execute(stmt)
