"""Marks (the single source of truth) and the import batches that brought them."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, text
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


class Mark(db.Model):
    """One pupil, one date, one session, one code. The key is the session itself, so a
    re-imported or corrected mark replaces the old one rather than sitting beside it.

    Only ``pupil_id`` is a foreign key (ON DELETE CASCADE: a deleted pupil takes their marks).
    ``school_id`` (a copy of the pupil's school, kept for index locality) and ``batch_id``
    (provenance: the import that last wrote the mark) are plain columns on purpose: on PostgreSQL
    each foreign key is a per-row trigger, and for a 750,000-mark first import those two cost
    more than everything else together; the register importer is the only writer and sets both
    from the school it holds the import lock for and the batch it created in the same transaction
    (migration 0016_perf; docs/benchmarks.md "Register import"). ``batch_id`` has no index either:
    no query reads marks by batch, and each index is paid on every mark written (0017)."""

    __tablename__ = "marks"

    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    session: Mapped[str] = mapped_column(String(2), primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)  # = pupils.school_id; no foreign key, see above
    code: Mapped[str] = mapped_column(String(2))
    # import_batches.id; no foreign key, and no index: nothing reads marks by batch (0017)
    batch_id: Mapped[int | None] = mapped_column(Integer)

    # Rollup refreshes and the partial edge weeks of a date range read one school's marks for a
    # few days: (school_id, date) finds them without the school's whole history, and pupil_id and
    # code in the key answer those reads from the index alone.
    __table_args__ = (
        CheckConstraint("session in ('AM','PM')", name="session"),
        Index("ix_marks_school_date", "school_id", "date", "pupil_id", "code"),
        # N ("no reason yet") marks are few and chased daily (Today page, rules): a partial index
        # finds a school's N marks for the year without reading its other marks.
        Index("ix_marks_school_n", "school_id", "date", "pupil_id", postgresql_where=text("code = 'N'"),
              sqlite_where=text("code = 'N'")),
    )


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
