"""Every rule on constructed registers, evaluated through the real service and database."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.interventions import services
from outreach.interventions.models import Task
from outreach.schools.models import School
from tests.factories import make_pupil
from tests.interventions.builders import absent_on, nth_school_day_after, school_days, write_register


def _tasks(rule: str | None = None, pupil=None) -> list[Task]:
    stmt = select(Task).order_by(Task.id)
    if rule:
        stmt = stmt.where(Task.rule == rule)
    if pupil is not None:
        stmt = stmt.where(Task.pupil_id == pupil.id)
    return list(db.session.scalars(stmt))


def _evaluate(school: School, as_of: date):
    now = datetime(as_of.year, as_of.month, as_of.day, 18, 0, tzinfo=timezone.utc)
    return services.evaluate_rules(school, as_of, now=now)


def _only(school: School, **enabled: bool) -> None:
    """Turn every rule off except those named, so each test sees one rule's tasks."""
    from outreach.interventions.vocabulary import REGISTER_RULES
    services.update_rule_settings(school, {r: enabled.get(r, False) for r in REGISTER_RULES}, "test")


# --- first-day contact ------------------------------------------------------------------------

def test_first_day_contact_due_for_an_unexplained_absence_today(school):
    _only(school, first_day_contact=True)
    absent, present, contacted = make_pupil(school), make_pupil(school), make_pupil(school)
    today = date(2024, 11, 12)
    write_register(school, {absent: {today: ("N", "N")}, present: {}, contacted: {today: ("N", "N")}},
                   end=today)
    services.log_intervention(school, type="first_day_call", pupil_ids=[contacted.id], recorded_by="Ms Office",
                              occurred_at=datetime(2024, 11, 12, 9, 30, tzinfo=timezone.utc),
                              now=datetime(2024, 11, 12, 10, tzinfo=timezone.utc))
    result = _evaluate(school, today)
    assert [(t.pupil_id, t.episode_key) for t in result.created] == [(absent.id, "2024-11-12")]
    task = result.created[0]
    assert "no contact" in task.summary and "Contact the family today" in task.next_step


def test_first_day_contact_is_one_task_for_a_continuing_absence(school):
    _only(school, first_day_contact=True)
    pupil = make_pupil(school)
    day1, day2 = date(2024, 11, 12), date(2024, 11, 13)
    write_register(school, {pupil: {day1: ("N", "N"), day2: ("N", "N")}}, end=day2)
    _evaluate(school, day1)
    _evaluate(school, day2)
    assert [t.episode_key for t in _tasks("first_day_contact")] == ["2024-11-12"]


def test_first_day_contact_not_due_when_the_absence_is_explained_or_present(school):
    _only(school, first_day_contact=True)
    ill, late = make_pupil(school), make_pupil(school)
    today = date(2024, 11, 12)
    write_register(school, {ill: {today: ("I", "I")}, late: {today: ("L", "\\")}}, end=today)
    assert _evaluate(school, today).created == []


# --- N codes not resolved ---------------------------------------------------------------------

def test_n_code_overdue_after_five_school_days_across_half_term(school):
    _only(school, n_code_overdue=True)
    pupil = make_pupil(school)
    n_day = date(2024, 10, 25)  # last Friday before October half term
    write_register(school, {pupil: {n_day: ("N", "\\")}}, end=date(2024, 11, 12))
    assert nth_school_day_after(n_day, 5) == date(2024, 11, 8)
    assert _evaluate(school, date(2024, 11, 8)).created == []  # 5th school day: still in time
    created = _evaluate(school, date(2024, 11, 11)).created
    assert [(t.rule, t.episode_key) for t in created] == [("n_code_overdue", "2024-10-25")]
    assert created[0].detail["sessions"] == 1


def test_n_code_recoded_in_time_makes_no_task(school):
    _only(school, n_code_overdue=True)
    pupil = make_pupil(school)
    write_register(school, {pupil: {date(2024, 10, 1): "I"}}, end=date(2024, 11, 12))
    assert _evaluate(school, date(2024, 11, 12)).created == []


# --- consecutive absence ----------------------------------------------------------------------

def test_three_consecutive_school_days_absent_make_one_task_however_long_the_run(school):
    _only(school, consecutive_absence=True)
    two, three = make_pupil(school), make_pupil(school)
    days = school_days(date(2024, 11, 11), date(2024, 11, 15))
    write_register(school, {two: absent_on(days[:2], "I"), three: absent_on(days, "I")}, end=days[-1])
    created = _evaluate(school, days[2]).created
    assert [(t.pupil_id, t.episode_key) for t in created] == [(three.id, "2024-11-11")]
    assert _evaluate(school, days[3]).created == [] and _evaluate(school, days[4]).created == []
    assert len(_tasks("consecutive_absence")) == 1


def test_consecutive_run_spans_a_weekend_and_a_half_term(school):
    _only(school, consecutive_absence=True)
    pupil = make_pupil(school)
    # Thu 24 Oct, Fri 25 Oct, (half term), Mon 4 Nov: three consecutive school days
    write_register(school, {pupil: absent_on([date(2024, 10, 24), date(2024, 10, 25), date(2024, 11, 4)], "O")},
                   end=date(2024, 11, 4))
    created = _evaluate(school, date(2024, 11, 4)).created
    assert [(t.episode_key, t.detail["school_days"]) for t in created] == [("2024-10-24", 3)]


def test_a_new_run_later_is_a_new_episode(school):
    _only(school, consecutive_absence=True)
    pupil = make_pupil(school)
    first = school_days(date(2024, 11, 11), date(2024, 11, 13))
    second = school_days(date(2024, 12, 2), date(2024, 12, 4))
    write_register(school, {pupil: absent_on(first + second, "I")}, end=date(2024, 12, 4))
    _evaluate(school, date(2024, 11, 13))
    _evaluate(school, date(2024, 11, 13))
    assert len(_tasks("consecutive_absence")) == 1
    _evaluate(school, date(2024, 12, 4))
    assert [t.episode_key for t in _tasks("consecutive_absence")] == ["2024-11-11", "2024-12-02"]


# --- persistent and severe absence ------------------------------------------------------------

def test_crossing_into_persistent_absence_uses_the_whole_number_rule(school):
    _only(school, persistent_absence=True, severe_absence=True)
    exactly_ten, just_under = make_pupil(school), make_pupil(school)
    days = school_days(date(2024, 9, 4), date(2024, 10, 15))  # 30 school days = 60 sessions
    assert len(days) == 30
    # 6 sessions of 60 missed = exactly 10.0%: persistently absent; 5 of 60 is not.
    write_register(school, {exactly_ten: absent_on(days[-3:], "I"),
                            just_under: {days[-3]: "I", days[-2]: "I", days[-1]: ("I", "\\")}}, end=days[-1])
    created = _evaluate(school, days[-1]).created
    assert [(t.pupil_id, t.rule) for t in created] == [(exactly_ten.id, "persistent_absence")]
    assert created[0].detail["absent_sessions"] == 6 and created[0].detail["possible_sessions"] == 60
    assert created[0].episode_key == "2024-10-14"  # the week it crossed
    assert "3 days missed" in created[0].summary


def test_persistent_absence_is_one_task_until_the_pupil_leaves_and_crosses_again(school):
    _only(school, persistent_absence=True)
    pupil = make_pupil(school)
    days = school_days(date(2024, 9, 4), date(2025, 2, 14))
    # absent the first 3 days (PA from the start), present for ages (drops out), then absent a lot in January
    plan = absent_on(days[10:14], "I")
    plan.update(absent_on(school_days(date(2025, 1, 13), date(2025, 1, 31)), "O"))
    write_register(school, {pupil: plan}, end=days[-1])
    _evaluate(school, date(2024, 9, 30))
    _evaluate(school, date(2024, 10, 1))
    assert [t.episode_key for t in _tasks("persistent_absence")] == ["2024-09-16"]
    assert _evaluate(school, date(2024, 12, 2)).created == []  # no longer PA: nothing
    _evaluate(school, date(2025, 2, 14))
    keys = [t.episode_key for t in _tasks("persistent_absence")]
    assert keys[0] == "2024-09-16" and len(keys) == 2 and keys[1] >= "2025-01-13"


def test_severe_absence(school):
    _only(school, severe_absence=True)
    pupil = make_pupil(school)
    days = school_days(date(2024, 9, 4), date(2024, 10, 4))
    write_register(school, {pupil: absent_on(days[5:], "O")}, end=days[-1])
    created = _evaluate(school, days[-1]).created
    assert [t.rule for t in created] == ["severe_absence"]


def test_no_pa_task_on_too_few_sessions(school):
    _only(school, persistent_absence=True)
    pupil = make_pupil(school)
    write_register(school, {pupil: {date(2024, 9, 4): "I"}}, end=date(2024, 9, 6))
    assert _evaluate(school, date(2024, 9, 6)).created == []


# --- attendance falling -----------------------------------------------------------------------

def test_attendance_drop_over_four_school_weeks(school):
    _only(school, attendance_drop=True)
    falling, steady = make_pupil(school), make_pupil(school)
    recent = school_days(date(2024, 11, 11), date(2024, 12, 6))  # the last 4 school weeks
    # one day a week absent in the last 4 weeks: 80% against 100% before
    plan = absent_on([d for d in recent if d.weekday() == 2], "I")
    write_register(school, {falling: plan, steady: {}}, start=date(2024, 9, 16), end=date(2024, 12, 6))
    created = _evaluate(school, date(2024, 12, 6)).created
    assert [(t.pupil_id, t.rule) for t in created] == [(falling.id, "attendance_drop")]
    assert created[0].detail == {"before_pct": 100.0, "recent_pct": 80.0, "weeks": 4}
    assert _evaluate(school, date(2024, 12, 6)).created == []


def test_attendance_drop_below_threshold_is_not_flagged(school):
    _only(school, attendance_drop=True)
    services.update_rule_settings(school, {"drop_points": 25}, "test")
    pupil = make_pupil(school)
    recent = school_days(date(2024, 11, 11), date(2024, 12, 6))
    write_register(school, {pupil: absent_on([d for d in recent if d.weekday() == 2], "I")},
                   start=date(2024, 9, 16), end=date(2024, 12, 6))
    assert _evaluate(school, date(2024, 12, 6)).created == []


# --- Monday / Friday pattern ------------------------------------------------------------------

def test_monday_friday_pattern(school):
    _only(school, monday_friday=True)
    pattern, spread = make_pupil(school), make_pupil(school)
    days = school_days(date(2024, 9, 9), date(2024, 12, 6))
    mondays_fridays = [d for d in days if d.weekday() in (0, 4)][::4]  # every other week, alternating
    tuesdays = [d for d in days if d.weekday() == 1][::2]
    write_register(school, {pattern: absent_on(mondays_fridays, "O"), spread: absent_on(tuesdays, "O")},
                   start=days[0], end=days[-1])
    created = _evaluate(school, days[-1]).created
    assert [(t.pupil_id, t.rule) for t in created] == [(pattern.id, "monday_friday")]
    assert created[0].detail["other_absent"] == 0 and created[0].detail["monday_friday_absent"] >= 4


def test_monday_friday_needs_a_minimum_count(school):
    _only(school, monday_friday=True)
    pupil = make_pupil(school)
    days = school_days(date(2024, 9, 9), date(2024, 12, 6))
    write_register(school, {pupil: absent_on([d for d in days if d.weekday() == 0][-3:], "O")},
                   start=days[0], end=days[-1])
    assert _evaluate(school, days[-1]).created == []


# --- penalty-notice threshold -----------------------------------------------------------------

def _penalty_only(school):
    _only(school, penalty_threshold=True)


def test_penalty_threshold_within_ten_school_weeks_across_october_half_term(school):
    _penalty_only(school)
    reached, nine = make_pupil(school), make_pupil(school)
    # one unauthorised session a week from 16 Sep to 29 Nov: 10 school weeks, 11 calendar weeks
    weekly = [d for d in school_days(date(2024, 9, 16), date(2024, 11, 29)) if d.weekday() == 3]
    assert len(weekly) == 10
    write_register(school, {reached: {d: ("G", "\\") for d in weekly},
                            nine: {d: ("U", "\\") for d in weekly[1:]}}, end=date(2024, 11, 29))
    created = _evaluate(school, date(2024, 11, 29)).created
    assert [(t.pupil_id, t.rule) for t in created] == [(reached.id, "penalty_threshold")]
    task = created[0]
    assert task.episode_key == "2024-11-28" and task.detail["window_start"] == "2024-09-16"
    assert task.detail["sessions"] == 10 and task.detail["first_session"] == "2024-09-19"
    assert "must CONSIDER" in task.next_step and "never automatic" in task.next_step


def test_penalty_window_counts_school_weeks_not_calendar_weeks_across_christmas(school):
    _penalty_only(school)
    pupil = make_pupil(school)
    # two N sessions a week for 5 school weeks either side of Christmas: 10 sessions over 7 calendar weeks... plus
    weeks = [date(2024, 12, 2), date(2024, 12, 9), date(2024, 12, 16), date(2025, 1, 6), date(2025, 1, 13)]
    plan = {w: ("N", "O") for w in weeks}
    write_register(school, {pupil: plan}, end=date(2025, 1, 17))
    created = _evaluate(school, date(2025, 1, 17)).created
    assert [(t.episode_key, t.detail["sessions"]) for t in created] == [("2025-01-13", 10)]


def test_penalty_window_spans_the_year_end(school):
    _penalty_only(school)
    pupil = make_pupil(school)
    # 6 unauthorised sessions in the last 3 weeks of the summer term, 4 in the first 2 weeks of the new year
    before = [date(2025, 7, 7), date(2025, 7, 14), date(2025, 7, 21)]
    after = [date(2025, 9, 8), date(2025, 9, 15)]
    plan = {d: ("G", "G") for d in before + after}
    write_register(school, {pupil: plan}, start=date(2025, 4, 22), end=date(2025, 9, 19))
    created = _evaluate(school, date(2025, 9, 19)).created
    # the 10 school weeks ending with the week of 15 Sep: 1 Sep (3 days) back to 9 Jun, skipping summer
    assert [(t.episode_key, t.detail["window_start"], t.detail["first_session"], t.detail["sessions"])
            for t in created] == [("2025-09-15", "2025-06-09", "2025-07-07", 10)]


def test_penalty_not_reached_when_the_sessions_span_eleven_school_weeks(school):
    _penalty_only(school)
    pupil = make_pupil(school)
    weekly = [d for d in school_days(date(2024, 9, 9), date(2024, 11, 29)) if d.weekday() == 3]
    assert len(weekly) == 11
    # sessions in school weeks 1 to 9 and 11: 10 sessions, but spread over 11 school weeks
    write_register(school, {pupil: {d: ("O", "\\") for d in weekly[:9] + weekly[10:]}}, end=date(2024, 11, 29))
    assert _evaluate(school, date(2024, 11, 29)).created == []


def test_penalty_counts_a_bank_holiday_week_as_a_school_week(school):
    _penalty_only(school)
    pupil = make_pupil(school)
    # Week of 5 May 2025 has 4 school days (Monday is a bank holiday): it is a school week.
    weekly = [d for d in school_days(date(2025, 3, 10), date(2025, 6, 13)) if d.weekday() == 2]
    assert len(weekly) == 11  # Easter and May half term skipped
    write_register(school, {pupil: {d: ("U", "\\") for d in weekly[1:]}}, start=date(2025, 2, 24), end=date(2025, 6, 13))
    created = _evaluate(school, date(2025, 6, 13)).created
    assert [(t.detail["window_start"], t.detail["sessions"]) for t in created] == [("2025-03-17", 10)]


def test_penalty_codes_classified_by_their_own_date(school):
    _penalty_only(school)
    pupil = make_pupil(school)
    # 10 sessions, but H (authorised holiday under the 2006 regulations) is not unauthorised
    days = school_days(date(2024, 6, 3), date(2024, 6, 7))
    plan = {d: ("H", "H") for d in days}
    write_register(school, {pupil: plan}, start=date(2024, 6, 3), end=date(2024, 6, 7))
    assert _evaluate(school, date(2024, 6, 7)).created == []


def test_penalty_sessions_counted_once_then_a_new_episode(school):
    _penalty_only(school)
    pupil = make_pupil(school)
    first = school_days(date(2024, 11, 11), date(2024, 11, 15))  # 10 sessions in one week
    second = school_days(date(2024, 12, 2), date(2024, 12, 6))
    write_register(school, {pupil: {**absent_on(first, "G"), **absent_on(second, "G")}}, end=date(2024, 12, 6))
    _evaluate(school, date(2024, 11, 15))
    for day in school_days(date(2024, 11, 18), date(2024, 11, 29)):
        _evaluate(school, day)
    assert [t.episode_key for t in _tasks("penalty_threshold")] == ["2024-11-15"]
    _evaluate(school, date(2024, 12, 6))
    assert [t.episode_key for t in _tasks("penalty_threshold")] == ["2024-11-15", "2024-12-06"]


# --- the service as a whole -------------------------------------------------------------------

def test_evaluating_twice_makes_no_second_task(school):
    pupil = make_pupil(school)
    days = school_days(date(2024, 11, 11), date(2024, 11, 15))
    write_register(school, {pupil: absent_on(days, "N")}, end=days[-1])
    first = _evaluate(school, days[-1])
    assert first.created
    assert _evaluate(school, days[-1]).created == []
    assert db.session.scalar(select(func.count()).select_from(Task)) == len(first.created)


def test_pupils_not_on_roll_get_no_tasks(school):
    left = make_pupil(school, leaving_date=date(2024, 11, 1))
    write_register(school, {left: absent_on(school_days(date(2024, 10, 21), date(2024, 10, 25)), "N")},
                   end=date(2024, 11, 12))
    assert _evaluate(school, date(2024, 11, 12)).created == []
