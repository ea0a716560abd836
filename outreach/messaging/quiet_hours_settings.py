"""Where a school's quiet-hours policy comes from: its own row, else the configured default."""
from __future__ import annotations

from flask import current_app

from outreach.core.errors import UserError
from outreach.extensions import db
from outreach.messaging.models import SchoolMessagingSettings
from outreach.messaging.quiet_hours import QuietHoursPolicy, parse_days
from outreach.schools.models import School


def default_policy() -> QuietHoursPolicy:
    """The deployment's default (``OUTREACH_QUIET_HOURS``, ``OUTREACH_QUIET_DAYS``,
    ``OUTREACH_TIMEZONE``); a bad value stops the service from starting work with it."""
    config = current_app.config
    try:
        return QuietHoursPolicy.from_strings(config.get("OUTREACH_QUIET_HOURS") or "20:00-08:00",
                                             config.get("OUTREACH_QUIET_DAYS", "sun") or "",
                                             config.get("OUTREACH_TIMEZONE") or "Europe/London")
    except ValueError as exc:
        raise RuntimeError(f"quiet hours setting: {exc}") from exc


def policy_for_school(school_id: int) -> QuietHoursPolicy:
    row = db.session.get(SchoolMessagingSettings, school_id)
    if row is None:
        return default_policy()
    return QuietHoursPolicy(quiet_start=row.quiet_start, quiet_end=row.quiet_end,
                            closed_days=parse_days(row.closed_days), timezone=default_policy().timezone)


def set_quiet_hours(school: School, hours: str, closed_days: str, updated_by: str | None = None) -> QuietHoursPolicy:
    """Give ``school`` its own quiet hours ('20:00-08:00' or 'none'; closed days 'sun', 'sat,sun'
    or ''). Refuses bad input with the reason; commits."""
    try:
        policy = QuietHoursPolicy.from_strings(hours, closed_days, default_policy().timezone)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    row = db.session.get(SchoolMessagingSettings, school.id)
    if row is None:
        row = SchoolMessagingSettings(school_id=school.id)
        db.session.add(row)
    row.quiet_start, row.quiet_end = policy.quiet_start, policy.quiet_end
    row.closed_days, row.updated_by = policy.days_text(), updated_by
    db.session.commit()
    return policy


def clear_quiet_hours(school: School) -> None:
    """Return ``school`` to the configured default."""
    row = db.session.get(SchoolMessagingSettings, school.id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
