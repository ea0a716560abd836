"""Keep pupil-week rollups equal to a recomputation from marks.

The aggregation runs in the database (one INSERT ... SELECT), classifying each mark with the code
table of its own date through a CASE expression generated from ``codes.TABLES``: the SQL cannot
drift from the Python classifier because both are built from the same table.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from outreach.attendance.codes import TABLES, Category, LATE_CODES
from outreach.attendance.models import PupilWeek
from outreach.core.timeutil import week_start

_COLUMNS = ("present", "aea", "authorised", "unauthorised", "not_counted", "admin")
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


def _select_sql(dialect: str, where: str, within: tuple[date, date]) -> str:
    week = _week_expr(dialect)
    sums = ", ".join(f"{expr} AS {col}" for col, expr in count_sum_expressions(within=within).items())
    return (
        f"SELECT m.pupil_id, {week} AS week_start, m.school_id, {sums} "
        f"FROM marks m WHERE {where} GROUP BY m.pupil_id, {week}, m.school_id"
    )


def refresh(session: Session, school_id: int, date_from: date, date_to: date,
            pupil_ids: Iterable[int] | None = None) -> int:
    """Recompute rollups for the weeks touching [date_from, date_to] (for the given pupils, or
    the whole school). Runs inside the caller's transaction, so an import and its rollups commit
    or roll back together. Returns the number of pupil-week rows written."""
    first, last = week_start(date_from), week_start(date_to) + timedelta(days=6)
    ids = sorted(set(pupil_ids)) if pupil_ids is not None else None
    stmt = delete(PupilWeek).where(PupilWeek.school_id == school_id,
                                   PupilWeek.week_start >= first, PupilWeek.week_start <= week_start(date_to))
    where = "m.school_id = :school_id AND m.date >= :first AND m.date <= :last"
    params: dict[str, object] = {"school_id": school_id, "first": first, "last": last}
    if ids is not None and len(ids) <= 1000:
        if not ids:
            return 0
        stmt = stmt.where(PupilWeek.pupil_id.in_(ids))
        where += " AND m.pupil_id IN (" + ", ".join(str(int(i)) for i in ids) + ")"
    session.execute(stmt)
    bump_version(session, school_id)
    dialect = session.get_bind().dialect.name
    cols = "pupil_id, week_start, school_id, " + ", ".join(_COLUMNS) + ", late"
    inner = _select_sql(dialect, where, (first, last))
    insert = (
        f"INSERT INTO pupil_weeks ({cols}, possible) "
        f"SELECT {cols}, present + aea + authorised + unauthorised FROM ({inner}) AS agg"
    )
    result = session.execute(text(insert), params)
    return result.rowcount or 0


def rebuild(session: Session, school_id: int | None = None) -> int:
    """Recreate every rollup from marks (``outreach attendance rebuild``)."""
    from outreach.registers.models import Mark
    from outreach.schools.models import School

    school_ids = [school_id] if school_id is not None else list(session.scalars(select(School.id)))
    written = 0
    for sid in school_ids:
        bounds = session.execute(select(Mark.date).where(Mark.school_id == sid).order_by(Mark.date).limit(1)).scalar()
        if bounds is None:
            session.execute(delete(PupilWeek).where(PupilWeek.school_id == sid))
            bump_version(session, sid)
            continue
        last = session.execute(select(Mark.date).where(Mark.school_id == sid).order_by(Mark.date.desc()).limit(1)).scalar()
        session.execute(delete(PupilWeek).where(PupilWeek.school_id == sid))
        written += refresh(session, sid, bounds, last)
    return written


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
