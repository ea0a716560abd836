"""Audit log: ``from outreach.core import audit; audit.record("pupil.view", school=s, pupil_ids=[p.id])``."""
from outreach.core.audit.services import record

__all__ = ["record"]
