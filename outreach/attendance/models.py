"""Pupil-week rollups: the small aggregate every figure is read from (never raw marks)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from outreach.extensions import db

COVERED_COLUMNS = ("pupil_id", "present", "aea", "authorised", "unauthorised", "late", "not_counted", "admin", "possible")


class PupilWeek(db.Model):
    """Session counts for one pupil in one week (Monday start). Derived from marks only;
    ``outreach attendance rebuild`` recreates every row."""

    __tablename__ = "pupil_weeks"

    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    present: Mapped[int] = mapped_column(SmallInteger, default=0)
    aea: Mapped[int] = mapped_column(SmallInteger, default=0)
    authorised: Mapped[int] = mapped_column(SmallInteger, default=0)
    unauthorised: Mapped[int] = mapped_column(SmallInteger, default=0)
    late: Mapped[int] = mapped_column(SmallInteger, default=0)
    not_counted: Mapped[int] = mapped_column(SmallInteger, default=0)
    admin: Mapped[int] = mapped_column(SmallInteger, default=0)
    possible: Mapped[int] = mapped_column(SmallInteger, default=0)

    # Every school or group figure reads a range of weeks for one school and sums these counts.
    # With the counts in the index key the read never touches the table (a covering index: SQLite
    # has no INCLUDE), which halves the time on SQLite and gives PostgreSQL index-only scans.
    __table_args__ = (Index("ix_pupil_weeks_school_week", "school_id", "week_start", *COVERED_COLUMNS),)


class FigureVersion(db.Model):
    """A counter per school, bumped in the same transaction as every rollup write (``rollups``),
    so a reader can tell in one primary-key lookup whether figures it computed earlier still
    hold (the dashboard keeps them per process, see ``outreach/dashboard/cache.py``)."""

    __tablename__ = "figure_versions"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
