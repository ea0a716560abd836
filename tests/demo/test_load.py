"""``outreach demo`` against the real database: rows, figures, accounts, steps, --if-empty."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from outreach.attendance.queries import PupilFilter, school_measures
from outreach.core.accounts.models import User
from outreach.core.errors import UserError
from outreach.demo import steps
from outreach.demo.generate import LONDON, generate
from outreach.demo.services import load_demo
from outreach.extensions import db
from outreach.messaging.models import MessageTemplate
from outreach.registers.models import ImportBatch, Mark
from outreach.schools.models import Contact, Pupil, PupilContact, School, Trust
from tests.dashboard.world import fast_password_hashing, sign_in

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=LONDON)
SEED = 11
SCALE = 0.25
LAST_YEAR = (date(2025, 9, 1), date(2026, 8, 31))

# Bands around the DfE 2025/26 figures (absence 5.28 / 8.49 / 13.17%, persistent absence
# 13.77 / 23.77 / 36.06%), wide enough for a quarter-size school's sampling noise.
BANDS = {
    "primary": {"absence": (4.0, 6.8), "pa": (6.0, 24.0)},
    "secondary": {"absence": (7.0, 10.2), "pa": (16.0, 32.0)},
    "special": {"absence": (9.5, 17.5), "pa": (20.0, 55.0)},
}


@pytest.fixture()
def loaded(app: Flask):
    with fast_password_hashing(app):
        return load_demo(SEED, scale=SCALE, now=NOW)


@pytest.fixture()
def tiny(app: Flask):
    """A trust of a few pupils a year: enough for accounts and templates."""
    with fast_password_hashing(app):
        return load_demo(SEED, scale=0.05, now=NOW)


def _marks_digest(school_id: int) -> str:
    rows = db.session.execute(
        select(Pupil.upn, Mark.date, Mark.session, Mark.code).join(Pupil, Pupil.id == Mark.pupil_id)
        .where(Mark.school_id == school_id).order_by(Pupil.upn, Mark.date, Mark.session))
    h = hashlib.sha256()
    for upn, day, session, code in rows:
        h.update(f"{upn}|{day.isoformat()}|{session}|{code}\n".encode())
    return h.hexdigest()


def _generated_digest(demo_school) -> str:
    h = hashlib.sha256()
    for i, day, session, code in sorted(demo_school.marks, key=lambda m: (demo_school.pupils[m[0]].upn, m[1], m[2])):
        h.update(f"{demo_school.pupils[i].upn}|{day.isoformat()}|{session}|{code}\n".encode())
    return h.hexdigest()


def test_writes_exactly_what_the_generator_made(loaded) -> None:
    data = generate(SEED, scale=SCALE, now=NOW)
    assert loaded.digest == data.digest()
    trust = db.session.scalar(select(Trust))
    assert trust.name == "Riverside Learning Trust"
    schools = {s.urn: s for s in db.session.scalars(select(School))}
    assert len(schools) == 3
    for demo_school in data.schools:
        school = schools[demo_school.spec.urn]
        assert (school.phase, school.la_code, school.estab, school.trust_id) == (
            demo_school.spec.phase, "823", demo_school.spec.estab, trust.id)
        count = lambda model: db.session.scalar(select(func.count()).select_from(model).where(model.school_id == school.id))  # noqa: E731
        assert count(Pupil) == len(demo_school.pupils)
        assert count(Contact) == len(demo_school.contacts)
        assert count(Mark) == len(demo_school.marks)
        assert _marks_digest(school.id) == _generated_digest(demo_school)
        batch = db.session.scalar(select(ImportBatch).where(ImportBatch.school_id == school.id))
        assert batch.status == "completed" and batch.added == len(demo_school.marks)
    links = db.session.scalar(select(func.count()).select_from(PupilContact))
    assert links == sum(len(c.links) for s in data.schools for c in s.contacts)


def test_figures_from_the_database_are_near_the_national_ones(loaded) -> None:
    for school in db.session.scalars(select(School)):
        figures = school_measures(school.id, *LAST_YEAR)
        band = BANDS[school.phase]
        assert band["absence"][0] <= figures.absence_pct <= band["absence"][1], (school.phase, figures.absence_pct)
        assert band["pa"][0] <= figures.persistent_absence_pct <= band["pa"][1], (school.phase, figures.persistent_absence_pct)
        assert figures.authorised > figures.unauthorised > 0
        assert figures.late > 0
        if school.phase != "special":
            fsm = school_measures(school.id, *LAST_YEAR, pupil_filter=PupilFilter(fsm=True))
            other = school_measures(school.id, *LAST_YEAR, pupil_filter=PupilFilter(fsm=False))
            assert fsm.absence_pct > other.absence_pct
        # This year so far has figures too, read from the rollups the load rebuilt.
        now = school_measures(school.id, date(2026, 9, 1), date(2026, 12, 1))
        assert now.enrolments > 0 and now.possible > 0


def test_accounts_sign_in_with_the_demo_password(tiny, app: Flask, client) -> None:
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert {u.role for u in users.values()} == {"admin", "trust_lead", "head", "attendance_officer"}
    officer = users["attendance@riverside.example"]
    assert sorted(s.phase for s in officer.schools) == ["primary", "secondary"]
    assert users["trust.lead@riverside.example"].trust.name == "Riverside Learning Trust"
    assert [s.phase for s in users["head@riverside-primary.example"].schools] == ["primary"]
    assert tiny.password == "riverside-demo-only" and not tiny.password_from_env
    with fast_password_hashing(app):
        response = sign_in(client, "attendance@riverside.example", tiny.password)
    assert response.status_code == 302
    assert "/login" not in response.headers["Location"]


def test_default_templates_for_every_school(tiny) -> None:
    for school in db.session.scalars(select(School)):
        names = set(db.session.scalars(select(MessageTemplate.name).where(MessageTemplate.school_id == school.id)))
        assert "first_day_absence" in names


def test_password_from_the_environment_and_a_bad_one_refused(app: Flask) -> None:
    app.config["OUTREACH_DEMO_PASSWORD"] = "short"
    try:
        with pytest.raises(UserError) as err:
            load_demo(SEED, scale=0.05, now=NOW)
        assert "OUTREACH_DEMO_PASSWORD" in err.value.message
        assert db.session.scalar(select(func.count()).select_from(School)) == 0  # nothing written
        app.config["OUTREACH_DEMO_PASSWORD"] = "a long local demo phrase"
        with fast_password_hashing(app):
            report = load_demo(SEED, scale=0.05, now=NOW)
        assert report.password_from_env and report.password == "a long local demo phrase"
    finally:
        app.config["OUTREACH_DEMO_PASSWORD"] = None


def test_registered_steps_run_after_the_core_data_in_order(app: Flask) -> None:
    seen: list[tuple[str, object]] = []

    def second(ctx: steps.DemoContext) -> str:
        seen.append(("second", ctx.random("x").random()))
        return "made 0 things"

    def first(ctx: steps.DemoContext) -> None:
        pupil_id = ctx.pupil_ids["primary"][0]
        assert db.session.get(Pupil, pupil_id).upn == ctx.data.school("primary").pupils[0].upn
        assert ctx.schools["special"].phase == "special" and ctx.today == date(2026, 12, 1)
        assert ctx.user_ids["admin@riverside.example"]
        seen.append(("first", None))

    steps.register_demo_step("zz test second", second, order=5)
    steps.register_demo_step("test first", first, order=1)
    steps.register_demo_step("test first", first, order=1)  # importing twice is harmless
    try:
        with pytest.raises(ValueError):
            steps.register_demo_step("test first", second)
        with fast_password_hashing(app):
            report = load_demo(SEED, scale=0.05, now=NOW)
        assert [name for name, _ in seen] == ["first", "second"]
        assert ("zz test second", "made 0 things") in report.steps
        # Deterministic per seed: the same draw as a fresh context would make.
        assert seen[1][1] == __import__("random").Random(f"{SEED}:step:x").random()
    finally:
        steps.unregister_demo_step("zz test second")
        steps.unregister_demo_step("test first")


def test_a_failing_step_is_reported_by_name(app: Flask) -> None:
    def broken(ctx: steps.DemoContext) -> None:
        raise RuntimeError("no routes table")

    steps.register_demo_step("test broken", broken)
    try:
        with fast_password_hashing(app), pytest.raises(UserError) as err:
            load_demo(SEED, scale=0.05, now=NOW)
        assert "test broken" in err.value.message and "no routes table" in err.value.message
        assert db.session.scalar(select(func.count()).select_from(School)) == 3  # the core data stays
    finally:
        steps.unregister_demo_step("test broken")


def test_cli_if_empty_loads_once_and_then_leaves_the_database_alone(app: Flask, runner) -> None:
    with fast_password_hashing(app):
        first = runner.invoke(args=["demo", "--if-empty", "--scale", "0.05", "--seed", "3", "--as-of", "2026-12-01T11:00"])
        assert first.exit_code == 0, first.output
        assert "demo loaded: Riverside Learning Trust" in first.output
        assert "riverside-demo-only" in first.output and "attendance@riverside.example" in first.output
        counts = db.session.scalar(select(func.count()).select_from(Mark))
        again = runner.invoke(args=["demo", "--if-empty", "--scale", "0.05"])
        assert again.exit_code == 0 and "demo data not loaded" in again.output
        refused = runner.invoke(args=["demo", "--scale", "0.05"])
    assert refused.exit_code == 1
    assert "already loaded" in refused.output and "149801" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Mark)) == counts
    assert db.session.scalar(select(func.count()).select_from(School)) == 3


def test_cli_if_empty_skips_when_any_school_exists(runner) -> None:
    from tests.factories import make_school

    make_school(urn="100001")
    db.session.commit()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and "demo data not loaded" in result.output
    assert db.session.scalar(select(func.count()).select_from(School)) == 1


def test_cli_refuses_a_bad_as_of(runner) -> None:
    result = runner.invoke(args=["demo", "--as-of", "yesterday"])
    assert result.exit_code == 1 and "--as-of" in result.output
    result = runner.invoke(args=["demo", "--as-of", "2026-06-01T12:00"])
    assert result.exit_code == 1 and "September 2026" in result.output
    assert db.session.scalar(select(func.count()).select_from(School)) == 0


def test_feature_demo_modules_are_found_and_their_steps_run(app: Flask, tmp_path, monkeypatch) -> None:
    """A feature plugs in by adding outreach/<feature>/demo.py: nothing in outreach/demo changes."""
    import sys

    import outreach

    feature = tmp_path / "demo_test_feature"
    feature.mkdir()
    (feature / "__init__.py").write_text("")
    (feature / "demo.py").write_text(
        "from outreach.demo.steps import register_demo_step\n"
        "def add(ctx):\n"
        "    return f\"{len(ctx.pupil_ids['special'])} special pupils seen\"\n"
        "register_demo_step('test feature rows', add, order=50)\n")
    monkeypatch.setattr(outreach, "__path__", [*outreach.__path__, str(tmp_path)])
    try:
        assert "outreach.demo_test_feature.demo" in steps.discover_feature_steps()
        with fast_password_hashing(app):
            report = load_demo(SEED, scale=0.05, now=NOW)
        summary = dict(report.steps)["test feature rows"]
        assert summary == f"{db.session.scalar(select(func.count()).select_from(Pupil).join(School).where(School.phase == 'special'))} special pupils seen"
    finally:
        steps.unregister_demo_step("test feature rows")
        for name in ("outreach.demo_test_feature.demo", "outreach.demo_test_feature"):
            sys.modules.pop(name, None)


def test_interventions_tasks_and_the_parent_group_steps_ran(loaded) -> None:
    from outreach.attendance.queries import persistent_absence_list
    from outreach.core.timeutil import academic_year_start
    from outreach.interventions.models import Intervention, InterventionPupil, Task
    from outreach.parent_groups.models import ParentGroup, ParentGroupMeeting, ParentGroupMember

    summaries = dict(loaded.steps)
    assert summaries["parent groups"].startswith("1 parent group, 8 members, 2 meetings")
    assert "interventions logged" in summaries["interventions and tasks"]
    names = [name for name, _ in loaded.steps]
    assert names.index("parent groups") < names.index("interventions and tasks")
    today = NOW.date()
    [group] = db.session.scalars(select(ParentGroup))
    primary = db.session.get(School, group.school_id)
    assert (group.name, group.weekday, group.start_time.strftime("%H:%M"), primary.phase) == (
        "Brew and Biscuits", 4, "08:45", "primary")
    assert db.session.scalar(select(func.count()).select_from(ParentGroupMember)) == 8
    meetings = list(db.session.scalars(select(ParentGroupMeeting).order_by(ParentGroupMeeting.date)))
    assert [m.date.weekday() for m in meetings] == [4, 4, 4]
    past = [m for m in meetings if m.date < today]
    assert len(past) == 2 and all(m.attendance_recorded_at and m.attendees for m in past)
    assert not meetings[-1].attendees and meetings[-1].date > today
    for school in db.session.scalars(select(School)):
        flagged = {p.pupil_id for p in persistent_absence_list(school.id, academic_year_start(today), today)}
        rows = list(db.session.execute(select(Intervention.type, InterventionPupil.pupil_id).join(
            InterventionPupil, InterventionPupil.intervention_id == Intervention.id).where(
            Intervention.school_id == school.id, Intervention.type != "walking_bus_place")))  # the walking-bus step's
        assert flagged and {t for t, _ in rows} == {"first_day_call", "letter", "attendance_meeting"}, school.phase
        assert {p for _, p in rows} <= flagged  # logged only for pupils in persistent absence
        assert db.session.scalar(select(func.count()).select_from(Task).where(Task.school_id == school.id)) > 0


def test_demo_schools_have_their_closures_from_today(loaded) -> None:
    from outreach.schools.closures import closed_days, closures_of

    assert dict(loaded.steps)["school closures"] == "9 closures at each of 3 schools"
    names = [name for name, _ in loaded.steps]
    assert names.index("school closures") < names.index("parent groups")
    for school in db.session.scalars(select(School)):
        rows = closures_of(school.id)
        assert [(r.first_day, r.last_day, r.reason) for r in rows][:2] == [
            (date(2026, 12, 21), date(2027, 1, 1), "Christmas holidays"), (date(2027, 1, 4), date(2027, 1, 4), "INSET day")]
        # Exactly the weekdays the demo's own calendar has no pupils on, from today to the summer.
        from outreach.demo.calendar import YEAR_2026_27, DayKind
        span = [NOW.date() + timedelta(days=n) for n in range((YEAR_2026_27.end - NOW.date()).days + 1)]
        expected = {d for d in span if d.weekday() < 5 and YEAR_2026_27.kind(d) is not DayKind.PUPIL}
        assert {d for d in closed_days(school.id, NOW.date(), YEAR_2026_27.end) if d.weekday() < 5} == expected


def test_demo_walking_buses_run_with_places_ambassadors_rotas_and_check_ins(loaded) -> None:
    from outreach.attendance.codes import Category, classify
    from outreach.messaging.models import OutboxMessage
    from outreach.registers.models import Mark
    from outreach.walking_bus import services as wb
    from outreach.walking_bus.models import (Ambassador, WalkingBusEnrolment, WalkingBusRoute, WalkingBusWalk,
                                             WalkingBusWalkPupil)

    summary = dict(loaded.steps)["walking buses"]
    assert summary.startswith("2 walking bus routes,") and "6 ambassadors" in summary
    routes = list(db.session.scalars(select(WalkingBusRoute).order_by(WalkingBusRoute.id)))
    assert [r.name for r in routes] == ["Riverside Estate", "Park Road"]
    assert {db.session.get(School, r.school_id).phase for r in routes} == {"primary"}
    places = list(db.session.scalars(select(WalkingBusEnrolment)))
    assert places and all(p.consent_by and p.consent_method == "written" and not p.notify_arrival for p in places)
    assert db.session.scalar(select(func.count()).select_from(Ambassador)) == 6
    this_week = wb.get_week(routes[0].school_id, wb.week_start(NOW.date()))
    assert this_week is not None and wb.week_assignments(this_week)
    # Every checked-in child was in school that morning by the register, and no SMS was queued by it.
    walked = db.session.execute(select(WalkingBusWalk.date, WalkingBusWalkPupil.pupil_id).join(
        WalkingBusWalkPupil, WalkingBusWalkPupil.walk_id == WalkingBusWalk.id)).all()
    assert walked and all(d < NOW.date() for d, _ in walked)
    for day, pupil_id in walked[:50]:
        code = db.session.scalar(select(Mark.code).where(Mark.pupil_id == pupil_id, Mark.date == day, Mark.session == "AM"))
        assert classify(code, day) is Category.PRESENT
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.purpose.like("walking_bus%"))) == 0
