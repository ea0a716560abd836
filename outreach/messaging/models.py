"""Messaging tables.

Message content and sending rules (templates with language variants, per-school quiet hours)
are at the end of this module; the outbox's tables sit beside them.
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import DateTime, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db


# --- Message content: templates and quiet hours ---------------------------------------------

class MessageTemplate(db.Model):
    """A named message for one purpose at one school (e.g. ``first_day_absence``). Its text lives
    in language variants; every template has an English variant, the fallback for contacts whose
    language has none."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))  # led by the unique key
    name: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    variants: Mapped[list["MessageTemplateVariant"]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="MessageTemplateVariant.language")

    __table_args__ = (UniqueConstraint("school_id", "name", name="uq_message_templates_school_name"),)

    def variant(self, language: str) -> "MessageTemplateVariant | None":
        return next((v for v in self.variants if v.language == language), None)


class MessageTemplateVariant(db.Model):
    """The body of a template in one language (``en``, ``pl``, ``ur``, ``ro`` ...)."""

    __tablename__ = "message_template_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    template: Mapped[MessageTemplate] = relationship(back_populates="variants")

    __table_args__ = (UniqueConstraint("template_id", "language", name="uq_message_template_variants_template_language"),)


class SchoolMessagingSettings(db.Model):
    """A school's own quiet hours; schools without a row use the configured defaults
    (``OUTREACH_QUIET_HOURS``, ``OUTREACH_QUIET_DAYS``)."""

    __tablename__ = "school_messaging_settings"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    quiet_start: Mapped[time] = mapped_column(Time)
    quiet_end: Mapped[time] = mapped_column(Time)
    closed_days: Mapped[str] = mapped_column(String(30), default="sun")  # "sun", "sat,sun", ""
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
