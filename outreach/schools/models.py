"""Trusts, schools, pupils (one row per enrolment) and their parents or carers."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db

PHASES = ("nursery", "primary", "middle", "secondary", "all-through", "special", "alternative")
SEN_STATUSES = ("N", "K", "E")  # none, SEN support, education health and care plan


class Trust(db.Model):
    __tablename__ = "trusts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    schools: Mapped[list["School"]] = relationship(back_populates="trust")


class School(db.Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(20), default="primary")
    la_code: Mapped[str | None] = mapped_column(String(3))
    estab: Mapped[str | None] = mapped_column(String(4))
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    trust: Mapped[Trust | None] = relationship(back_populates="schools")

    __table_args__ = (CheckConstraint("phase in ('nursery','primary','middle','secondary','all-through','special','alternative')", name="phase"),)


class Pupil(db.Model):
    """One enrolment: a pupil at one school. A pupil who moves school has a row at each, and each
    school's statistics run from that row's admission date to its leaving date (DfE: per enrolment)."""

    __tablename__ = "pupils"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    upn: Mapped[str] = mapped_column(String(13))
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    preferred_forename: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    year_group: Mapped[str | None] = mapped_column(String(3))  # NC year: N1 N2 R 1..14 X
    reg_group: Mapped[str | None] = mapped_column(String(20))
    fsm: Mapped[bool] = mapped_column(Boolean, default=False)
    sen_status: Mapped[str] = mapped_column(String(1), default="N")
    eal: Mapped[bool] = mapped_column(Boolean, default=False)
    sex: Mapped[str | None] = mapped_column(String(1))
    admission_date: Mapped[date | None] = mapped_column(Date)
    leaving_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    school: Mapped[School] = relationship()
    contact_links: Mapped[list["PupilContact"]] = relationship(back_populates="pupil", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("school_id", "upn", name="uq_pupils_school_upn"),
        CheckConstraint("sen_status in ('N','K','E')", name="sen_status"),
        CheckConstraint("sex is null or sex in ('M','F')", name="sex"),
    )

    @property
    def display_name(self) -> str:
        return f"{self.preferred_forename or self.forename} {self.surname}"


class Contact(db.Model):
    """A parent or carer. Siblings share a contact: one row, linked to each child."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(10), default="en")
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=True)
    phone_invalid_reason: Mapped[str | None] = mapped_column(String(200))  # set by the SMS gateway
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pupil_links: Mapped[list["PupilContact"]] = relationship(back_populates="contact", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("school_id", "name", "phone", name="uq_contacts_school_name_phone"),)


class PupilContact(db.Model):
    """Which contacts a pupil has, how they are related, and in what order to call them."""

    __tablename__ = "pupil_contacts"

    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True)
    relationship_label: Mapped[str] = mapped_column("relationship", String(50), default="parent")
    priority: Mapped[int] = mapped_column(Integer, default=1)

    pupil: Mapped[Pupil] = relationship(back_populates="contact_links")
    contact: Mapped[Contact] = relationship(back_populates="pupil_links")


class SchoolClosure(db.Model):
    """Days the school is closed to pupils (a half term, a holiday, an INSET day, a snow day):
    no walking bus runs and no weekly parent group meets then. Registers say the same after the
    fact (no marks), but rotas and texts are planned ahead, so the dates must be known ahead."""

    __tablename__ = "school_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint("last_day >= first_day", name="days"),)
