"""The audit log: who looked at or exported which pupils' records, and what admins changed.

Rows are never updated. Pupil ids are plain integers (no foreign key) so the record of a view
outlives the pupil row; the user's email is copied for the same reason.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.schools.models import School  # noqa: F401 (relationship target)


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    user_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(10), default="web")  # web | api | cli
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    school: Mapped[School | None] = relationship()  # for pages: URN and name
    pupils: Mapped[list["AuditEventPupil"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="AuditEventPupil.pupil_id"
    )

    __table_args__ = (Index("ix_audit_events_school_occurred", "school_id", "occurred_at"),)

    @property
    def pupil_ids(self) -> list[int]:
        return [link.pupil_id for link in self.pupils]


class AuditEventPupil(db.Model):
    """One pupil an event touched: indexed, so "who has viewed this pupil?" is one lookup."""

    __tablename__ = "audit_event_pupils"

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True)
    pupil_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    school_id: Mapped[int | None] = mapped_column(Integer)

    event: Mapped[AuditEvent] = relationship(back_populates="pupils")
