"""Routes, places, the stored rota, CANT by text end to end, schedules across clock changes,
reminders, check-ins (real database, real outbox)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import to_london
from outreach.extensions import db
from outreach.interventions.models import Intervention
from outreach.messaging.inbound import InboundSms, dispatch
from outreach.messaging.models import OptOut, OutboxMessage
from outreach.walking_bus import jobs, services
from outreach.walking_bus.models import AmbassadorAbsence, RotaAssignment, WalkingBusAlert, WalkingBusWalk
from outreach.walking_bus.queries import check_in_view, stop_times, week_calendar
from tests.factories import add_marks, make_contact, make_pupil, make_school
from tests.walking_bus.builders import CONSENT_AT, enrol_children, make_ambassador, make_route

MONDAY = date(2026, 3, 2)


def outbox(prefix: str = "wb-") -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like(prefix + "%"))
                                   .order_by(OutboxMessage.id)))


def sms(phone: str, body: str, at: datetime) -> InboundSms:
    return InboundSms(message_sid=f"SM{abs(hash((phone, body, at))) % 10**12}", phone=phone, body=body, received_at=at)


# --- routes and places ---------------------------------------------------------------------------

def test_route_stops_and_pickup_times(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school)
    services.add_stop(school, route.id, name="Bakery", minutes_to_next=3, position=1)
    assert [(s.name, s.pickup) for s in stop_times(route)] == [
        ("Bakery", time(8, 15)), ("Library", time(8, 18)), ("Park gate", time(8, 23)), ("Corner shop", time(8, 30))]


def test_route_validation_names_every_problem(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    make_route(school, "Green Lane")
    with pytest.raises(UserError) as err:
        services.create_route(school, name="Green Lane", days="mon,sun", start_date=MONDAY, arrival_time=time(8, 40),
                              end_date=MONDAY - timedelta(days=1), max_children=0)
    details = " | ".join(err.value.details)
    for words in ("already has a route", "unknown school day 'sun'", "end date is before", "maximum number"):
        assert words in details


def test_enrolment_needs_consent_and_respects_capacity(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, max_children=2)
    enrol_children(school, route, 2)
    third = make_pupil(school)
    with pytest.raises(UserError) as err:
        services.enrol(school, route.id, pupil_id=third.id, stop_id=route.stops[0].id, start_date=MONDAY,
                       consent_by="Ms Khan", consent_method="written", now=CONSENT_AT + timedelta(days=1))
    assert "the route is full: 2 children" in err.value.details[0]
    with pytest.raises(UserError) as err:
        services.enrol(school, route.id, pupil_id=third.id, stop_id=route.stops[0].id, start_date=MONDAY,
                       consent_by=" ", consent_method="shouted")
    assert any("who gave consent" in d for d in err.value.details) and any("how was consent" in d for d in err.value.details)
    # A place that ends frees the route from the day after.
    first = services.enrolments_on(route.id, MONDAY)[0]
    services.end_enrolment(school, first.id, MONDAY)
    services.enrol(school, route.id, pupil_id=third.id, stop_id=route.stops[0].id, start_date=MONDAY + timedelta(days=1),
                   consent_by="Ms Khan", consent_method="phone", now=CONSENT_AT + timedelta(days=70))
    assert len(services.enrolments_on(route.id, MONDAY + timedelta(days=1))) == 2
    # Each place is logged as an intervention, so the timeline and "what works here" see it.
    assert db.session.scalar(select(func.count()).select_from(Intervention).where(
        Intervention.type == "walking_bus_place")) == 3


def test_capacity_counts_places_held_on_the_same_days(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, max_children=2)
    a, b, c, d = (make_pupil(school) for _ in range(4))

    def place(pupil, start, end=None):  # type: ignore[no-untyped-def]
        return services.enrol(school, route.id, pupil_id=pupil.id, stop_id=route.stops[0].id, start_date=start,
                              end_date=end, consent_by="Parent", consent_method="written", now=CONSENT_AT + timedelta(days=400))

    place(a, date(2026, 1, 5), date(2026, 1, 30))
    place(b, date(2026, 2, 2))
    place(c, date(2026, 1, 5))  # a and b never overlap: at most 2 on any day
    for start in (date(2026, 1, 26), date(2026, 3, 2)):  # a and c on 26 Jan; b and c from February
        with pytest.raises(UserError) as err:
            place(d, start)
        assert err.value.details == ["the route is full: 2 children is its maximum"]


def test_other_schools_rows_are_not_found(db) -> None:  # type: ignore[no-untyped-def]
    school, other = make_school(), make_school(urn="100009", name="Other")
    route = make_route(other)
    pupil = make_pupil(school)
    with pytest.raises(NotFound):
        services.get_route(school.id, route.id)
    with pytest.raises(NotFound):
        services.enrol(other, route.id, pupil_id=pupil.id, stop_id=route.stops[0].id, start_date=MONDAY,
                       consent_by="X", consent_method="written")


# --- rota --------------------------------------------------------------------------------------------

def test_generated_rota_covers_need_and_flags_gaps_at_once(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon,wed")
    enrol_children(school, route, 13)  # 3 adults needed
    a, b, c = (make_ambassador(school, f"Amb {n}", days=d) for n, d in ((1, "mon,wed"), (2, "mon,wed"), (3, "mon")))
    result = services.generate_rota(school, MONDAY, by="test", now=datetime(2026, 2, 26, 12, tzinfo=timezone.utc))
    assert [(g.day, g.short) for g in result.gaps] == [(MONDAY + timedelta(days=2), 1)]
    alerts = list(db.session.scalars(select(WalkingBusAlert).where(WalkingBusAlert.kind == "gap")))
    assert [a.text for a in alerts] == ["Green Lane on Wed 4 Mar is short by 1 adult (2 of 3)"]
    cal = week_calendar(school.id, MONDAY)
    assert [(c.day, c.short) for c in cal.gaps] == [(MONDAY + timedelta(days=2), 1)]
    # The officer fills the gap: the alert resolves.
    d = make_ambassador(school, "Amb 4", days="wed")
    services.assign(school, route.id, MONDAY + timedelta(days=2), d.id, by="officer")
    assert db.session.scalar(select(WalkingBusAlert.resolved_at).where(WalkingBusAlert.kind == "gap")) is not None
    # Never on two routes the same morning, even by hand.
    second = make_route(school, "Mill Road", days="mon")
    enrol_children(school, second, 1)
    with pytest.raises(UserError, match="cannot be assigned"):
        services.assign(school, second.id, MONDAY, a.id, by="officer")


def test_regenerating_keeps_officer_edits(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon")
    enrol_children(school, route, 3)
    ambs = [make_ambassador(school, f"Amb {n}", days="mon") for n in range(4)]
    services.assign(school, route.id, MONDAY, ambs[3].id, by="officer")
    result = services.generate_rota(school, MONDAY, replace=True)
    pairs = {(a.ambassador_id, a.source) for a in services.week_assignments(result.week)}
    assert (ambs[3].id, "officer") in pairs and len(pairs) == 2 and not result.gaps


# --- CANT by text, end to end ----------------------------------------------------------------------

def test_cant_reply_marks_unavailable_substitutes_and_tells_everyone(app, db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon,tue")
    enrol_children(school, route, 6)
    walker = make_ambassador(school, "Sam Walker", days="mon,tue", number="+447700900501")
    other = make_ambassador(school, "Jo Other", days="mon,tue", number="+447700900502")
    spare = make_ambassador(school, "Lee Spare", days="mon", number="+447700900503")
    services.generate_rota(school, MONDAY, now=datetime(2026, 2, 26, 12, tzinfo=timezone.utc))
    week = services.get_week(school.id, MONDAY)
    # Tuesday is scarcest (two free adults for two places), so walker and other walk it; Monday
    # then goes to the lightest loads: spare, and walker before other by id.
    assert {(a.date, a.ambassador_id) for a in services.week_assignments(week)} == {
        (MONDAY, spare.id), (MONDAY, walker.id), (MONDAY + timedelta(days=1), walker.id),
        (MONDAY + timedelta(days=1), other.id)}
    assert jobs.send_weekly_schedules(datetime(2026, 3, 1, 18, 0, tzinfo=timezone.utc)) == 3
    before = len(outbox())

    outcome = dispatch(sms("+447700900501", "Can't mon", datetime(2026, 3, 1, 20, 30, tzinfo=timezone.utc)))
    assert outcome is not None and outcome.handler == "walking_bus" and outcome.to_inbox
    assert outcome.reply == "Thanks, noted you can't walk Mon 2 Mar. Cover is arranged."
    assert db.session.scalar(select(AmbassadorAbsence.date).where(AmbassadorAbsence.ambassador_id == walker.id)) == MONDAY
    monday_people = {a.ambassador_id for a in db.session.scalars(
        select(RotaAssignment).where(RotaAssignment.date == MONDAY))}
    assert monday_people == {spare.id, other.id}
    notices = outbox()[before:]
    assert [m.phone for m in notices if m.purpose == "walking_bus_change"] == ["+447700900501", "+447700900502"]
    sub_text = next(m.body for m in notices if m.phone == "+447700900502")
    assert "rota change" in sub_text and "Mon 2 Mar Green Lane: Library 08:18, 6 children" in sub_text
    own_text = next(m.body for m in notices if m.phone == "+447700900501")
    assert "Mon 2 Mar" not in own_text and "Tue 3 Mar Green Lane" in own_text
    # Sunday 20:30 is inside the night window: the notices wait until 08:00 Monday, never sent at night.
    assert all(to_london(m.not_before).time() == time(8, 0) for m in notices)
    alert = db.session.scalar(select(WalkingBusAlert).where(WalkingBusAlert.kind == "cant"))
    assert "a substitute was assigned and told" in alert.text
    # The same text again changes nothing and sends nothing new.
    dispatch(sms("+447700900501", "Can't mon", datetime(2026, 3, 1, 20, 31, tzinfo=timezone.utc)))
    assert len(outbox()) == before + len(notices)


def test_cant_without_substitute_leaves_a_gap_for_the_officer(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="tue")
    enrol_children(school, route, 4)
    make_ambassador(school, "A One", days="tue", number="+447700900601")
    make_ambassador(school, "B Two", days="tue", number="+447700900602")
    services.generate_rota(school, MONDAY)
    outcome = dispatch(sms("+447700900601", "CANT TUESDAY", datetime(2026, 3, 2, 9, tzinfo=timezone.utc)))
    assert outcome.reply.endswith("We've told the school so they can find cover.")
    texts = [a.text for a in db.session.scalars(select(WalkingBusAlert).where(WalkingBusAlert.resolved_at.is_(None)))]
    assert "Green Lane on Tue 3 Mar is short by 1 adult (1 of 2)" in texts
    assert any("no substitute is free" in t for t in texts)


def test_replies_from_non_ambassadors_and_unknown_words(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    make_contact(school, [make_pupil(school)], name="A Parent", phone="+447700900700")
    make_ambassador(school, "Sam Walker", number="+447700900701")
    assert dispatch(sms("+447700900700", "CANT MON", datetime(2026, 3, 1, 12, tzinfo=timezone.utc))) is None
    assert dispatch(sms("+447700900999", "DONE", datetime(2026, 3, 1, 12, tzinfo=timezone.utc))) is None
    outcome = dispatch(sms("+447700900701", "what time tomorrow?", datetime(2026, 3, 1, 12, tzinfo=timezone.utc)))
    assert outcome.to_inbox and "CANT MON" in outcome.reply and "DONE" in outcome.reply and "COUNT 7" in outcome.reply


def test_done_and_count_check_the_walk_in(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon")
    enrol_children(school, route, 5)
    make_ambassador(school, "A One", days="mon", number="+447700900801")
    make_ambassador(school, "B Two", days="mon", number="+447700900802")
    services.generate_rota(school, MONDAY)
    at = datetime(2026, 3, 2, 8, 41, tzinfo=timezone.utc)
    outcome = dispatch(sms("+447700900801", "done", at))
    assert outcome.reply == "Thanks! Green Lane checked in at school at 08:41." and not outcome.to_inbox
    dispatch(sms("+447700900802", "ARRIVED", at + timedelta(minutes=2)))  # the first report's time stands
    dispatch(sms("+447700900802", "count 5", at + timedelta(minutes=3)))
    walk = db.session.scalar(select(WalkingBusWalk))
    assert (walk.reported_count, walk.arrived_at.replace(tzinfo=timezone.utc)) == (5, at)
    # Not on the rota today: nothing recorded, the officer sees it.
    off = dispatch(sms("+447700900801", "DONE", at + timedelta(days=1)))
    assert off.to_inbox and "not on the walking bus rota today" in off.reply


# --- schedules and reminders across the clock changes ------------------------------------------------

@pytest.mark.parametrize("monday,due_utc", [
    (date(2026, 3, 23), datetime(2026, 3, 22, 18, 0, tzinfo=timezone.utc)),  # GMT
    (date(2026, 3, 30), datetime(2026, 3, 29, 17, 0, tzinfo=timezone.utc)),  # clocks went forward that morning
    (date(2026, 10, 19), datetime(2026, 10, 18, 17, 0, tzinfo=timezone.utc)),  # BST
    (date(2026, 10, 26), datetime(2026, 10, 25, 18, 0, tzinfo=timezone.utc)),  # clocks went back that morning
])
def test_weekly_schedule_at_sunday_18_london_across_clock_changes(db, monday: date, due_utc: datetime) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon,wed")
    enrol_children(school, route, 4)
    make_ambassador(school, "A One", number="+447700900901")
    make_ambassador(school, "B Two", number="+447700900902")
    assert jobs.send_weekly_schedules(due_utc - timedelta(minutes=1)) == 0
    assert jobs.send_weekly_schedules(due_utc) == 2
    assert jobs.send_weekly_schedules(due_utc + timedelta(minutes=15)) == 0  # once per week
    rows = outbox("wb-schedule:")
    assert len(rows) == 2
    for row in rows:
        sent_at = row.not_before.replace(tzinfo=timezone.utc)
        assert sent_at == due_utc and to_london(sent_at).strftime("%a %H:%M") == "Sun 18:00"
        assert f"week from {monday.day} {monday:%b}" in row.body and "children" in row.body
        assert row.idempotency_key.startswith("wb-schedule:") and f":{monday.isocalendar()[0]}-W" in row.idempotency_key


def test_reminders_the_evening_before_not_twice(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon,tue")
    enrol_children(school, route, 4)
    make_ambassador(school, "A One", number="+447700900951")
    make_ambassador(school, "B Two", number="+447700900952")
    jobs.send_weekly_schedules(datetime(2026, 3, 29, 17, 0, tzinfo=timezone.utc))
    # Sunday evening: Monday's walk was just in the schedule, so no separate reminder.
    assert jobs.send_reminders(datetime(2026, 3, 29, 17, 5, tzinfo=timezone.utc)) == 0
    # Monday 18:00 BST = 17:00 UTC: Tuesday's reminder.
    assert jobs.send_reminders(datetime(2026, 3, 30, 16, 59, tzinfo=timezone.utc)) == 0
    assert jobs.send_reminders(datetime(2026, 3, 30, 17, 0, tzinfo=timezone.utc)) == 2
    assert jobs.send_reminders(datetime(2026, 3, 30, 19, 0, tzinfo=timezone.utc)) == 2  # same keys: no new rows
    rows = outbox("wb-remind:")
    assert len(rows) == 2 and all("reminder: walking bus Tue 31 Mar Green Lane" in r.body for r in rows)


def test_opted_out_ambassador_is_not_texted_and_the_officer_sees_why(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon")
    enrol_children(school, route, 2)
    make_ambassador(school, "A One", number="+447700900961")
    make_ambassador(school, "B Two", number="+447700900962")
    db.session.add(OptOut(phone="+447700900962", keyword="STOP"))
    db.session.commit()
    jobs.send_weekly_schedules(datetime(2026, 3, 1, 18, 0, tzinfo=timezone.utc))
    assert [r.phone for r in outbox("wb-schedule:")] == ["+447700900961"]
    reasons = {a.contact.name: services.texting_problem(a) for a in services.ambassadors_of(school.id)}
    assert reasons == {"A One": None, "B Two": "replied STOP (opted out of texts)"}


# --- check-ins -------------------------------------------------------------------------------------

def test_check_in_beside_register_flags_missing_children_and_texts_parents(db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    route = make_route(school, days="mon")
    walked, absent, came_by_car = enrol_children(school, route, 3, notify=True)
    add_marks(walked, [(MONDAY, "AM", "/")])
    add_marks(came_by_car, [(MONDAY, "AM", "L")])
    add_marks(absent, [(MONDAY, "AM", "N")])
    at = datetime(2026, 3, 2, 8, 45, tzinfo=timezone.utc)
    services.check_in(school, route.id, MONDAY, [walked.id], by="office", now=at)
    view = check_in_view(school.id, route, MONDAY)
    rows = {r.pupil.id: r for r in view.rows}
    assert rows[walked.id].walked and rows[walked.id].am_code == "/" and not rows[walked.id].flagged
    assert not rows[came_by_car.id].walked and rows[came_by_car.id].arrived and not rows[came_by_car.id].flagged
    assert rows[absent.id].flagged and rows[absent.id].am_code == "N"
    texts = outbox("wb-arrived:")
    assert len(texts) == 1 and "arrived at school safely with the Green Lane walking bus at 08:45" in texts[0].body
    assert texts[0].pupil_ids == [walked.id]
    # Ticking again (plus one more) texts only the newly ticked child's parent.
    services.check_in(school, route.id, MONDAY, [walked.id, came_by_car.id], by="office", now=at)
    assert len(outbox("wb-arrived:")) == 2
    with pytest.raises(UserError, match="only children with a place"):
        services.check_in(school, route.id, MONDAY, [make_pupil(school).id], by="office")
