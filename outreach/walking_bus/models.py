"""Walking-bus tables. Every row carries its ``school_id`` (the scoping helper filters on it)."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        Time, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.interventions.vocabulary import CONSENT_METHODS  # noqa: F401 - one list for every consent recorded

ASSIGNMENT_SOURCES = ("generated", "officer", "substitute")
ALERT_KINDS = ("gap", "cant", "reply", "missing_child")


class WalkingBusRoute(db.Model):
    """A route: the days it runs (``days``: 'mon,wed,fri'), its dates, when it reaches school,
    how many children it takes and how many adults it needs (one per ``children_per_adult``,
    never fewer than ``min_adults``)."""

    __tablename__ = "walking_bus_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    days: Mapped[str] = mapped_column(String(20), default="mon,tue,wed,thu,fri")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    arrival_time: Mapped[time] = mapped_column(Time)
    max_children: Mapped[int] = mapped_column(Integer, default=18)
    children_per_adult: Mapped[int] = mapped_column(Integer, default=6)
    min_adults: Mapped[int] = mapped_column(Integer, default=2)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    stops: Mapped[list["WalkingBusStop"]] = relationship(back_populates="route", cascade="all, delete-orphan",
                                                         order_by="WalkingBusStop.position")

    __table_args__ = (
        UniqueConstraint("school_id", "name", name="uq_walking_bus_routes_school_name"),
        CheckConstraint("max_children >= 1", name="max_children"),
        CheckConstraint("children_per_adult >= 1", name="children_per_adult"),
        CheckConstraint("min_adults >= 1", name="min_adults"),
        CheckConstraint("end_date is null or end_date >= start_date", name="dates"),
    )


class WalkingBusStop(db.Model):
    """A stop, in order; ``minutes_to_next`` is the walk to the next stop (from the last: to school)."""

    __tablename__ = "walking_bus_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_routes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(300))
    minutes_to_next: Mapped[int] = mapped_column(Integer, default=5)

    route: Mapped[WalkingBusRoute] = relationship(back_populates="stops")

    __table_args__ = (
        UniqueConstraint("route_id", "position", name="uq_walking_bus_stops_route_position"),
        CheckConstraint("minutes_to_next >= 0 and minutes_to_next <= 120", name="minutes_to_next"),
    )


class WalkingBusEnrolment(db.Model):
    """A child's place on a route, at a stop, from ``start_date`` (to ``end_date``), with the
    parent's consent: who gave it, when and how. ``notify_arrival``: the parent asked for an
    "arrived at school" text on mornings the child is checked in."""

    __tablename__ = "walking_bus_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_routes.id", ondelete="CASCADE"), index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_stops.id", ondelete="CASCADE"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    consent_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    consent_by: Mapped[str] = mapped_column(String(200))
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consent_method: Mapped[str] = mapped_column(String(20))
    notify_arrival: Mapped[bool] = mapped_column(Boolean, default=False)
    intervention_id: Mapped[int | None] = mapped_column(ForeignKey("interventions.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    stop: Mapped[WalkingBusStop] = relationship()

    __table_args__ = (
        UniqueConstraint("route_id", "pupil_id", "start_date", name="uq_walking_bus_enrolments_route_pupil_start"),
        CheckConstraint("end_date is null or end_date >= start_date", name="dates"),
    )


class Ambassador(db.Model):
    """A contact (usually a parent) who walks routes. ``days``: the school days they can usually
    walk; ``preferred_route_ids``: routes they would rather walk (empty: any)."""

    __tablename__ = "walking_bus_ambassadors"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    days: Mapped[str] = mapped_column(String(20), default="")
    preferred_route_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    contact = relationship("Contact")

    __table_args__ = (UniqueConstraint("school_id", "contact_id", name="uq_walking_bus_ambassadors_school_contact"),)


class AmbassadorAbsence(db.Model):
    """A date an ambassador cannot walk (a CANT reply, or the officer)."""

    __tablename__ = "walking_bus_absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    ambassador_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_ambassadors.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default="officer")  # sms | officer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("ambassador_id", "date", name="uq_walking_bus_absences_ambassador_date"),)


class RotaWeek(db.Model):
    """One school's rota for one week (Monday). ``version`` rises with every change, so change
    notices and schedules have one idempotency key per version."""

    __tablename__ = "walking_bus_rota_weeks"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    generated_by: Mapped[str | None] = mapped_column(String(200))
    schedules_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    schedules_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("school_id", "week_start", name="uq_walking_bus_rota_weeks_school_week"),)


class RotaAssignment(db.Model):
    """One ambassador walking one route on one date. (ambassador, date) is unique: nobody is on
    two routes the same morning, whatever path the row came by."""

    __tablename__ = "walking_bus_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    rota_week_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_rota_weeks.id", ondelete="CASCADE"), index=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_routes.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    ambassador_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_ambassadors.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(12), default="generated")
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("ambassador_id", "date", name="uq_walking_bus_assignments_ambassador_date"),
        Index("ix_walking_bus_assignments_route_date", "route_id", "date"),
        CheckConstraint("source in ('generated','officer','substitute')", name="source"),
    )


class WalkingBusAlert(db.Model):
    """Something the officer must see at once: a route-day short of adults, an ambassador who
    cannot walk, a reply not understood. Shown on the walking-bus pages until resolved."""

    __tablename__ = "walking_bus_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    route_id: Mapped[int | None] = mapped_column(ForeignKey("walking_bus_routes.id", ondelete="CASCADE"))
    date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))  # no pupil names
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_walking_bus_alerts_school_open", "school_id", "resolved_at"),)


class WalkingBusWalk(db.Model):
    """One route on one morning: when it reached school, how many children the ambassador
    counted, and (in ``WalkingBusWalkPupil``) which children were checked in."""

    __tablename__ = "walking_bus_walks"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    route_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_routes.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_reported_by: Mapped[str | None] = mapped_column(String(200))
    reported_count: Mapped[int | None] = mapped_column(Integer)
    checked_by: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)

    children: Mapped[list["WalkingBusWalkPupil"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("route_id", "date", name="uq_walking_bus_walks_route_date"),)


class WalkingBusWalkPupil(db.Model):
    __tablename__ = "walking_bus_walk_pupils"

    walk_id: Mapped[int] = mapped_column(ForeignKey("walking_bus_walks.id", ondelete="CASCADE"), primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True, index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
