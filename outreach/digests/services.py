"""Build, archive and send one school's digest for one ISO week: idempotent per school-week.

The archive row (unique school + week) is claimed before anything is sent: one conditional
UPDATE moves it from pending/failed to ``sending`` together with the content, so of two
senders (the clock after a restart, a second clock, ``outreach digest send``) only one wins and
the other sends nothing. A row is marked ``sent`` straight after the SMTP server accepts it. A
process killed between those two moments leaves the row ``sending``: it is never resent on its
own (a digest twice is worse than once late); ``outreach digest send --force`` sends it again.

Recipients: the school's active users with the role head; with ``DIGEST_INCLUDE_OFFICERS`` also
its attendance officers. The list is archived with the digest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from outreach.core.accounts.models import User, user_schools
from outreach.core.accounts.roles import Role
from outreach.core.errors import UserError
from outreach.core.timeutil import ensure_utc, to_london, utcnow
from outreach.digests import build, render, send
from outreach.digests.models import Digest
from outreach.digests.weeks import iso_week, last_complete_week_at, parse_week
from outreach.extensions import db
from outreach.schools.models import School

log = logging.getLogger(__name__)

CLAIMABLE = ("pending", "failed")


@dataclass(frozen=True)
class Outcome:
    digest: Digest
    sent: bool  # this call sent it
    reason: str  # what happened, for the CLI and the job's counts: sent, already_sent, ...


def recipients(school: School) -> list[str]:
    roles = [Role.HEAD.value]
    if current_app.config.get("DIGEST_INCLUDE_OFFICERS"):
        roles.append(Role.ATTENDANCE_OFFICER.value)
    stmt = (select(User.email).join(user_schools, user_schools.c.user_id == User.id)
            .where(user_schools.c.school_id == school.id, User.active.is_(True), User.role.in_(roles))
            .order_by(User.email))
    return list(db.session.scalars(stmt))


def week_or_default(week: str | None, now: datetime) -> date:
    """The Monday of ``week`` (ISO "2026-W48"), or of the last complete week; a week that has not
    ended yet is refused (its figures would change)."""
    monday = parse_week(week) if week else last_complete_week_at(now)
    sunday = monday + timedelta(days=6)
    if sunday >= to_london(now).date():
        raise UserError(f"the week {iso_week(monday)} has not ended yet (it ends on Sunday "
                        f"{build.day_label(sunday)}): digests report on complete weeks")
    return monday


def get_digest(school_id: int, week: str) -> Digest | None:
    return db.session.scalar(select(Digest).where(Digest.school_id == school_id, Digest.week == week))


def _row(school: School, monday: date) -> Digest:
    week = iso_week(monday)
    digest = get_digest(school.id, week)
    if digest is not None:
        return digest
    try:
        digest = Digest(school_id=school.id, week=week, week_start=monday, status="pending", recipients=[])
        db.session.add(digest)
        db.session.commit()
        return digest
    except IntegrityError:  # another sender made it a moment ago
        db.session.rollback()
        digest = get_digest(school.id, week)
        assert digest is not None
        return digest


def _claim(digest_id: int, allowed: tuple[str, ...], values: dict) -> bool:
    result = db.session.execute(update(Digest).where(Digest.id == digest_id, Digest.status.in_(allowed))
                                .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def message_id(school: School, week: str) -> str:
    domain = str(current_app.config.get("MAIL_FROM") or "outreach@localhost").rpartition("@")[2] or "localhost"
    return f"<digest.{school.urn}.{week.lower()}@{domain}>"


def send_digest(school: School, monday: date, *, now: datetime | None = None, force: bool = False,
                backend: send.MailBackend | None = None) -> Outcome:
    """Build, archive and send ``school``'s digest for the week of ``monday`` unless it has been.

    ``force`` sends again whatever the row says (a digest ``sending`` after a crash, or one a
    head asks for again) and sends a week without sessions too."""
    now = now or utcnow()
    digest = _row(school, monday)
    if digest.status == "sent" and not force:
        return Outcome(digest, False, "already_sent")
    if digest.status == "sending" and not force:
        log.warning("digest %s for school %s is marked sending (interrupted?): not resent", digest.week, school.id)
        return Outcome(digest, False, "in_progress")
    allowed = ("pending", "failed", "sending", "sent", "skipped") if force else CLAIMABLE + ("skipped",)

    content = build.build(school, monday, now)
    rendered = render.render(school, content)
    to = recipients(school)
    values = dict(subject=rendered.subject[:300], html=rendered.html, text=rendered.text,
                  png=content.images.get("trend"), sections=[s.to_json() for s in content.sections], recipients=to,
                  built_at=now, message_id=message_id(school, content.week), last_error=None)
    skip = None
    if not to:
        skip = "no active head" + (" or officer" if current_app.config.get("DIGEST_INCLUDE_OFFICERS") else "") + \
               " has an account for this school"
    elif not content.had_sessions and not force:
        skip = "no school sessions that week"
    if skip:
        _claim(digest.id, allowed, {**values, "status": "skipped", "skip_reason": skip})
        db.session.refresh(digest)
        return Outcome(digest, False, "skipped")
    if not _claim(digest.id, allowed, {**values, "status": "sending", "skip_reason": None, "attempted_at": now,
                                       "attempts": Digest.attempts + 1}):
        db.session.refresh(digest)
        return Outcome(digest, False, "already_sent" if digest.status == "sent" else "in_progress")

    message = send.build_message(subject=rendered.subject, sender=current_app.config["MAIL_FROM"], recipients=to,
                                 html=rendered.html, text=rendered.text, images=rendered.images,
                                 message_id=values["message_id"])
    try:
        refused = (backend or send.backend_from_config(current_app.config)).send(message, to)
    except Exception as exc:  # noqa: BLE001 - smtplib raises OSError subclasses, SMTPException and more
        db.session.execute(update(Digest).where(Digest.id == digest.id)
                           .values(status="failed", last_error=f"{type(exc).__name__}: {exc}"[:500])
                           .execution_options(synchronize_session=False))
        db.session.commit()
        db.session.refresh(digest)
        log.warning("digest %s for school %s failed to send (attempt %s): %s", digest.week, school.id,
                    digest.attempts, type(exc).__name__)
        return Outcome(digest, False, "failed")
    note = f"refused by the server: {', '.join(sorted(refused))}"[:500] if refused else None
    db.session.execute(update(Digest).where(Digest.id == digest.id).values(status="sent", sent_at=utcnow(),
                                                                           last_error=note)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(digest)
    log.info("digest %s sent for school %s to %d recipients", digest.week, school.id, len(to))
    return Outcome(digest, True, "sent")


def preview(school: School, monday: date, now: datetime | None = None) -> render.RenderedDigest:
    """The digest as it would be sent, without archiving or sending anything."""
    return render.render(school, build.build(school, monday, now or utcnow()))


def retry_due(digest: Digest, now: datetime, max_attempts: int) -> bool:
    """A failed digest is retried with a growing pause (5, 10, 20 ... minutes), up to ``max_attempts``."""
    if digest.status == "pending":
        return True
    if digest.status != "failed" or digest.attempts >= max_attempts:
        return False
    last = ensure_utc(digest.attempted_at) or ensure_utc(digest.created_at)
    return last is None or now - last >= timedelta(minutes=5 * 2 ** max(0, digest.attempts - 1))
