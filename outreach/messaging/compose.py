"""Who receives a message, and what each receives: audiences, contacts, sibling merging.

``compose`` turns "this template, to these pupils (or this filter)" into a ``RecipientReview``:
one ``OutgoingMessage`` per phone number, naming every child it is about ("Amira and Yusuf"),
rendered in the contact's language (English when the template has no variant for it), deferred
past quiet hours, with a deterministic idempotency key; plus every pupil who will not be reached
and every contact left out, with the reason. Nothing is written: the compose page shows the
review, and only when a person confirms are the messages handed to the outbox.

Contacts are chosen by ``PupilContact.priority``. By default each pupil's first contact that can
be texted receives the message (a first contact without consent is reported, and the next one in
priority order is used); ``ContactMode.ALL`` sends to every contact that can be texted. A contact
cannot be texted without SMS consent, without a mobile number, with a number the gateway marked
invalid, or after replying STOP; opt-outs belong to the outbox, so callers pass its check in as
``is_opted_out(school_id, phone)``.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from typing import Iterable, Mapping, Protocol, Sequence

from sqlalchemy import func, select

from outreach.attendance.measures import is_persistent_absence
from outreach.attendance.models import PupilWeek
from outreach.core.errors import UserError
from outreach.core.timeutil import academic_year_start, london_today, utcnow, week_start
from outreach.extensions import db
from outreach.messaging import placeholders
from outreach.messaging.quiet_hours import QuietHoursPolicy, next_allowed_send
from outreach.messaging.quiet_hours_settings import policy_for_school
from outreach.messaging.segments import SegmentInfo, analyse
from outreach.messaging.templates import choose_variant, get_template, normalise_language, school_values
from outreach.schools.models import Contact, Pupil, PupilContact, School
from outreach.schools.phones import is_mobile, to_e164


@dataclass(frozen=True)
class OutgoingMessage:
    """One SMS, ready for the outbox: ``outreach.messaging.outbox.enqueue(message)`` takes it and
    stores it as a row keyed by ``idempotency_key`` (unique), to be sent no earlier than
    ``not_before_utc``. Enqueueing the same key twice is a no-op, so re-running a compose for the
    same episode never texts a family twice."""

    school_id: int
    contact_id: int
    phone: str  # E.164
    body: str
    language: str  # of the variant used, which may be the English fallback
    purpose: str
    pupil_ids: tuple[int, ...]
    not_before_utc: datetime
    idempotency_key: str

    @property
    def sms(self) -> SegmentInfo:
        return analyse(self.body)


class OptOutCheck(Protocol):
    def __call__(self, school_id: int, phone: str) -> bool: ...


class ContactMode(str, Enum):
    FIRST = "first"  # each pupil's first contact (by priority) who can be texted
    ALL = "all"  # every contact who can be texted


# Why a contact or pupil is left out: code -> what the review page says.
REASONS: dict[str, str] = {
    "no_sms_consent": "has not consented to text messages",
    "no_phone": "has no phone number on record",
    "phone_invalid": "phone number marked invalid",
    "not_mobile": "number is not a mobile and cannot receive texts",
    "opted_out": "replied STOP (opted out of texts)",
    "no_contact": "has no contact on record",
    "no_textable_contact": "has no contact who can be texted",
    "not_on_roll": "is not on roll on this date",
}


@dataclass(frozen=True)
class Exclusion:
    """A contact left out (``contact_id`` set) or a pupil not reached (``contact_id`` None)."""

    reason: str  # a key of REASONS
    pupil_ids: tuple[int, ...]
    contact_id: int | None = None
    detail: str | None = None

    @property
    def text(self) -> str:
        base = REASONS[self.reason]
        return f"{base}: {self.detail}" if self.detail else base


@dataclass(frozen=True)
class RecipientReview:
    """What would be sent, shown before anything is: the compose page's confirmation."""

    template_name: str
    purpose: str
    messages: tuple[OutgoingMessage, ...]
    pupils_covered: tuple[int, ...]
    pupils_not_reached: tuple[Exclusion, ...]
    contacts_excluded: tuple[Exclusion, ...]
    language_fallbacks: tuple[int, ...] = ()  # contact ids who get English for want of a variant

    @property
    def message_count(self) -> int:
        return len(self.messages)

    @property
    def pupil_count(self) -> int:
        return len(self.pupils_covered)

    @property
    def segment_count(self) -> int:
        """Total segments (what the gateway bills)."""
        return sum(m.sms.segments for m in self.messages)

    @property
    def exclusions(self) -> tuple[Exclusion, ...]:
        return self.pupils_not_reached + self.contacts_excluded

    def summary(self) -> str:
        line = (f"{self.message_count} message{'s' if self.message_count != 1 else ''} "
                f"({self.segment_count} segments) covering {self.pupil_count} "
                f"pupil{'s' if self.pupil_count != 1 else ''}")
        if self.pupils_not_reached:
            line += f"; {len(self.pupils_not_reached)} not reached"
        if self.contacts_excluded:
            line += f"; {len(self.contacts_excluded)} contacts left out"
        return line


@dataclass(frozen=True)
class AudienceFilter:
    """Which pupils of a school: all on roll, narrowed by each field that is set. ``persistent_absence``
    selects pupils at or over 10% absence this academic year so far (from pupil-week rollups)."""

    year_groups: frozenset[str] = frozenset()
    reg_groups: frozenset[str] = frozenset()
    fsm: bool | None = None
    sen_statuses: frozenset[str] = frozenset()  # 'K' SEN support, 'E' EHC plan, 'N' none
    eal: bool | None = None
    persistent_absence: bool | None = None
    pupil_ids: frozenset[int] | None = None


# --- choosing pupils --------------------------------------------------------------------------

def _on_roll(on_date: date):
    return ((Pupil.admission_date.is_(None) | (Pupil.admission_date <= on_date))
            & (Pupil.leaving_date.is_(None) | (Pupil.leaving_date >= on_date)))


def absence_sessions(school_id: int, pupil_ids: Iterable[int] | None, since: date, until: date) -> dict[int, tuple[int, int]]:
    """(absent, possible) sessions per pupil over the pupil-weeks from ``since``'s week to
    ``until``'s week, read from rollups. Pupils without rollups are absent from the result."""
    stmt = (select(PupilWeek.pupil_id, func.sum(PupilWeek.authorised + PupilWeek.unauthorised), func.sum(PupilWeek.possible))
            .where(PupilWeek.school_id == school_id, PupilWeek.week_start >= week_start(since),
                   PupilWeek.week_start <= week_start(until))
            .group_by(PupilWeek.pupil_id))
    if pupil_ids is not None:
        stmt = stmt.where(PupilWeek.pupil_id.in_(list(pupil_ids)))
    return {pid: (int(absent or 0), int(possible or 0)) for pid, absent, possible in db.session.execute(stmt)}


def days_missed_values(school_id: int, pupil_ids: Iterable[int], since: date, until: date | None = None) -> dict[int, dict[str, str]]:
    """``{pupil_id: {"days_missed": "6.5"}}`` from rollups, for ``compose(pupil_values=...)``.
    Counts whole weeks from ``since``'s Monday (rollups are weekly)."""
    ids = list(pupil_ids)
    sessions = absence_sessions(school_id, ids, since, until or london_today())
    return {pid: {"days_missed": placeholders.format_days(sessions.get(pid, (0, 0))[0])} for pid in ids}


def select_pupils(school: School, audience: AudienceFilter, on_date: date | None = None) -> list[Pupil]:
    """Pupils of ``school`` on roll on ``on_date`` (default today in London) matching ``audience``."""
    on_date = on_date or london_today()
    stmt = select(Pupil).where(Pupil.school_id == school.id, _on_roll(on_date))
    if audience.pupil_ids is not None:
        stmt = stmt.where(Pupil.id.in_(list(audience.pupil_ids)))
    if audience.year_groups:
        stmt = stmt.where(Pupil.year_group.in_(sorted(audience.year_groups)))
    if audience.reg_groups:
        stmt = stmt.where(Pupil.reg_group.in_(sorted(audience.reg_groups)))
    if audience.fsm is not None:
        stmt = stmt.where(Pupil.fsm.is_(audience.fsm))
    if audience.sen_statuses:
        stmt = stmt.where(Pupil.sen_status.in_(sorted(audience.sen_statuses)))
    if audience.eal is not None:
        stmt = stmt.where(Pupil.eal.is_(audience.eal))
    pupils = list(db.session.scalars(stmt.order_by(Pupil.id)))
    if audience.persistent_absence is not None:
        sessions = absence_sessions(school.id, None, academic_year_start(on_date), on_date)
        pupils = [p for p in pupils
                  if is_persistent_absence(*sessions.get(p.id, (0, 0))) is audience.persistent_absence]
    return pupils


# --- contacts ---------------------------------------------------------------------------------

def textable_phone(contact: Contact, school_id: int, is_opted_out: OptOutCheck,
                   opt_out_cache: dict[str, bool] | None = None) -> tuple[str | None, tuple[str, str | None] | None]:
    """(E.164 phone, None) if ``contact`` can be texted, else (None, (reason, detail))."""
    if not contact.sms_consent:
        return None, ("no_sms_consent", None)
    if not contact.phone or not contact.phone.strip():
        return None, ("no_phone", None)
    if contact.phone_invalid_reason:
        return None, ("phone_invalid", contact.phone_invalid_reason)
    try:
        phone = to_e164(contact.phone)
    except ValueError as exc:
        return None, ("phone_invalid", str(exc))
    if not is_mobile(phone):
        return None, ("not_mobile", None)
    cache = opt_out_cache if opt_out_cache is not None else {}
    if phone not in cache:
        cache[phone] = bool(is_opted_out(school_id, phone))
    if cache[phone]:
        return None, ("opted_out", None)
    return phone, None


def idempotency_key(purpose: str, school_id: int, phone: str, pupil_ids: Iterable[int], episode_key: str) -> str:
    """``purpose:<40 hex>`` (at most 61 characters), the same for the same purpose, school, phone,
    children and episode whatever order the children come in: the outbox's unique key."""
    material = "\x1f".join((purpose, str(school_id), phone, ",".join(str(i) for i in sorted(set(pupil_ids))), episode_key))
    return f"{purpose}:{hashlib.sha256(material.encode('utf-8')).hexdigest()[:40]}"


def _child_label(pupil: Pupil) -> str:
    return (pupil.preferred_forename or pupil.forename).strip()


def ordered_children(pupils: Iterable[Pupil]) -> list[Pupil]:
    """Eldest first (then by name): the order children are named in, and per-child values follow."""
    return sorted(pupils, key=lambda p: (p.date_of_birth or date.max, _child_label(p).lower(), p.id))


def child_names(pupils: Sequence[Pupil], language: str) -> str:
    """First names in ``ordered_children`` order, with a surname initial for two children of the
    same first name: 'Amira and Yusuf', 'Amira, Yusuf and Zain', 'Sam K. and Sam L.'."""
    ordered = ordered_children(pupils)
    labels = [_child_label(p) for p in ordered]
    names = [f"{label} {p.surname[:1]}." if labels.count(label) > 1 and p.surname else label
             for label, p in zip(labels, ordered)]
    return placeholders.join_names(names, language)


# --- compose ----------------------------------------------------------------------------------

@dataclass
class _Recipient:
    contact: Contact
    rank: tuple[int, int]
    pupils: dict[int, Pupil] = field(default_factory=dict)


def compose(school: School, template_name: str, *, episode_key: str, is_opted_out: OptOutCheck,
            pupils: Iterable[Pupil | int] | None = None, audience: AudienceFilter | None = None,
            values: Mapping[str, str] | None = None,
            pupil_values: Mapping[int, Mapping[str, str]] | None = None,
            contact_mode: ContactMode = ContactMode.FIRST, send_after: datetime | None = None,
            now: datetime | None = None, policy: QuietHoursPolicy | None = None,
            on_date: date | None = None) -> RecipientReview:
    """Build the review for sending ``template_name`` to ``pupils`` (or the pupils ``audience``
    selects; all on roll if neither is given).

    ``episode_key`` names the occasion ("absence:2025-03-03", "concern:autumn-1"): the same
    episode to the same phone about the same children is one message, however often this runs.
    ``values`` fill placeholders common to every message (``date``, ``place`` ...);
    ``pupil_values`` fill per-child ones (``days_missed``), merged for siblings in name order
    ("6 and 4", or one number when all agree). ``parent_name``, ``child_names`` and the school's
    name and phone are filled here. Messages go no earlier than ``send_after`` (default now),
    moved past the school's quiet hours. Raises UserError, naming them, when values are missing.
    """
    if not episode_key or not episode_key.strip():
        raise UserError("an episode key is required: it is what stops the same message going twice")
    template = get_template(school.id, template_name)
    on_date = on_date or london_today()
    values = dict(values or {})
    pupil_values = {int(k): dict(v) for k, v in (pupil_values or {}).items()}
    for reserved in ("parent_name", "child_names"):
        if reserved in values:
            raise UserError(f"{{{reserved}}} is filled from the school's records for each message; do not pass it")

    if pupils is not None and audience is not None:
        raise UserError("give pupils or an audience filter, not both")
    not_reached: list[Exclusion] = []
    if pupils is not None:
        wanted = {p if isinstance(p, int) else p.id for p in pupils}
        found = {p.id: p for p in db.session.scalars(select(Pupil).where(Pupil.id.in_(list(wanted)), Pupil.school_id == school.id))}
        if missing := sorted(wanted - found.keys()):
            raise UserError(f"{len(missing)} pupil(s) are not at this school", details=[f"pupil id {i}" for i in missing])
        on_roll = {p.id for p in select_pupils(school, AudienceFilter(pupil_ids=frozenset(found)), on_date)}
        for pid in sorted(found.keys() - on_roll):
            not_reached.append(Exclusion("not_on_roll", (pid,)))
        chosen = [found[pid] for pid in sorted(on_roll)]
    else:
        chosen = select_pupils(school, audience or AudienceFilter(), on_date)

    links_by_pupil: dict[int, list[tuple[PupilContact, Contact]]] = defaultdict(list)
    if chosen:
        rows = db.session.execute(
            select(PupilContact, Contact).join(Contact, Contact.id == PupilContact.contact_id)
            .where(PupilContact.pupil_id.in_([p.id for p in chosen]), Contact.school_id == school.id)
            .order_by(PupilContact.pupil_id, PupilContact.priority, Contact.id))
        for link, contact in rows:
            links_by_pupil[link.pupil_id].append((link, contact))

    opt_out_cache: dict[str, bool] = {}
    excluded: dict[tuple[int, str], tuple[str, str | None, list[int]]] = {}
    recipients: dict[str, _Recipient] = {}
    for pupil in chosen:
        links = links_by_pupil.get(pupil.id, [])
        if not links:
            not_reached.append(Exclusion("no_contact", (pupil.id,)))
            continue
        reached = False
        for link, contact in links:
            phone, problem = textable_phone(contact, school.id, is_opted_out, opt_out_cache)
            if phone is None:
                assert problem is not None
                excluded.setdefault((contact.id, problem[0]), (problem[0], problem[1], []))[2].append(pupil.id)
                continue
            rank = (link.priority, contact.id)
            recipient = recipients.get(phone)
            if recipient is None:
                recipient = recipients[phone] = _Recipient(contact=contact, rank=rank)
            elif rank < recipient.rank:  # the same phone under two contact rows: address the first
                recipient.contact, recipient.rank = contact, rank
            recipient.pupils[pupil.id] = pupil
            reached = True
            if contact_mode is ContactMode.FIRST:
                break
        if not reached:
            not_reached.append(Exclusion("no_textable_contact", (pupil.id,)))

    # Fill in every message before returning any, so a missing value is one clear error.
    base_values = {**school_values(school), **values}
    policy = policy or policy_for_school(school.id)
    now = now or utcnow()
    not_before = next_allowed_send(max(now, send_after or now).astimezone(timezone.utc), policy)
    messages: list[OutgoingMessage] = []
    missing: dict[str, set[str]] = defaultdict(set)
    fallbacks: list[int] = []
    for phone, recipient in sorted(recipients.items(), key=lambda item: (item[1].rank, item[0])):
        contact = recipient.contact
        language = normalise_language(contact.preferred_language)
        variant = choose_variant(template, language)
        if variant.language not in (language, language.split("-")[0]):
            fallbacks.append(contact.id)
        kids = ordered_children(recipient.pupils.values())
        filled = {**base_values, "parent_name": contact.name.strip(),
                  "child_names": child_names(kids, variant.language)}
        for name in placeholders.placeholders_in(variant.body):
            if name in filled:
                continue
            per_child = [pupil_values.get(k.id, {}).get(name) for k in kids]
            if any(v is None for v in per_child):
                missing[name].update(str(k.id) for k, v in zip(kids, per_child) if v is None)
                continue
            distinct = list(dict.fromkeys(str(v) for v in per_child))
            filled[name] = distinct[0] if len(distinct) == 1 else placeholders.join_names([str(v) for v in per_child], variant.language)
        if missing:
            continue
        pupil_ids = tuple(sorted(recipient.pupils))
        messages.append(OutgoingMessage(
            school_id=school.id, contact_id=contact.id, phone=phone,
            body=placeholders.render(variant.body, filled), language=variant.language,
            purpose=template.purpose, pupil_ids=pupil_ids, not_before_utc=not_before,
            idempotency_key=idempotency_key(template.purpose, school.id, phone, pupil_ids, episode_key.strip()),
        ))
    if missing:
        per_child = {name for v in pupil_values.values() for name in v}
        details = [_missing_detail(name, ids, per_child) for name, ids in sorted(missing.items())]
        raise UserError(f"the template needs values for {', '.join('{' + n + '}' for n in sorted(missing))}", details=details)

    covered = sorted({pid for m in messages for pid in m.pupil_ids})
    contacts_excluded = [Exclusion(reason, tuple(sorted(set(pids))), contact_id, detail)
                         for (contact_id, _), (reason, detail, pids) in sorted(excluded.items())]
    return RecipientReview(template_name=template.name, purpose=template.purpose, messages=tuple(messages),
                           pupils_covered=tuple(covered), pupils_not_reached=tuple(not_reached),
                           contacts_excluded=tuple(contacts_excluded), language_fallbacks=tuple(fallbacks))


def _missing_detail(name: str, pupil_ids: set[str], per_child: set[str]) -> str:
    if name == "school_phone":
        return "{school_phone}: the school has no contact phone number; add one to the school's details"
    if name in per_child:
        return f"{{{name}}}: no value for pupil id(s) {', '.join(sorted(pupil_ids, key=int))}"
    return f"{{{name}}}: give a value for it when sending"
