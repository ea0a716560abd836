"""Letters to families from Jinja templates (``templates/letters/``), as HTML and as PDF.

Wording follows the evidence (``../shared/domain/attendance.md``): plain and supportive, the
number of days missed rather than a percentage, help offered first. A notice to improve states
its improvement period (3 to 6 weeks) and says plainly that any further step is a person's
decision. ``send_letter`` renders, logs the intervention and keeps the exact HTML sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping, Sequence

from flask import render_template
from sqlalchemy import select

from outreach.core.errors import UserError
from outreach.core.pdf import html_to_pdf
from outreach.core.timeutil import academic_year_start, london_today, to_london, utcnow
from outreach.extensions import db
from outreach.interventions import services
from outreach.interventions.models import Intervention, InterventionPupil
from outreach.interventions.rules import days_text
from outreach.interventions.vocabulary import (IMPROVEMENT_WEEKS_MAX, IMPROVEMENT_WEEKS_MIN, INTERVENTION_TYPES,
                                               LETTER_VALUES)
from outreach.messaging.compose import absence_sessions, child_names, ordered_children
from outreach.messaging.templates import school_values
from outreach.schools.models import Contact, PupilContact, School


@dataclass(frozen=True)
class LetterKind:
    key: str
    title: str
    intervention_type: str  # what sending it logs
    required: tuple[str, ...] = ()  # values the sender must give


LETTERS: dict[str, LetterKind] = {k.key: k for k in (
    LetterKind("attendance_concern", "Can we help with school attendance?", "letter"),
    LetterKind("meeting_invitation", "An invitation to talk about attendance", "letter", ("meeting_at", "place")),
    LetterKind("attendance_contract", "Our attendance contract", "attendance_contract"),
    LetterKind("notice_to_improve", "Notice to improve school attendance", "notice_to_improve", ("improvement_weeks",)),
)}

# Support offered first, in every letter (schools can pass their own list).
DEFAULT_SUPPORT = (
    "a meeting with our attendance lead to talk about what would help",
    "help with morning routines and getting to school, including a place on a walking bus where we have one",
    "support from our pastoral and wellbeing team, or the school nurse",
    "early help: a family support worker who can help with wider worries at home, if you would like one",
)


@dataclass(frozen=True)
class Letter:
    kind: str
    title: str
    html: str
    school_id: int
    pupil_ids: tuple[int, ...]
    contact_id: int | None
    details: dict[str, Any]

    def pdf(self) -> bytes:
        return html_to_pdf(self.html)


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _history(school_id: int, pupil_ids: Sequence[int]) -> list[str]:
    rows = db.session.scalars(
        select(Intervention).where(Intervention.school_id == school_id, Intervention.id.in_(
            select(InterventionPupil.intervention_id).where(InterventionPupil.pupil_id.in_(list(pupil_ids)))))
        .order_by(Intervention.occurred_at))
    return [f"{_long_date(to_london(i.occurred_at).date())}: {INTERVENTION_TYPES[i.type].label.lower()}"
            + (f" ({i.outcome})" if i.outcome else "") for i in rows]


def render_letter(school: School, kind: str, pupil_ids: Sequence[int], *, sender: str, sender_role: str | None = None,
                  contact_id: int | None = None, values: Mapping[str, Any] | None = None,
                  support: Sequence[str] | None = None, today: date | None = None) -> Letter:
    """Render one letter about ``pupil_ids`` (siblings share a letter) to ``contact_id`` (default:
    the first child's first contact). Refuses, naming each, values the letter needs but lacks."""
    if kind not in LETTERS:
        raise UserError(f"unknown letter {kind!r}", details=[f"letters: {', '.join(LETTERS)}"])
    spec = LETTERS[kind]
    values = {k: v for k, v in dict(values or {}).items() if v not in (None, "")}
    today = today or london_today()
    problems = [f"the letter needs {name.replace('_', ' ')}" for name in spec.required if name not in values]
    # Only the letters' own values: anything else would override what the template is given (the school, the children).
    problems += [f"{name!r} is not a letter value (values: {', '.join(LETTER_VALUES)})" for name in values
                 if name not in LETTER_VALUES]
    problems += [f"{name.replace('_', ' ')} may not contain NUL characters" for name, v in values.items()
                 if isinstance(v, str) and "\x00" in v]
    values = {k: (v if isinstance(v, (int, date)) and not isinstance(v, bool) else str(v)[:500]) for k, v in values.items()
              if k in LETTER_VALUES}
    if not (sender or "").strip():
        problems.append("the letter needs the sender's name")
    details: dict[str, Any] = {"letter": kind}
    if kind == "notice_to_improve" and "improvement_weeks" in values:
        try:
            weeks = int(values["improvement_weeks"])
        except (TypeError, ValueError):
            weeks = 0
        if not IMPROVEMENT_WEEKS_MIN <= weeks <= IMPROVEMENT_WEEKS_MAX:
            problems.append(f"the improvement period must be {IMPROVEMENT_WEEKS_MIN} to {IMPROVEMENT_WEEKS_MAX} weeks")
        else:
            details["improvement_weeks"] = weeks
            values["improvement_ends_text"] = _long_date(today + timedelta(weeks=weeks))
    if kind == "attendance_contract" and values.get("review_date"):
        try:
            review = values["review_date"] if isinstance(values["review_date"], date) else date.fromisoformat(str(values["review_date"]))
            values["review_date_text"] = _long_date(review)
            details["review_date"] = review.isoformat()
        except ValueError:
            problems.append("the review date must be a date (YYYY-MM-DD)")
    if not pupil_ids:
        problems.append("choose at least one pupil")
    if problems:
        raise UserError("the letter cannot be written", details=problems)
    pupils = ordered_children(services.school_pupils(school.id, pupil_ids))
    contact = _addressee(school.id, pupils[0].id, contact_id)
    since = academic_year_start(today)
    ids = [p.id for p in pupils]
    absent = absence_sessions(school.id, ids, since, today)
    unauth = _unauthorised(school.id, ids, since, today)
    children = [{"name": p.display_name, "days_missed": days_text(absent.get(p.id, (0, 0))[0]),
                 "unauthorised_days": days_text(unauth.get(p.id, 0))} for p in pupils]
    context = {
        "title": spec.title, "school": school, "school_phone": school_values(school).get("school_phone", ""),
        "today_text": _long_date(today), "since_text": _long_date(since),
        "addressee": contact.name if contact else f"The parent or carer of {child_names(pupils, 'en')}",
        "salutation": contact.name if contact else "Parent or Carer",
        "children": children, "children_text": child_names(pupils, "en"),
        "sender": sender.strip(), "sender_role": sender_role, "support": list(support or DEFAULT_SUPPORT),
        "history": _history(school.id, ids) if kind == "notice_to_improve" else [], **values,
    }
    html = render_template(f"letters/{kind}.html", **context)
    return Letter(kind, spec.title, html, school.id, tuple(ids), contact.id if contact else None, details)


def _addressee(school_id: int, pupil_id: int, contact_id: int | None) -> Contact | None:
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.school_id != school_id:
            raise UserError(f"no contact {contact_id} at this school")
        return contact
    return db.session.scalar(select(Contact).join(PupilContact, PupilContact.contact_id == Contact.id)
                             .where(PupilContact.pupil_id == pupil_id, Contact.school_id == school_id)
                             .order_by(PupilContact.priority, Contact.id).limit(1))


def _unauthorised(school_id: int, pupil_ids: Sequence[int], since: date, until: date) -> dict[int, int]:
    from sqlalchemy import func

    from outreach.attendance.models import PupilWeek
    from outreach.core.timeutil import week_start

    rows = db.session.execute(select(PupilWeek.pupil_id, func.sum(PupilWeek.unauthorised))
                              .where(PupilWeek.school_id == school_id, PupilWeek.pupil_id.in_(list(pupil_ids)),
                                     PupilWeek.week_start >= week_start(since), PupilWeek.week_start <= week_start(until))
                              .group_by(PupilWeek.pupil_id))
    return {pid: int(n or 0) for pid, n in rows}


def send_letter(school: School, kind: str, pupil_ids: Sequence[int], *, sender: str, recorded_by: str | None = None,
                sender_role: str | None = None, contact_id: int | None = None, values: Mapping[str, Any] | None = None,
                support: Sequence[str] | None = None, now: datetime | None = None) -> tuple[Intervention, Letter]:
    """Render the letter and log it as an intervention (a letter, an attendance contract or a
    notice to improve) with a copy of exactly what was sent. Commits."""
    now = now or utcnow()
    letter = render_letter(school, kind, pupil_ids, sender=sender, sender_role=sender_role, contact_id=contact_id,
                           values=values, support=support, today=to_london(now).date())
    spec = LETTERS[kind]
    details = {k: v for k, v in letter.details.items() if k in services.DETAIL_KEYS.get(spec.intervention_type, {"letter"})}
    row = services.log_intervention(school, type=spec.intervention_type, pupil_ids=list(letter.pupil_ids),
                                    recorded_by=recorded_by or sender, occurred_at=now, outcome="letter sent",
                                    details=details, letter_html=letter.html, now=now)
    return row, letter
