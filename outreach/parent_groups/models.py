"""Parent-group tables; every row carries its ``school_id``."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db


class ParentGroup(db.Model):
    """A group that meets weekly: ``weekday`` (Monday = 0) at ``start_time`` in ``place``."""

    __tablename__ = "parent_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str | None] = mapped_column(String(500))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("school_id", "name", name="uq_parent_groups_school_name"),
        CheckConstraint("weekday >= 0 and weekday <= 6", name="weekday"),
    )


class ParentGroupMember(db.Model):
    __tablename__ = "parent_group_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("parent_groups.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)

    contact = relationship("Contact")

    __table_args__ = (UniqueConstraint("group_id", "contact_id", name="uq_parent_group_members_group_contact"),)


class ParentGroupMeeting(db.Model):
    __tablename__ = "parent_group_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("parent_groups.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    attendees: Mapped[list["ParentGroupAttendance"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("group_id", "date", name="uq_parent_group_meetings_group_date"),)


class ParentGroupAttendance(db.Model):
    __tablename__ = "parent_group_attendance"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("parent_group_meetings.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))


class ParentGroupInvitation(db.Model):
    """A contact invited to a meeting (one per contact per meeting; the SMS goes by the outbox)."""

    __tablename__ = "parent_group_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("parent_groups.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("parent_group_meetings.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    outbox_key: Mapped[str | None] = mapped_column(String(100))
    not_sent_reason: Mapped[str | None] = mapped_column(String(200))
    intervention_id: Mapped[int | None] = mapped_column(ForeignKey("interventions.id", ondelete="SET NULL"))
    invited_by: Mapped[str | None] = mapped_column(String(200))
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("meeting_id", "contact_id", name="uq_parent_group_invitations_meeting_contact"),)
