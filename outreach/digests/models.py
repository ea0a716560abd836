"""The digest archive: one row per school and ISO week, the email exactly as built and sent.

The unique (school, week) key is what makes sending idempotent: the clock, a restart, a second
clock or ``outreach digest send`` all find the same row, and only a row they manage to claim
(pending or failed -> sending, one conditional UPDATE) is sent.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.schools.models import School

# pending: built (or asked for), not sent yet; sending: claimed by a sender; sent; failed: the
# SMTP server refused or could not be reached (retried up to DIGEST_MAX_ATTEMPTS); skipped: the
# school held no sessions that week (holidays) or has no recipients.
STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class Digest(db.Model):
    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W48"
    week_start: Mapped[date] = mapped_column(Date)  # its Monday
    status: Mapped[str] = mapped_column(String(10), default="pending")
    subject: Mapped[str] = mapped_column(String(300), default="")
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    png: Mapped[bytes | None] = mapped_column(LargeBinary)
    sections: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # what the dashboard page shows
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(200))
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    built_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    school: Mapped[School] = relationship()

    __table_args__ = (
        UniqueConstraint("school_id", "week", name="uq_digests_school_week"),
        CheckConstraint("status in (" + ",".join(f"'{s}'" for s in STATUSES) + ")", name="status"),
        Index("ix_digests_status_week", "status", "week_start"),  # the pending-work poll
    )
