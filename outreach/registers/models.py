"""Marks (the single source of truth) and the import batches that brought them."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.timeutil import utcnow
from outreach.extensions import db

SESSIONS = ("AM", "PM")


class ImportBatch(db.Model):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="registers")  # registers, pupils, contacts
    created_by: Mapped[str] = mapped_column(String(200), default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(10))  # long, wide, ctf, csv
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, running, completed, failed
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    not_taken: Mapped[int] = mapped_column(Integer, default=0)  # '-' or blank marks skipped
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    error_count: Mapped[int] = mapped_column(Integer, default=0)


# ``marks`` is a view (migration 0019_mark_weeks): each pupil-week row of ``pupil_weeks`` unfolded
# into its sessions. It is not in the models' metadata, so nothing creates, migrates or empties it
# as a table; it is read only (writes go through ``outreach.registers.store``).
_views = MetaData()
marks_view = Table(
    "marks", _views,
    Column("pupil_id", Integer, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("session", String(2), primary_key=True),
    Column("code", String(2)),
    Column("school_id", Integer),
    Column("batch_id", Integer),
    Column("week_start", Date),
    Column("week_codes", String(28)),  # the whole week's codes: narrow by content before unfolding
)


class Mark(db.Model):
    """One pupil, one date, one session, one code, and the import batch that last wrote it: a
    row of the ``marks`` view. Stored a pupil-week per row (``outreach/registers/store.py``);
    readers of a few days should also bound ``week_start`` (``store.week_bounds``) so the
    database reads those weeks by index rather than unfolding the school's year."""

    __table__ = marks_view


class MarkChange(db.Model):
    """A correction: what a session's code was and what an import changed it to (for timelines)."""

    __tablename__ = "mark_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(2))
    old_code: Mapped[str] = mapped_column(String(2))
    new_code: Mapped[str] = mapped_column(String(2))
