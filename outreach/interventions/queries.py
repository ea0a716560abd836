"""Read helpers: intervention and task lists, and the case timeline with pluggable sources.

The timeline gathers, per pupil, everything that happened in one chronological list: register
imports and the corrections they made, interventions, referral steps, rule tasks, and whatever
other features register (messaging adds messages and replies with ``register_timeline_source``,
so this module never imports messaging tables that may not exist).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import Select, func, select

from outreach.core.timeutil import to_london
from outreach.extensions import db
from outreach.interventions.models import Intervention, InterventionPupil, Referral, ReferralEvent, Task
from outreach.interventions.rules import format_day
from outreach.interventions.services import aware
from outreach.interventions.vocabulary import INTERVENTION_TYPES, RULES
from outreach.registers.models import ImportBatch, Mark, MarkChange


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened to a case. ``at`` is UTC (shown in London time)."""

    at: datetime
    kind: str  # import, mark_change, intervention, referral, task, message, reply ...
    title: str
    detail: str | None = None
    by: str | None = None
    ref: Mapping[str, Any] = field(default_factory=dict)

    @property
    def london(self) -> datetime:
        return to_london(self.at)


TimelineSource = Callable[[int, int], Iterable[TimelineEvent]]  # (school_id, pupil_id) -> events
_SOURCES: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Add (or replace) a source of timeline events, e.g. ``register_timeline_source("messages", fn)``."""
    _SOURCES[name] = source


def timeline_sources() -> dict[str, TimelineSource]:
    return dict(_SOURCES)


def import_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    """Each import that holds marks of this pupil (by the batch that last set them)."""
    rows = db.session.execute(
        select(ImportBatch, func.count(), func.min(Mark.date), func.max(Mark.date))
        .join(Mark, Mark.batch_id == ImportBatch.id)
        .where(Mark.pupil_id == pupil_id, Mark.school_id == school_id, ImportBatch.school_id == school_id)
        .group_by(ImportBatch.id))
    return [TimelineEvent(aware(batch.finished_at or batch.created_at), "import",
                          f"Register import: {n} mark{'s' if n != 1 else ''} ({format_day(first)} to {format_day(last)})",
                          f"{batch.file_name} ({batch.format})", batch.created_by, {"batch_id": batch.id})
            for batch, n, first, last in rows]


def mark_change_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    """Corrections, one event per import that changed this pupil's codes."""
    rows = db.session.execute(
        select(MarkChange, ImportBatch).join(ImportBatch, ImportBatch.id == MarkChange.batch_id)
        .where(MarkChange.pupil_id == pupil_id, MarkChange.school_id == school_id)
        .order_by(MarkChange.batch_id, MarkChange.date, MarkChange.session))
    by_batch: dict[int, tuple[ImportBatch, list[MarkChange]]] = {}
    for change, batch in rows:
        by_batch.setdefault(batch.id, (batch, []))[1].append(change)
    events = []
    for batch, changes in by_batch.values():
        detail = "; ".join(f"{format_day(c.date)} {c.session}: {c.old_code} to {c.new_code}" for c in changes)
        n = len(changes)
        events.append(TimelineEvent(aware(batch.finished_at or batch.created_at), "mark_change",
                                    f"{n} mark{'s' if n != 1 else ''} corrected", detail, batch.created_by,
                                    {"batch_id": batch.id}))
    return events


def intervention_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    rows = db.session.scalars(
        select(Intervention).join(InterventionPupil, InterventionPupil.intervention_id == Intervention.id)
        .where(Intervention.school_id == school_id, InterventionPupil.pupil_id == pupil_id))
    events = []
    for row in rows:
        parts = [p for p in (row.notes, f"Next: {row.next_step}" if row.next_step else None,
                             f"by {format_day(row.next_step_date)}" if row.next_step_date else None) if p]
        extra = row.details or {}
        if row.type == "notice_to_improve" and extra.get("improvement_weeks"):
            parts.append(f"Improvement period {extra['improvement_weeks']} weeks, to {extra.get('improvement_ends')}")
        if row.type == "penalty_notice":
            parts.append(f"Decided by {extra.get('decided_by')} (recorded only)")
        title = INTERVENTION_TYPES[row.type].label + (f": {row.outcome}" if row.outcome else "")
        events.append(TimelineEvent(aware(row.occurred_at), "intervention", title, " · ".join(parts) or None,
                                    row.recorded_by, {"intervention_id": row.id, "type": row.type}))
    return events


def referral_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    rows = db.session.execute(
        select(ReferralEvent, Referral).join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(Referral.school_id == school_id, Referral.pupil_id == pupil_id))
    return [TimelineEvent(aware(event.at), "referral", f"Early-help referral {referral.id}: {event.action}",
                          event.note, event.by, {"referral_id": referral.id}) for event, referral in rows]


def task_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    events = []
    for task in db.session.scalars(select(Task).where(Task.school_id == school_id, Task.pupil_id == pupil_id)):
        label = RULES[task.rule].label
        events.append(TimelineEvent(aware(task.created_at), "task", f"Task: {label}", task.summary, None,
                                    {"task_id": task.id, "rule": task.rule}))
        if task.closed_at is not None:
            events.append(TimelineEvent(aware(task.closed_at), "task", f"Task {task.status}: {label}", task.closed_note,
                                        task.closed_by, {"task_id": task.id, "rule": task.rule}))
    return events


for _name, _source in (("imports", import_events), ("mark_changes", mark_change_events),
                       ("interventions", intervention_events), ("referrals", referral_events), ("tasks", task_events)):
    register_timeline_source(_name, _source)

_KIND_ORDER = {"import": 0, "mark_change": 1, "task": 2}


def case_timeline(school_id: int, pupil_id: int, *, sources: Mapping[str, TimelineSource] | Sequence[str] | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> list[TimelineEvent]:
    """Every event for one pupil, oldest first. ``sources`` names registered sources to use (or
    gives source functions); by default all registered ones."""
    if sources is None:
        chosen = timeline_sources()
    elif isinstance(sources, Mapping):
        chosen = dict(sources)
    else:
        registered = timeline_sources()
        unknown = [s for s in sources if s not in registered]
        if unknown:
            from outreach.core.errors import UserError
            raise UserError(f"unknown timeline source(s): {', '.join(unknown)}", details=[f"sources: {', '.join(registered)}"])
        chosen = {s: registered[s] for s in sources}
    events = [e for source in chosen.values() for e in source(school_id, pupil_id)]
    if since is not None:
        events = [e for e in events if e.at >= since]
    if until is not None:
        events = [e for e in events if e.at <= until]
    return sorted(events, key=lambda e: (e.at, _KIND_ORDER.get(e.kind, 3), e.title))


# --- lists ------------------------------------------------------------------------------------

def interventions_query(school_id: int, *, pupil_id: int | None = None, type: str | None = None,
                        since: datetime | None = None, until: datetime | None = None) -> Select[tuple[Intervention]]:
    """The school's interventions, newest first, filtered (pages and the API paginate this)."""
    stmt = select(Intervention).where(Intervention.school_id == school_id)
    if pupil_id is not None:
        stmt = stmt.where(Intervention.id.in_(select(InterventionPupil.intervention_id)
                                              .where(InterventionPupil.pupil_id == pupil_id)))
    if type:
        stmt = stmt.where(Intervention.type == type)
    if since is not None:
        stmt = stmt.where(Intervention.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(Intervention.occurred_at < until)
    return stmt.order_by(Intervention.occurred_at.desc(), Intervention.id.desc())


def list_interventions(school_id: int, *, pupil_id: int | None = None, type: str | None = None,
                       since: datetime | None = None, limit: int = 200, offset: int = 0) -> list[Intervention]:
    stmt = interventions_query(school_id, pupil_id=pupil_id, type=type, since=since)
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))


def tasks_query(school_id: int, *, status: str | None = "open", pupil_id: int | None = None, rule: str | None = None,
                assigned_to: str | None = None, unassigned: bool = False) -> Select[tuple[Task]]:
    """The school's tasks, newest first. ``assigned_to`` matches case-insensitively."""
    stmt = select(Task).where(Task.school_id == school_id)
    if status:
        stmt = stmt.where(Task.status == status)
    if pupil_id is not None:
        stmt = stmt.where(Task.pupil_id == pupil_id)
    if rule:
        stmt = stmt.where(Task.rule == rule)
    if unassigned:
        stmt = stmt.where(Task.assigned_to.is_(None))
    elif assigned_to:
        stmt = stmt.where(func.lower(Task.assigned_to) == assigned_to.strip().lower())
    return stmt.order_by(Task.created_at.desc(), Task.id.desc())


def list_tasks(school_id: int, *, status: str | None = "open", pupil_id: int | None = None, rule: str | None = None,
               limit: int = 500, offset: int = 0) -> list[Task]:
    stmt = tasks_query(school_id, status=status, pupil_id=pupil_id, rule=rule)
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))


def task_counts(school_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Open tasks per school, and how many of them are unassigned (the task pages' school list)."""
    out: dict[int, dict[str, int]] = {sid: {"open": 0, "unassigned": 0} for sid in school_ids}
    if not school_ids:
        return out
    rows = db.session.execute(
        select(Task.school_id, func.count(), func.count(Task.assigned_to))
        .where(Task.school_id.in_(list(school_ids)), Task.status == "open").group_by(Task.school_id))
    for school_id, total, assigned in rows:
        out[school_id] = {"open": int(total), "unassigned": int(total) - int(assigned)}
    return out


def due_next_steps(school_id: int, on_or_before: date, on_or_after: date | None = None) -> list[Intervention]:
    """Interventions whose next step falls due by ``on_or_before`` (for an officer's day list);
    ``on_or_after`` leaves out older ones (a page shows a window, not every past next step)."""
    stmt = select(Intervention).where(
        Intervention.school_id == school_id, Intervention.next_step_date.is_not(None),
        Intervention.next_step_date <= on_or_before)
    if on_or_after is not None:
        stmt = stmt.where(Intervention.next_step_date >= on_or_after)
    return list(db.session.scalars(stmt.order_by(Intervention.next_step_date, Intervention.id)))


# --- what works here --------------------------------------------------------------------------

@dataclass(frozen=True)
class ImpactRow:
    """One intervention type at one school (``school_id`` None: every school given, pooled)."""

    school_id: int | None
    school_name: str
    type: str
    label: str
    result: Any  # outreach.impact.stats.ImpactResult


def first_interventions(school_id: int, type: str) -> dict[int, date]:
    """Each pupil's first intervention of ``type`` (London date): their start date."""
    from outreach.interventions.services import london_date

    rows = db.session.execute(
        select(InterventionPupil.pupil_id, func.min(Intervention.occurred_at))
        .join(Intervention, Intervention.id == InterventionPupil.intervention_id)
        .where(Intervention.school_id == school_id, Intervention.type == type)
        .group_by(InterventionPupil.pupil_id))
    return {pid: london_date(aware(first)) for pid, first in rows}


def intervention_impact(school_ids: Sequence[int], *, weeks: int = 6, types: Sequence[str] | None = None,
                        min_pupils: int | None = None) -> list[ImpactRow]:
    """Per intervention type, per school, and (for more than one school, e.g. a trust) pooled
    across them: attendance before vs since each pupil's first intervention of the type, against
    similar pupils of the same school who never had it."""
    from outreach.impact import data as impact_data, stats
    from outreach.schools.models import School

    chosen = list(types or INTERVENTION_TYPES)
    names = {s.id: s.name for s in db.session.scalars(select(School).where(School.id.in_(list(school_ids))))}
    minimum = stats.MIN_PUPILS if min_pupils is None else min_pupils
    rows: list[ImpactRow] = []
    for kind in chosen:
        label = INTERVENTION_TYPES[kind].label
        pooled: list[Any] = []
        pooled_missing = 0
        for school_id in school_ids:
            participants = first_interventions(school_id, kind)
            if not participants:
                continue
            matched, missing = impact_data.match_programme(school_id, participants, weeks=weeks)
            rows.append(ImpactRow(school_id, names.get(school_id, str(school_id)), kind, label,
                                  stats.summarise(matched, weeks=weeks, not_measured=missing, min_pupils=minimum)))
            pooled.extend(matched)
            pooled_missing += missing
        if len(school_ids) > 1 and (pooled or pooled_missing):
            rows.append(ImpactRow(None, "All schools", kind, label,
                                  stats.summarise(pooled, weeks=weeks, not_measured=pooled_missing, min_pupils=minimum)))
    return rows


# --- what the pages need to name pupils -------------------------------------------------------

def pupil_choices(school_id: int, day: date, extra_ids: Sequence[int] = ()) -> list[Any]:
    """Pupils on roll on ``day`` (plus ``extra_ids``, e.g. a leaver already chosen), by surname:
    the pupils a person may pick on a form."""
    from sqlalchemy import or_

    from outreach.schools.models import Pupil
    from outreach.schools.queries import on_roll

    condition = on_roll(day) if not extra_ids else or_(on_roll(day), Pupil.id.in_(list(extra_ids)))
    return list(db.session.scalars(select(Pupil).where(Pupil.school_id == school_id, condition)
                                   .order_by(Pupil.surname, Pupil.forename, Pupil.id)))


def pupils_by_id(school_id: int, pupil_ids: Iterable[int]) -> dict[int, Any]:
    """The school's pupils among ``pupil_ids`` (one query for a page's worth of rows)."""
    from outreach.schools.models import Pupil

    ids = sorted(set(pupil_ids))
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Pupil).where(Pupil.school_id == school_id, Pupil.id.in_(ids)))}


def siblings(school_id: int, pupil_ids: Sequence[int], day: date) -> list[int]:
    """``pupil_ids`` and every pupil on roll sharing a contact with one of them (siblings are
    logged in one entry), in the given order, then the siblings found."""
    from outreach.schools.models import Pupil, PupilContact
    from outreach.schools.queries import on_roll

    if not pupil_ids:
        return []
    contacts = select(PupilContact.contact_id).where(PupilContact.pupil_id.in_(list(pupil_ids)))
    found = db.session.scalars(
        select(Pupil.id).join(PupilContact, PupilContact.pupil_id == Pupil.id)
        .where(Pupil.school_id == school_id, PupilContact.contact_id.in_(contacts), on_roll(day))
        .order_by(Pupil.surname, Pupil.forename, Pupil.id))
    return list(dict.fromkeys([*pupil_ids, *found]))


def contacts_of(school_id: int, pupil_ids: Sequence[int]) -> list[Any]:
    """The contacts of these pupils, first contact first (a letter's addressee choices)."""
    from outreach.schools.models import Contact, PupilContact

    if not pupil_ids:
        return []
    rows = db.session.execute(
        select(Contact, func.min(PupilContact.priority)).join(PupilContact, PupilContact.contact_id == Contact.id)
        .where(Contact.school_id == school_id, PupilContact.pupil_id.in_(list(pupil_ids)))
        .group_by(Contact.id).order_by(func.min(PupilContact.priority), Contact.id))
    return [contact for contact, _ in rows]
