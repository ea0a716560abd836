"""Pupil-week rollups: the small aggregate every figure is read from (never raw marks)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from outreach.extensions import db

COVERED_COLUMNS = ("pupil_id", "present", "aea", "authorised", "unauthorised", "late", "not_counted", "admin", "possible")


class PupilWeek(db.Model):
    """One pupil's week (Monday start): its marks (``codes``, ``batch_id`` / ``batches``: the
    single source of truth, laid out in ``outreach/registers/store.py``) and the session counts
    derived from them, written together. ``outreach attendance rebuild`` recounts every row.

    No foreign keys, on purpose (migration 0019): on PostgreSQL each is a trigger run per row
    written, and they were a third of a large school's first import. The register store is the
    only writer; it takes ``pupil_id`` from the school's roster and ``school_id`` from the school
    it holds the import lock for, in the same transaction. Deleting a pupil deletes their weeks
    through a trigger on ``pupils`` (both engines; SQLite never enforced the key here anyway)."""

    __tablename__ = "pupil_weeks"

    pupil_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(SmallInteger, default=0)
    aea: Mapped[int] = mapped_column(SmallInteger, default=0)
    authorised: Mapped[int] = mapped_column(SmallInteger, default=0)
    unauthorised: Mapped[int] = mapped_column(SmallInteger, default=0)
    late: Mapped[int] = mapped_column(SmallInteger, default=0)
    not_counted: Mapped[int] = mapped_column(SmallInteger, default=0)
    admin: Mapped[int] = mapped_column(SmallInteger, default=0)
    possible: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Two characters a session, Monday AM to Sunday PM; spaces where there is no mark.
    codes: Mapped[str] = mapped_column(String(28), default=" " * 28, server_default=" " * 28)
    # The import batch that last wrote each session: one id when it is the same for all of them,
    # else null and eight digits a session in ``batches`` (spaces where there is no mark).
    batch_id: Mapped[int | None] = mapped_column(Integer)
    batches: Mapped[str] = mapped_column(String(112), default="", server_default="")

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
