"""What the clock calls for digests. Thin: pick the due school-weeks, hand each to the service.

``send_due_digests`` runs weekly (``DIGEST_DAY`` ``DIGEST_TIME``, Monday 07:00 London): for
every school, last week's digest unless its row says sent, sending or skipped. Running it twice,
or after a restart, sends nothing twice. ``send_pending`` is polled with the clock's pending
work: digests queued as pending, and failed sends retried with a growing pause.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from outreach.core.timeutil import utcnow
from outreach.digests import services
from outreach.digests.models import Digest
from outreach.digests.weeks import iso_week, last_complete_week_at
from outreach.extensions import db
from outreach.schools.models import School

log = logging.getLogger(__name__)

RETRY_WINDOW_DAYS = 8  # a failed digest older than this is stale news: not retried on its own


def send_due_digests(now: datetime | None = None) -> dict[str, int]:
    """Last complete week's digest for every school; returns how many ended each way."""
    now = now or utcnow()
    monday = last_complete_week_at(now)
    week = iso_week(monday)
    done = set(db.session.scalars(select(Digest.school_id).where(
        Digest.week == week, Digest.status.in_(("sent", "sending", "skipped")))))
    outcomes: Counter[str] = Counter()
    for school_id in list(db.session.scalars(select(School.id).order_by(School.id))):
        if school_id in done:
            outcomes["already_done"] += 1
            continue
        try:
            school = db.session.get(School, school_id)
            assert school is not None
            outcomes[services.send_digest(school, monday, now=now).reason] += 1
        except Exception:  # noqa: BLE001 - one school's failure must not stop the others
            db.session.rollback()
            outcomes["error"] += 1
            log.exception("digest %s failed for school %s", week, school_id)
    return dict(outcomes)


def send_pending(now: datetime | None = None) -> int:
    """Pending digests and failed ones due a retry (recent weeks only); returns how many were tried."""
    now = now or utcnow()
    max_attempts = int(current_app.config.get("DIGEST_MAX_ATTEMPTS", 5))
    oldest = last_complete_week_at(now) - timedelta(days=RETRY_WINDOW_DAYS)
    rows = list(db.session.scalars(select(Digest).where(Digest.status.in_(("pending", "failed")),
                                                         Digest.week_start >= oldest).order_by(Digest.id)))
    tried = 0
    for digest in rows:
        if not services.retry_due(digest, now, max_attempts):
            continue
        try:
            services.send_digest(digest.school, digest.week_start, now=now)
            tried += 1
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("pending digest %s failed", digest.id)
    return tried
