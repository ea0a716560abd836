"""Pupil-week rollups: the small aggregate every figure is read from (never raw marks)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from outreach.extensions import db


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

    __table_args__ = (Index("ix_pupil_weeks_school_week", "school_id", "week_start"),)
