"""Demo step: give the Tasks page work and the log a history.

Runs after the walking buses and parent groups (order 40), so a rule that looks at those sees
them. For each demo school: logs a few interventions for pupils in persistent absence this
year (first-day calls, a letter, an attendance meeting, on school days of the last few weeks),
then runs the rules once as of the demo's today. Choices come from ``ctx.random`` so one seed
always gives the same rows; everything is written through ``outreach.interventions.services``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from outreach.attendance.queries import persistent_absence_list
from outreach.core.timeutil import LONDON, academic_year_start
from outreach.demo.steps import DemoContext, register_demo_step
from outreach.interventions import services

OFFICER = "Demo attendance officer"
CALL_OUTCOMES = ("spoke to parent: unwell", "no answer, voicemail left", "spoke to parent: medical appointment",
                 "no answer", "spoke to carer: will be in tomorrow")
CALLS_PER_SCHOOL = 4


def _school_day(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def log_demo_interventions(ctx: DemoContext) -> str:
    now = _at(ctx.today, 17, 0)
    logged = tasks = 0
    for key in sorted(ctx.schools):
        school = ctx.schools[key]
        rng = ctx.random("interventions", key)
        flagged = [p.pupil_id for p in persistent_absence_list(school.id, academic_year_start(ctx.today), ctx.today)]
        if flagged:
            chosen = rng.sample(flagged, min(len(flagged), CALLS_PER_SCHOOL))
            for pupil_id in chosen:
                day = _school_day(ctx.today - timedelta(days=rng.randint(1, 20)))
                services.log_intervention(school, type="first_day_call", pupil_ids=[pupil_id], recorded_by=OFFICER,
                                          occurred_at=_at(day, 9, rng.randint(5, 50)),
                                          outcome=rng.choice(CALL_OUTCOMES), now=now)
                logged += 1
            worst = chosen[0]
            letter_day = _school_day(ctx.today - timedelta(days=14))
            services.log_intervention(school, type="letter", pupil_ids=[worst], recorded_by=OFFICER,
                                      occurred_at=_at(letter_day, 15, 30), outcome="sent home by post",
                                      next_step="invite to an attendance meeting",
                                      next_step_date=letter_day + timedelta(days=7), now=now)
            meeting_day = _school_day(ctx.today - timedelta(days=5))
            services.log_intervention(school, type="attendance_meeting", pupil_ids=[worst], recorded_by=OFFICER,
                                      occurred_at=_at(meeting_day, 14, 0), outcome="parent attended; support plan agreed",
                                      next_step="review attendance in four weeks",
                                      next_step_date=meeting_day + timedelta(days=28), now=now)
            logged += 2
        tasks += len(services.evaluate_rules(school, ctx.today, now=now).created)
    return f"{logged} interventions logged, {tasks} tasks from the rules"


register_demo_step("interventions and tasks", log_demo_interventions, order=40)
