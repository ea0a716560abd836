"""What changes state: logging interventions, rule settings, evaluating rules into tasks, closing tasks.

Each public function validates everything first (a ``UserError`` naming each problem, nothing
written) and owns its transaction: it commits, unless called with ``commit=False`` to be part of a
caller's. Pages, the API, the CLI and the clock all call these.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import func, select

from outreach.attendance.models import PupilWeek
from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import LONDON, academic_year_start, london_midday, to_london, utcnow, week_start
from outreach.extensions import db
from outreach.interventions import rules
from outreach.interventions.models import Intervention, InterventionPupil, RuleMessage, RuleSettings, Task
from outreach.interventions.rules import LIMITS, RuleConfig
from outreach.interventions.vocabulary import (CONTACT_TYPES, IMPROVEMENT_WEEKS_MAX, IMPROVEMENT_WEEKS_MIN,
                                               INTERVENTION_TYPES, REGISTER_RULES, RULES)
from outreach.registers.models import Mark
from outreach.registers.store import week_bounds
from outreach.schools.models import Pupil, School

log = logging.getLogger(__name__)

# How far back the rules read marks: enough for the Monday/Friday lookback and the rolling
# 10-school-week penalty window with its run-up, across a summer holiday.
LOOKBACK_WEEKS = 30
MAX_TEXT = {"outcome": 300, "next_step": 300, "notes": 10_000, "recorded_by": 200}
DETAIL_KEYS: dict[str, frozenset[str]] = {
    "notice_to_improve": frozenset({"improvement_weeks", "reference", "letter"}),
    "penalty_notice": frozenset({"decided_by", "reference"}),
    "attendance_contract": frozenset({"review_date", "reference", "letter"}),
    "letter": frozenset({"letter"}),
    "attendance_meeting": frozenset({"letter", "meeting_at", "place"}),
}
DEFAULT_DETAIL_KEYS = frozenset({"reference"})


# --- small helpers ----------------------------------------------------------------------------

def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def school_pupils(school_id: int, pupil_ids: Iterable[int]) -> list[Pupil]:
    """The pupils with these ids at this school, in the given order; UserError naming any that are not."""
    wanted = list(dict.fromkeys(int(p) for p in pupil_ids))
    found = {p.id: p for p in db.session.scalars(select(Pupil).where(Pupil.school_id == school_id, Pupil.id.in_(wanted)))}
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise UserError(f"{len(missing)} pupil(s) are not at this school", details=[f"pupil id {i}" for i in missing])
    return [found[pid] for pid in wanted]


def aware(moment: datetime) -> datetime:
    """SQLite hands timezone-aware columns back naive; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def london_date(moment: datetime) -> date:
    return to_london(moment).date()


# --- the intervention log ---------------------------------------------------------------------

def validate_details(kind: str, details: Mapping[str, Any] | None, occurred: date) -> dict[str, Any]:
    """Type-specific facts, checked: a notice to improve states its improvement period (3 to 6
    weeks); a penalty notice names the person who decided it (the software never decides)."""
    details = {k: v for k, v in (details or {}).items() if v not in (None, "")}
    allowed = DETAIL_KEYS.get(kind, DEFAULT_DETAIL_KEYS)
    problems = [f"{key!r} does not apply to a {INTERVENTION_TYPES[kind].label.lower()}" for key in details if key not in allowed]
    # Facts are short text or numbers (they come from forms and JSON alike): nothing nested, no NUL.
    for key, value in list(details.items()):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append(f"{key!r} must be text or a number")
            details.pop(key)
        elif isinstance(value, str) and ("\x00" in value or len(value) > 300):
            problems.append(f"{key!r} must be at most 300 characters of text")
            details.pop(key)
    if kind == "notice_to_improve":
        weeks = details.get("improvement_weeks")
        try:
            weeks = int(weeks)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            weeks = None
        if weeks is None or not IMPROVEMENT_WEEKS_MIN <= weeks <= IMPROVEMENT_WEEKS_MAX:
            problems.append(f"a notice to improve needs an improvement period of {IMPROVEMENT_WEEKS_MIN} to "
                            f"{IMPROVEMENT_WEEKS_MAX} weeks (improvement_weeks)")
        else:
            details["improvement_weeks"] = weeks
            details["improvement_ends"] = (occurred + timedelta(weeks=weeks)).isoformat()
    if kind == "penalty_notice":
        if not _clean(str(details.get("decided_by") or "")):
            problems.append("a penalty notice is recorded only after a person decided to issue it: give decided_by")
        details["recorded_only"] = True
    if kind == "attendance_contract" and details.get("review_date"):
        try:
            details["review_date"] = date.fromisoformat(str(details["review_date"])).isoformat()
        except ValueError:
            problems.append(f"review_date must be a date (YYYY-MM-DD), got {details['review_date']!r}")
    if problems:
        raise UserError("the intervention cannot be recorded", details=problems)
    return details


def log_intervention(school: School, *, type: str, pupil_ids: Sequence[int], recorded_by: str,
                     occurred_at: datetime | None = None, outcome: str | None = None, notes: str | None = None,
                     next_step: str | None = None, next_step_date: date | None = None,
                     details: Mapping[str, Any] | None = None, letter_html: str | None = None,
                     now: datetime | None = None, commit: bool = True) -> Intervention:
    """Record what was done, for whom, when, with what outcome and what happens next."""
    now = now or utcnow()
    occurred_at = occurred_at or now
    problems: list[str] = []
    if type not in INTERVENTION_TYPES:
        raise UserError(f"unknown intervention type {type!r}", details=[f"types: {', '.join(INTERVENTION_TYPES)}"])
    if not pupil_ids:
        problems.append("choose at least one pupil")
    if not _clean(recorded_by):
        problems.append("say who recorded it (recorded_by)")
    if occurred_at.tzinfo is None:
        problems.append("the time must include a timezone")
    elif not 2000 <= occurred_at.year < 2100:  # a typo (0202), and no arithmetic overflows at the ends of time
        problems.append(f"{occurred_at.year} is not a year to record: check the date")
    elif occurred_at > now + timedelta(minutes=5):
        problems.append(f"{to_london(occurred_at):%d %b %Y %H:%M} is in the future: record what has happened")
    for name, value in (("outcome", outcome), ("next_step", next_step), ("notes", notes), ("recorded_by", recorded_by)):
        if value and len(value) > MAX_TEXT[name]:
            problems.append(f"{name} is {len(value)} characters; at most {MAX_TEXT[name]}")
    occurred_day = london_date(occurred_at) if occurred_at.tzinfo and 2000 <= occurred_at.year < 2100 else occurred_at.date()
    if next_step_date and next_step_date < occurred_day:
        problems.append("the next-step date is before the intervention")
    if problems:
        raise UserError("the intervention cannot be recorded", details=problems)
    pupils = school_pupils(school.id, pupil_ids)
    checked = validate_details(type, details, occurred_day)
    row = Intervention(school_id=school.id, type=type, occurred_at=occurred_at.astimezone(timezone.utc),
                       recorded_by=recorded_by.strip(), outcome=_clean(outcome), notes=_clean(notes),
                       next_step=_clean(next_step), next_step_date=next_step_date, details=checked or None,
                       letter_html=letter_html)
    row.pupil_links = [InterventionPupil(pupil_id=p.id, school_id=school.id) for p in pupils]
    db.session.add(row)
    db.session.flush()
    log.info("intervention %s logged: school=%s type=%s pupils=%d", row.id, school.id, type, len(pupils))
    if commit:
        db.session.commit()
    return row


def get_scoped(model: Any, school_id: int, row_id: int, what: str) -> Any:
    """A row by id, only if it belongs to ``school_id`` (another school's row is simply not found)."""
    row = db.session.get(model, row_id)
    if row is None or row.school_id != school_id:
        raise NotFound(f"no {what} {row_id} at this school")
    return row


def get_intervention(school_id: int, intervention_id: int) -> Intervention:
    return get_scoped(Intervention, school_id, intervention_id, "intervention")


def record_outcome(school_id: int, intervention_id: int, *, outcome: str | None = None,
                   next_step: str | None = None, next_step_date: date | None = None,
                   notes: str | None = None) -> Intervention:
    """Add what happened after the fact (an outcome, a next step); notes are appended, never lost."""
    row = get_intervention(school_id, intervention_id)
    problems = []
    for name, value in (("outcome", outcome), ("next_step", next_step)):
        if value and len(value) > MAX_TEXT[name]:
            problems.append(f"{name} is {len(value)} characters; at most {MAX_TEXT[name]}")
    if next_step_date and next_step_date < london_date(row.occurred_at):
        problems.append("the next-step date is before the intervention")
    if problems:
        raise UserError("the intervention cannot be updated", details=problems)
    if outcome is not None:
        row.outcome = _clean(outcome)
    if next_step is not None:
        row.next_step = _clean(next_step)
    if next_step_date is not None:
        row.next_step_date = next_step_date
    if _clean(notes):
        row.notes = f"{row.notes}\n\n{notes.strip()}" if row.notes else notes.strip()  # type: ignore[union-attr]
    db.session.commit()
    return row


# --- rule settings ----------------------------------------------------------------------------

def rule_settings(school_id: int) -> RuleSettings:
    """The school's settings row, or an unsaved row holding the defaults."""
    row = db.session.get(RuleSettings, school_id)
    if row is None:
        row = RuleSettings(school_id=school_id, **{f: getattr(rules.DEFAULTS, f) for f in _setting_names()})
    return row


def rule_config(school_id: int) -> RuleConfig:
    return RuleConfig.from_object(rule_settings(school_id))


def _setting_names() -> list[str]:
    from dataclasses import fields
    return [f.name for f in fields(RuleConfig)]


def update_rule_settings(school: School, changes: Mapping[str, Any], updated_by: str) -> RuleSettings:
    """Change some thresholds or switches; every value checked against its limits first."""
    names = _setting_names()
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in names:
            problems.append(f"unknown setting {name!r}")
            continue
        default = getattr(rules.DEFAULTS, name)
        try:
            if isinstance(default, bool):
                if isinstance(value, str):
                    if value.strip().lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                        raise ValueError
                    value = value.strip().lower() in {"1", "true", "yes", "on"}
                clean[name] = bool(value)
            elif isinstance(default, int):
                clean[name] = int(value)
            elif isinstance(default, float):
                clean[name] = float(value)
            else:
                clean[name] = str(value).strip()
                if not clean[name] or len(clean[name]) > 60 or "\x00" in clean[name]:
                    problems.append(f"{name} must be a name of 1 to 60 characters")
                    continue
        except (TypeError, ValueError):
            problems.append(f"{name} must be {type(default).__name__.replace('bool', 'yes or no').replace('int', 'a whole number').replace('float', 'a number')}, got {value!r}")
            continue
        if name in LIMITS:
            lo, hi = LIMITS[name]
            if not lo <= clean[name] <= hi:
                problems.append(f"{name} must be between {lo:g} and {hi:g}, got {clean[name]:g}")
    if clean.get("parent_texts") or ("parent_text_template" in clean and rule_settings(school.id).parent_texts):
        from outreach.messaging.templates import get_template
        name = clean.get("parent_text_template") or rule_settings(school.id).parent_text_template
        try:
            template = get_template(school.id, name)
            if template.purpose != "attendance_concern":
                problems.append(f"template {name!r} is not an attendance-concern template")
        except NotFound:
            problems.append(f"the school has no message template {name!r}: create it (outreach templates defaults) "
                            "before turning parent texts on")
    if problems:
        raise UserError("the rule settings cannot be saved", details=problems)
    row = db.session.get(RuleSettings, school.id)
    if row is None:
        row = rule_settings(school.id)
        db.session.add(row)
    for name, value in clean.items():
        setattr(row, name, value)
    row.updated_by = updated_by
    db.session.commit()
    return row


# --- contact sources --------------------------------------------------------------------------

ContactSource = Callable[[int, Sequence[int], date, date], Mapping[int, Iterable[date]]]
_CONTACT_SOURCES: dict[str, ContactSource] = {}


def register_contact_source(name: str, source: ContactSource) -> None:
    """Let another feature say when a family was contacted (messaging: a first-day text that was
    sent). ``source(school_id, pupil_ids, since, until)`` returns London dates per pupil id."""
    _CONTACT_SOURCES[name] = source


def logged_contacts(school_id: int, pupil_ids: Sequence[int], since: date, until: date) -> dict[int, set[date]]:
    """Dates (London) on which contact with each pupil's family was logged: interventions of a
    contact type, plus every registered contact source."""
    out: dict[int, set[date]] = defaultdict(set)
    if not pupil_ids:
        return out
    rows = db.session.execute(
        select(InterventionPupil.pupil_id, Intervention.occurred_at)
        .join(Intervention, Intervention.id == InterventionPupil.intervention_id)
        .where(Intervention.school_id == school_id, Intervention.type.in_(sorted(CONTACT_TYPES)),
               Intervention.occurred_at >= london_midday(since) - timedelta(hours=13),
               Intervention.occurred_at < london_midday(until) + timedelta(hours=13)))
    wanted = set(pupil_ids)
    for pupil_id, occurred in rows:
        if pupil_id in wanted:
            out[pupil_id].add(london_date(occurred))
    for source in _CONTACT_SOURCES.values():
        for pupil_id, days in source(school_id, list(pupil_ids), since, until).items():
            out[pupil_id].update(days)
    return out


# --- evaluating the rules ---------------------------------------------------------------------

@dataclass
class EvaluationResult:
    school_id: int
    as_of: date
    pupils: int = 0
    findings: int = 0
    created: list[Task] = field(default_factory=list)
    messages: list[RuleMessage] = field(default_factory=list)

    def counts_by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for task in self.created:
            counts[task.rule] += 1
        return dict(counts)


def _on_roll(as_of: date):  # type: ignore[no-untyped-def]
    return ((Pupil.admission_date.is_(None) | (Pupil.admission_date <= as_of))
            & (Pupil.leaving_date.is_(None) | (Pupil.leaving_date >= as_of)))


def load_registers(school_id: int, since: date, until: date) -> dict[int, dict[date, rules.Day]]:
    """The school's marks in [since, until], read in one query and summarised per pupil-day."""
    rows = db.session.execute(
        select(Mark.pupil_id, Mark.date, Mark.session, Mark.code)
        .where(Mark.school_id == school_id, Mark.week_start.between(*week_bounds(since, until)),
               Mark.date >= since, Mark.date <= until))
    return rules.summarise_marks(rows)


def load_year_weeks(school_id: int, as_of: date) -> dict[int, list[rules.YearWeek]]:
    """This academic year's pupil-week rollups before ``as_of``'s week, per pupil."""
    out: dict[int, list[rules.YearWeek]] = defaultdict(list)
    rows = db.session.execute(
        select(PupilWeek.pupil_id, PupilWeek.week_start, PupilWeek.authorised + PupilWeek.unauthorised, PupilWeek.possible)
        .where(PupilWeek.school_id == school_id, PupilWeek.week_start >= week_start(academic_year_start(as_of)),
               PupilWeek.week_start < week_start(as_of), PupilWeek.possible > 0)
        .order_by(PupilWeek.pupil_id, PupilWeek.week_start))
    for pupil_id, week, absent, possible in rows:
        out[pupil_id].append(rules.YearWeek(week, int(absent), int(possible)))
    return out


def _covered(school_id: int) -> dict[int, dict[str, date]]:
    rows = db.session.execute(
        select(Task.pupil_id, Task.rule, func.max(Task.episode_end))
        .where(Task.school_id == school_id, Task.rule.in_(REGISTER_RULES))
        .group_by(Task.pupil_id, Task.rule))
    out: dict[int, dict[str, date]] = defaultdict(dict)
    for pupil_id, rule, end in rows:
        out[pupil_id][rule] = end
    return out


def evaluate_rules(school: School, as_of: date | None = None, *, now: datetime | None = None,
                   is_opted_out: Callable[[int, str], bool] | None = None) -> EvaluationResult:
    """Run every enabled rule for every pupil on roll at ``school`` on ``as_of`` (default today in
    London) and create one task per new episode; propose supportive parent texts when the school
    has turned them on. Safe to run any number of times, concurrently too: an episode that already
    has a task makes none. Commits."""
    now = now or utcnow()
    as_of = as_of or london_date(now)
    config = rule_config(school.id)
    result = EvaluationResult(school.id, as_of)
    since = week_start(as_of) - timedelta(weeks=LOOKBACK_WEEKS)
    pupil_ids = list(db.session.scalars(select(Pupil.id).where(Pupil.school_id == school.id, _on_roll(as_of))))
    result.pupils = len(pupil_ids)
    if not pupil_ids:
        return result
    registers = load_registers(school.id, since, as_of)
    calendar = rules.school_calendar(registers, as_of)
    contacted = logged_contacts(school.id, pupil_ids, since, as_of) if config.first_day_contact else {}
    covered = _covered(school.id)
    year_weeks = load_year_weeks(school.id, as_of) if (config.persistent_absence or config.severe_absence) else {}
    findings: list[rules.Finding] = []
    for pupil_id in pupil_ids:
        ctx = rules.PupilContext(frozenset(contacted.get(pupil_id, ())), covered.get(pupil_id, {}),
                                 tuple(year_weeks.get(pupil_id, ())))
        findings.extend(rules.evaluate_pupil(pupil_id, registers.get(pupil_id, {}), calendar, as_of, config, ctx))
    result.findings = len(findings)
    existing = _existing_keys(school.id, {f.pupil_id for f in findings})
    result.created = _insert_tasks([_task_values(school.id, f, now) for f in findings
                                    if (f.pupil_id, f.rule, f.episode_key) not in existing])
    if config.parent_texts and result.created:
        result.messages = propose_parent_texts(school, config, [t for t in result.created if t.rule in rules.TEXT_RULES],
                                               now=now, is_opted_out=is_opted_out)
    db.session.commit()
    log.info("rules evaluated: school=%s as_of=%s pupils=%d findings=%d tasks=%d texts=%d", school.id, as_of,
             result.pupils, result.findings, len(result.created), len(result.messages))
    return result


def _existing_keys(school_id: int, pupil_ids: set[int]) -> set[tuple[int, str, str]]:
    if not pupil_ids:
        return set()
    rows = db.session.execute(select(Task.pupil_id, Task.rule, Task.episode_key)
                              .where(Task.school_id == school_id, Task.pupil_id.in_(sorted(pupil_ids))))
    return {(p, r, k) for p, r, k in rows}


def _task_values(school_id: int, finding: rules.Finding, now: datetime) -> dict[str, Any]:
    return dict(school_id=school_id, pupil_id=finding.pupil_id, rule=finding.rule, episode_key=finding.episode_key,
                episode_start=finding.episode_start, episode_end=finding.episode_end, summary=finding.summary[:300],
                next_step=finding.next_step, detail=finding.detail, status="open", created_at=now,
                due_date=london_date(now), assigned_to=None)


def _insert_tasks(values: list[dict[str, Any]]) -> list[Task]:
    """Insert tasks in one statement, skipping any episode that already has one: if a concurrent
    evaluation (the clock and an import at once) made it first, the unique key keeps one and the
    rest of this evaluation carries on. Returns the tasks this call created."""
    if not values:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = (dialect_insert(Task).on_conflict_do_nothing(index_elements=["school_id", "pupil_id", "rule", "episode_key"])
            .returning(Task.id))
    ids = [row[0] for row in db.session.execute(stmt, values)]
    if not ids:
        return []
    return list(db.session.scalars(select(Task).where(Task.id.in_(ids)).order_by(Task.id)))


def create_task(school_id: int, pupil_id: int, rule: str, episode_key: str, *, summary: str,
                episode_start: date, episode_end: date | None = None, detail: dict[str, Any] | None = None,
                assigned_to: str | None = None, due_date: date | None = None, now: datetime | None = None) -> Task | None:
    """A task made by something other than the register rules (a referral review reminder):
    None when the episode already has one. Runs in the caller's transaction."""
    if rule not in RULES:
        raise UserError(f"unknown task rule {rule!r}")
    existing = db.session.scalar(select(Task).where(Task.school_id == school_id, Task.pupil_id == pupil_id,
                                                    Task.rule == rule, Task.episode_key == episode_key))
    if existing is not None:
        return None
    now = now or utcnow()
    finding = rules.Finding(rule, pupil_id, episode_key, episode_start, episode_end or episode_start, summary, detail or {})
    values = _task_values(school_id, finding, now)
    values.update(assigned_to=assigned_to, due_date=due_date or values["due_date"])
    created = _insert_tasks([values])
    return created[0] if created else None


# --- parent texts -----------------------------------------------------------------------------

def propose_parent_texts(school: School, config: RuleConfig, tasks: Sequence[Task], *, now: datetime,
                         is_opted_out: Callable[[int, str], bool] | None = None) -> list[RuleMessage]:
    """Compose one supportive text per family for the pupils of ``tasks`` (siblings share one),
    giving days missed this year, never a percentage; skip any contact texted by a rule within the
    cooldown. Rows wait in ``rule_messages`` for the outbox. Runs in the caller's transaction."""
    from outreach.core.errors import NotFound as _NotFound
    from outreach.messaging.compose import compose, days_missed_values
    from outreach.messaging.outbox import is_opted_out as outbox_opted_out

    if not tasks:
        return []
    pupil_ids = sorted({t.pupil_id for t in tasks})
    rules_by_pupil: dict[int, set[str]] = defaultdict(set)
    for t in tasks:
        rules_by_pupil[t.pupil_id].add(t.rule)
    as_of = london_date(now)
    since = academic_year_start(as_of)
    episode = f"rules:{as_of.isoformat()}"
    try:
        review = compose(school, config.parent_text_template, episode_key=episode,
                         is_opted_out=is_opted_out or outbox_opted_out, pupils=pupil_ids,
                         values={"since_date": f"{since.day} {since:%B}"},
                         pupil_values=days_missed_values(school.id, pupil_ids, since, as_of), now=now, on_date=as_of)
    except _NotFound:
        log.warning("parent texts on but school %s has no template %r: none proposed", school.id, config.parent_text_template)
        return []
    cutoff = now - timedelta(days=config.parent_text_cooldown_days)
    recent = set(db.session.scalars(select(RuleMessage.contact_id).where(
        RuleMessage.school_id == school.id, RuleMessage.created_at >= cutoff)))
    known = set(db.session.scalars(select(RuleMessage.idempotency_key).where(
        RuleMessage.idempotency_key.in_([m.idempotency_key for m in review.messages]))))
    rows = []
    for message in review.messages:
        if message.contact_id in recent or message.idempotency_key in known:
            continue
        row = RuleMessage(school_id=school.id, contact_id=message.contact_id, phone=message.phone, body=message.body,
                          language=message.language, purpose=message.purpose, pupil_ids=list(message.pupil_ids),
                          rules=sorted({r for p in message.pupil_ids for r in rules_by_pupil.get(p, ())}),
                          not_before=message.not_before_utc, idempotency_key=message.idempotency_key, created_at=now)
        db.session.add(row)
        recent.add(message.contact_id)
        rows.append(row)
    db.session.flush()
    return rows


def pending_parent_texts(school_id: int | None = None, limit: int = 500) -> list[tuple[int, Any]]:
    """``(rule_message_id, OutgoingMessage)`` pairs not yet handed to the outbox, oldest first: the
    messaging clock job enqueues each (its idempotency key makes a retry harmless) and then calls
    ``mark_texts_enqueued``."""
    from outreach.messaging.compose import OutgoingMessage

    stmt = select(RuleMessage).where(RuleMessage.enqueued_at.is_(None)).order_by(RuleMessage.id).limit(limit)
    if school_id is not None:
        stmt = stmt.where(RuleMessage.school_id == school_id)
    return [(row.id, OutgoingMessage(school_id=row.school_id, contact_id=row.contact_id, phone=row.phone, body=row.body,
                                     language=row.language, purpose=row.purpose, pupil_ids=tuple(row.pupil_ids),
                                     not_before_utc=aware(row.not_before), idempotency_key=row.idempotency_key))
            for row in db.session.scalars(stmt)]


def mark_texts_enqueued(ids: Iterable[int], now: datetime | None = None) -> int:
    ids = list(ids)
    if not ids:
        return 0
    now = now or utcnow()
    rows = list(db.session.scalars(select(RuleMessage).where(RuleMessage.id.in_(ids), RuleMessage.enqueued_at.is_(None))))
    for row in rows:
        row.enqueued_at = now
    db.session.commit()
    return len(rows)


# --- tasks ------------------------------------------------------------------------------------

def get_task(school_id: int, task_id: int) -> Task:
    return get_scoped(Task, school_id, task_id, "task")


def close_task(school_id: int, task_id: int, *, status: str, by: str, note: str | None = None,
               now: datetime | None = None) -> Task:
    """Mark a task done or dismissed (a dismissal needs a reason: it is what the record shows)."""
    task = get_task(school_id, task_id)
    problems = []
    if status not in ("done", "dismissed"):
        problems.append(f"a task is closed as done or dismissed, not {status!r}")
    if task.status != "open":
        problems.append(f"task {task_id} is already {task.status}")
    if not _clean(by):
        problems.append("say who closed it")
    if status == "dismissed" and not _clean(note):
        problems.append("give a reason for dismissing the task")
    if note and len(note) > 500:
        problems.append("the note is over 500 characters")
    if problems:
        raise UserError("the task cannot be closed", details=problems)
    task.status, task.closed_by, task.closed_note = status, by.strip(), _clean(note)
    task.closed_at = now or utcnow()
    db.session.commit()
    return task


def reopen_task(school_id: int, task_id: int) -> Task:
    task = get_task(school_id, task_id)
    if task.status == "open":
        raise UserError(f"task {task_id} is already open")
    task.status, task.closed_at, task.closed_by, task.closed_note = "open", None, None, None
    db.session.commit()
    return task


def assign_task(school_id: int, task_id: int, assigned_to: str | None) -> Task:
    task = get_task(school_id, task_id)
    task.assigned_to = _clean(assigned_to)
    db.session.commit()
    return task
