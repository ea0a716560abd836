"""The messaging jobs the clock calls (``jobs/clock.py``): thin, each in an app context.

``send_due_messages`` runs every minute: one pass of the sender (``outreach.messaging.sender``),
bounded so it ends before the next minute's run. ``enqueue_rule_texts`` hands the supportive
texts the interventions rules proposed to the outbox.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from outreach.messaging.outbox import enqueue_many
from outreach.messaging.sender import SendReport, send_due

log = logging.getLogger(__name__)


def send_due_messages(now: datetime | None = None, *, max_seconds: float = 50.0) -> SendReport:
    """Send every due outbox row (reconciling any a crashed sender left), for up to
    ``max_seconds``; the rest wait for the next minute."""
    return send_due(current_app._get_current_object(), now, max_seconds=max_seconds)  # type: ignore[attr-defined]


def enqueue_rule_texts(limit: int = 500) -> int:
    """Move texts proposed by the interventions rules into the outbox, then mark them handed
    over. Enqueueing is idempotent by key, so a crash between the two steps re-enqueues
    harmlessly on the next run. Returns how many were handed over."""
    from outreach.extensions import db
    from outreach.interventions.services import mark_texts_enqueued, pending_parent_texts

    total = 0
    while True:
        pending = pending_parent_texts(limit=limit)
        if not pending:
            return total
        enqueue_many([message for _, message in pending], created_by="rules")
        db.session.commit()
        total += mark_texts_enqueued([row_id for row_id, _ in pending])
        if len(pending) < limit:
            log.info("rule texts enqueued: %d", total)
            return total
