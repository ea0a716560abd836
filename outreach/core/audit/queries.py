"""Reading the audit log (admin page, and later "who has seen this pupil?")."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from outreach.core.audit.models import AuditEvent, AuditEventPupil
from outreach.schools.models import School


def events_query(*, action: str | None = None, user_email: str | None = None, school_urn: str | None = None,
                 pupil_id: int | None = None) -> Select[tuple[AuditEvent]]:
    """Newest first, optionally filtered; callers paginate."""
    stmt = select(AuditEvent).options(selectinload(AuditEvent.pupils), selectinload(AuditEvent.school))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if user_email:
        stmt = stmt.where(AuditEvent.user_email == user_email.strip().lower())
    if school_urn:
        stmt = stmt.where(AuditEvent.school_id.in_(select(School.id).where(School.urn == school_urn.strip())))
    if pupil_id is not None:
        stmt = stmt.where(AuditEvent.id.in_(select(AuditEventPupil.event_id).where(AuditEventPupil.pupil_id == pupil_id)))
    return stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
