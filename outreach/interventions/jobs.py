"""Functions the clock (and the importer) call. Thin: each picks up what is due and calls services.

Wiring (for the clock engineer): ``evaluate_all(now)`` nightly (e.g. 19:00 Europe/London, after
the day's imports), ``due_referral_reviews(now)`` daily in the morning, ``evaluate_after_import``
at the end of every completed register import. All three are idempotent: running one twice, or
after a restart, makes no second task.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.interventions import referrals, services
from outreach.registers.models import ImportBatch
from outreach.schools.models import School

log = logging.getLogger(__name__)


def evaluate_all(now: datetime | None = None) -> dict[int, int]:
    """Evaluate the rules for every school as of today (London). One school's failure is logged
    and rolled back without stopping the others. Returns tasks created per school id."""
    now = now or utcnow()
    created: dict[int, int] = {}
    for school_id in list(db.session.scalars(select(School.id).order_by(School.id))):
        try:
            school = db.session.get(School, school_id)
            assert school is not None
            created[school_id] = len(services.evaluate_rules(school, now=now).created)
        except Exception:  # noqa: BLE001 - one school's bad data must not stop the night's run
            db.session.rollback()
            log.exception("rule evaluation failed for school %s", school_id)
    return created


def evaluate_after_import(school_id: int, batch_id: int, now: datetime | None = None) -> services.EvaluationResult:
    """Evaluate one school's rules as of today once an import of its registers has completed."""
    school = db.session.get(School, school_id)
    if school is None:
        raise NotFound(f"no school {school_id}")
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.school_id != school_id:
        raise UserError(f"import {batch_id} is not an import for this school")
    return services.evaluate_rules(school, now=now)


def due_referral_reviews(now: datetime | None = None) -> int:
    """Reminder tasks for early-help reviews coming due; returns how many were created."""
    return referrals.create_review_reminders(now or utcnow())
