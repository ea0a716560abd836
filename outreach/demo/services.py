"""Write the generated demo into the database: the one function that changes state here.

The core data (trust, schools, pupils, contacts, marks and their rollups) goes in one
transaction with core bulk inserts, so a failed load leaves nothing behind and a full-size demo
(about 840,000 marks) takes seconds, not minutes. Accounts, message templates and the feature
steps follow through those features' own services, which commit for themselves.
"""
from __future__ import annotations

import os

import time as _time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Sequence

from flask import current_app
from sqlalchemy import func, insert, select

from outreach.core.accounts import passwords
from outreach.core.accounts import services as accounts
from outreach.core.errors import UserError
from outreach.core.timeutil import utcnow
from outreach.demo import steps as demo_steps
from outreach.demo.generate import DEFAULT_SEED, DEMO_PASSWORD, LA_CODE, DemoData, DemoSchool, generate
from outreach.extensions import db
from outreach.messaging.templates import ensure_default_templates
from outreach.registers import store
from outreach.registers.models import ImportBatch
from outreach.schools.models import Contact, Pupil, PupilContact, School, Trust



@dataclass(frozen=True)
class SchoolSummary:
    name: str
    urn: str
    phase: str
    on_roll: int  # today
    enrolments: int  # pupil rows, including last year's leavers
    contacts: int
    marks: int


@dataclass
class DemoReport:
    created: bool
    message: str = ""
    seed: int = DEFAULT_SEED
    trust: str = ""
    schools: list[SchoolSummary] = field(default_factory=list)
    users: list[tuple[str, str, bool]] = field(default_factory=list)  # (email, role, created now)
    password: str = ""
    password_from_env: bool = False
    templates: int = 0
    steps: list[tuple[str, str]] = field(default_factory=list)
    digest: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds: generate, write (marks and rollups), accounts, total, cpu


def demo_password() -> tuple[str, bool]:
    """The demo accounts' password: OUTREACH_DEMO_PASSWORD when set, else the documented one."""
    configured = current_app.config.get("OUTREACH_DEMO_PASSWORD")
    return (configured, True) if configured else (DEMO_PASSWORD, False)


def any_school_exists() -> bool:
    return db.session.scalar(select(func.count()).select_from(School)) > 0


def load_demo(seed: int = DEFAULT_SEED, *, scale: float = 1.0, now: datetime | None = None,
              if_empty: bool = False, echo: Callable[[str], None] | None = None) -> DemoReport:
    """Build the demo trust. With ``if_empty`` nothing happens when any school exists (the
    first start of ``scripts/run``); without it, a database that already holds the demo
    schools is refused rather than doubled."""
    started, cpu_started = _time.perf_counter(), _time.process_time()
    say = echo or (lambda _line: None)
    if if_empty and any_school_exists():
        return DemoReport(created=False, seed=seed, message="schools exist already: demo data not loaded")
    password, from_env = demo_password()
    problems = passwords.password_problems(password)
    if problems:
        raise UserError("OUTREACH_DEMO_PASSWORD cannot be used for the demo accounts", problems)
    try:
        data = generate(seed, scale=scale, now=now)
    except ValueError as exc:
        raise UserError(f"cannot build the demo: {exc}") from exc
    _refuse_existing(data)
    report = DemoReport(created=True, seed=seed, trust=data.trust_name, password=password,
                        password_from_env=from_env, digest=data.digest())
    report.timings["generate"] = _time.perf_counter() - started

    t = _time.perf_counter()
    try:
        trust, schools, pupil_ids, contact_ids = _write_core(data, say)
        report.timings["write"] = _time.perf_counter() - t
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for demo_school in data.schools:
        report.schools.append(SchoolSummary(
            demo_school.spec.name, demo_school.spec.urn, demo_school.spec.phase, demo_school.on_roll(data.today),
            len(demo_school.pupils), len(demo_school.contacts), len(demo_school.marks)))

    t = _time.perf_counter()
    user_ids: dict[str, int] = {}
    for spec in data.users:
        existing = accounts.get_user_by_email(spec.email)
        if existing is not None:  # made by hand before the demo: leave it alone
            user_ids[spec.email] = existing.id
            report.users.append((spec.email, spec.role, False))
            continue
        user = accounts.create_user(spec.email, spec.role, password, name=spec.name,
                                    school_urns=[data.school(k).spec.urn for k in spec.school_keys],
                                    trust_name=data.trust_name if spec.trust else None)
        user_ids[spec.email] = user.id
        report.users.append((spec.email, spec.role, True))
    for school in schools.values():
        report.templates += len(ensure_default_templates(school))
    report.timings["accounts"] = _time.perf_counter() - t

    ctx = demo_steps.DemoContext(data=data, trust=trust, schools=schools, pupil_ids=pupil_ids,
                                 contact_ids=contact_ids, user_ids=user_ids)
    demo_steps.discover_feature_steps()
    for step in demo_steps.registered_steps():
        say(f"demo step: {step.name} ...")
        try:
            summary = step.fn(ctx)
        except UserError:
            db.session.rollback()
            raise
        except Exception as exc:
            db.session.rollback()
            raise UserError(f"demo step {step.name!r} failed: {exc.__class__.__name__}: {exc}",
                            ["the core demo data is in place; fix the step and load the demo into an empty database"]) from exc
        db.session.commit()
        report.steps.append((step.name, summary or "done"))
    report.timings["total"] = _time.perf_counter() - started
    report.timings["cpu"] = _time.process_time() - cpu_started
    return report


def _refuse_existing(data: DemoData) -> None:
    urns = [s.spec.urn for s in data.schools]
    taken = list(db.session.scalars(select(School.urn).where(School.urn.in_(urns)).order_by(School.urn)))
    trust = db.session.scalar(select(Trust.id).where(func.lower(Trust.name) == data.trust_name.lower()))
    if taken or trust is not None:
        details = [f"school URN {u} exists" for u in taken] + ([f"trust {data.trust_name!r} exists"] if trust else [])
        raise UserError("the demo is already loaded (use --if-empty to skip quietly; to rebuild it, start "
                        "from an empty database: see docs/demo.md)", details)


def _write_core(data: DemoData, say: Callable[[str], None]) -> tuple[Trust, dict[str, School], dict[str, list[int]], dict[str, list[int]]]:
    trust = Trust(name=data.trust_name)
    db.session.add(trust)
    db.session.flush()
    schools: dict[str, School] = {}
    pupil_ids: dict[str, list[int]] = {}
    contact_ids: dict[str, list[int]] = {}
    for demo_school in data.schools:
        spec = demo_school.spec
        school = School(urn=spec.urn, name=spec.name, phase=spec.phase, la_code=LA_CODE,
                        estab=spec.estab, trust_id=trust.id, contact_phone=spec.contact_phone,
                        contact_email=spec.contact_email)
        db.session.add(school)
        db.session.flush()
        schools[spec.key] = school
        pupil_ids[spec.key] = _insert_returning_ids(Pupil, [
            dict(school_id=school.id, upn=p.upn, forename=p.forename, surname=p.surname,
                 preferred_forename=p.preferred_forename, date_of_birth=p.date_of_birth, year_group=p.year_group,
                 reg_group=p.reg_group, fsm=p.fsm, sen_status=p.sen_status, eal=p.eal, sex=p.sex,
                 admission_date=p.admission_date, leaving_date=p.leaving_date)
            for p in demo_school.pupils])
        contact_ids[spec.key] = _insert_returning_ids(Contact, [
            dict(school_id=school.id, name=c.name, phone=c.phone, email=c.email,
                 preferred_language=c.preferred_language, sms_consent=c.sms_consent)
            for c in demo_school.contacts])
        ids, cids = pupil_ids[spec.key], contact_ids[spec.key]
        links = [dict(pupil_id=ids[pupil], contact_id=cids[n], relationship_label=relationship, priority=priority)
                 for n, c in enumerate(demo_school.contacts) for pupil, relationship, priority in c.links]
        if links:
            db.session.execute(insert(PupilContact), links)
        batch = _batch(school, demo_school, data.seed)
        _insert_marks(school, demo_school, ids, batch.id)
        say(f"{spec.name}: {len(demo_school.pupils)} pupils, {len(demo_school.contacts)} contacts, "
            f"{len(demo_school.marks)} marks")
    return trust, schools, pupil_ids, contact_ids


def _insert_returning_ids(model: type, rows: Sequence[dict]) -> list[int]:
    """Bulk insert, returning the new ids in the order of ``rows``."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, list(rows)))


def _batch(school: School, demo_school: DemoSchool, seed: int) -> ImportBatch:
    """The marks arrive as one completed import batch, as if from the MIS: the import history
    shows where they came from."""
    days = [m[1] for m in demo_school.marks]
    batch = ImportBatch(school_id=school.id, kind="registers", created_by="outreach demo",
                        file_name=f"demo registers (seed {seed})", format="demo", status="completed",
                        rows_total=len(demo_school.marks), rows_processed=len(demo_school.marks),
                        added=len(demo_school.marks), date_from=min(days) if days else None,
                        date_to=max(days) if days else None, finished_at=utcnow(), error_count=0)
    db.session.add(batch)
    db.session.flush()
    return batch


def _insert_marks(school: School, demo_school: DemoSchool, pupil_ids: list[int], batch_id: int) -> None:
    """The year's marks through the store the importer writes with: a pupil-week per row, the
    counts with them (``registers.store``)."""
    db.session.flush()
    store.write(db.session, school.id, [(pupil_ids[i], day, session, code) for i, day, session, code in demo_school.marks],
                batch_id)


def summary_lines(report: DemoReport) -> Iterable[str]:
    """What ``outreach demo`` prints: what it made and how to sign in."""
    if not report.created:
        yield report.message
        return
    yield f"demo loaded: {report.trust} (seed {report.seed}, digest {report.digest[:12]})"
    for s in report.schools:
        yield (f"  {s.name} (URN {s.urn}, {s.phase}): {s.on_roll} on roll today, {s.enrolments} enrolments "
               f"this year and last, {s.contacts} contacts, {s.marks:,} marks")
    yield f"  message templates created: {report.templates}"
    for name, summary in report.steps:
        yield f"  {name}: {summary}"
    # scripts/run serves on $PORT (default 5000); the demo is loaded by the same shell
    yield f"sign in at http://127.0.0.1:{os.environ.get('PORT') or 5000} with (local demo only):"
    for email, role, created in report.users:
        note = "" if created else "  (existed already: its password is unchanged)"
        yield f"  {role:<19} {email}{note}"
    source = "from OUTREACH_DEMO_PASSWORD" if report.password_from_env else "the demo password"
    yield f"  password ({source}): {report.password}"
    t = report.timings
    yield (f"took {t.get('total', 0):.1f} s, {t.get('cpu', 0):.1f} s of it on our CPU (generate {t.get('generate', 0):.1f}, "
           f"write with rollups {t.get('write', 0):.1f}, accounts and templates {t.get('accounts', 0):.1f})")
