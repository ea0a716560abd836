"""The clock's job table: unique ids, references that resolve (or fail clearly), misfire and
coalesce set, and the schedule in London time across the March and October clock changes."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import Flask

from jobs import clock
from jobs.clock import JOBS, PENDING_WORK, ClockConfigError, JobSpec, every, resolve_table, weekly
from outreach.core.clock_lock import LeaseLock
from outreach.extensions import db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_ids_are_unique_and_every_enabled_reference_resolves(app: Flask) -> None:
    ids = [spec.id for spec in JOBS]
    assert len(ids) == len(set(ids))
    resolved = resolve_table(JOBS, app.config)
    assert {job.spec.id for job in resolved} == {"pending_work", "evaluate_rules", "referral_reviews", "weekly_digests",
                                                 "walking_bus_schedules", "walking_bus_reminders", "walking_bus_rotas",
                                                 "parent_group_reminders", "parent_group_meetings",
                                                 "send_due_messages", "enqueue_rule_texts"}
    for reference in PENDING_WORK:
        assert callable(clock.resolve(reference))
    # the lines for features on other branches stay in the table, named, until enabled
    assert all(s.enabled for s in JOBS)  # every feature's jobs are merged and on


def test_scheduler_jobs_have_misfire_grace_coalesce_and_one_instance(app: Flask) -> None:
    with app.app_context():
        lock = LeaseLock(db.engine, "table-test")
    scheduler = clock.Clock(app, resolve_table(JOBS, app.config), lock).build_scheduler()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {s.id for s in JOBS if s.enabled} | {"_clock_lock"}
    for job_id, job in jobs.items():
        assert job.coalesce is True and job.max_instances == 1, job_id
        if job_id != "_clock_lock":
            assert job.misfire_grace_time is not None and job.misfire_grace_time > 1, job_id
    assert jobs["weekly_digests"].misfire_grace_time >= 6 * 3600  # a clock down at 07:00 still sends that morning
    assert str(scheduler.timezone) == "Europe/London"


def test_a_missing_reference_stops_the_clock_with_every_problem_named(app: Flask) -> None:
    table = (
        JobSpec("a", "outreach.no_such_feature.jobs:send_reminders", every(minutes=5), 60),
        JobSpec("b", "outreach.interventions.jobs:no_such_function", every(minutes=5), 60),
        JobSpec("b", "outreach.interventions.jobs:evaluate_all", every(minutes=5), 1),
        JobSpec("c", "not a reference", every(minutes=5), 60),
    )
    with pytest.raises(ClockConfigError) as exc:
        resolve_table(table, app.config)
    message = str(exc.value)
    assert "job a: outreach.no_such_feature.jobs:send_reminders: module outreach.no_such_feature.jobs cannot be imported" in message
    assert "outreach.interventions.jobs has no no_such_function" in message
    assert "job id 'b' appears twice" in message
    assert "misfire_grace_seconds must be more than 1" in message
    assert "'not a reference' is not a 'package.module:function' reference" in message


def test_disabled_jobs_and_bad_settings(app: Flask) -> None:
    resolved = resolve_table(JOBS, {**app.config, "CLOCK_DISABLED_JOBS": "weekly_digests, evaluate_rules"})
    assert "weekly_digests" not in {j.spec.id for j in resolved}
    for settings, words in (({"CLOCK_DISABLED_JOBS": "typo"}, "names jobs that do not exist: typo"),
                            ({"DIGEST_TIME": "7am"}, "DIGEST_TIME must be a time of day HH:MM"),
                            ({"DIGEST_DAY": "someday"}, "DIGEST_DAY must be a day of the week"),
                            ({"CLOCK_EVALUATE_TIME": "24:00"}, "CLOCK_EVALUATE_TIME must be a time of day"),
                            ({"CLOCK_PENDING_SECONDS": 0}, "CLOCK_PENDING_SECONDS must be more than 0")):
        with pytest.raises(ClockConfigError, match=words):
            resolve_table(JOBS, {**app.config, **settings})


def _fires(trigger, start: datetime, n: int) -> list[datetime]:  # type: ignore[no-untyped-def]
    out, previous, now = [], None, start
    for _ in range(n):
        previous = trigger.get_next_fire_time(previous, now)
        out.append(previous.astimezone(timezone.utc))
        now = previous
    return out


def _trigger(app: Flask, job_id: str, **settings: object):  # type: ignore[no-untyped-def]
    spec = next(s for s in JOBS if s.id == job_id)
    return spec.trigger({**app.config, **settings})


def test_monday_digest_across_the_march_clock_change(app: Flask) -> None:
    # British Summer Time starts at 01:00 UTC on Sunday 29 March 2026.
    fires = _fires(_trigger(app, "weekly_digests"), utc(2026, 3, 17), 3)
    assert fires == [utc(2026, 3, 23, 7, 0), utc(2026, 3, 30, 6, 0), utc(2026, 4, 6, 6, 0)]


def test_monday_digest_across_the_october_clock_change(app: Flask) -> None:
    # British Summer Time ends at 01:00 UTC on Sunday 25 October 2026.
    fires = _fires(_trigger(app, "weekly_digests"), utc(2026, 10, 13), 3)
    assert fires == [utc(2026, 10, 19, 6, 0), utc(2026, 10, 26, 7, 0), utc(2026, 11, 2, 7, 0)]


def test_digest_day_and_time_are_configurable(app: Flask) -> None:
    fires = _fires(_trigger(app, "weekly_digests", DIGEST_DAY="fri", DIGEST_TIME="16:30"), utc(2026, 10, 20), 2)
    assert fires == [utc(2026, 10, 23, 15, 30), utc(2026, 10, 30, 16, 30)]  # BST, then GMT


def test_nightly_rules_keep_london_time_over_the_change(app: Flask) -> None:
    fires = _fires(_trigger(app, "evaluate_rules"), utc(2026, 3, 27, 20), 3)
    assert fires == [utc(2026, 3, 28, 19, 0), utc(2026, 3, 29, 18, 0), utc(2026, 3, 30, 18, 0)]
    fires = _fires(_trigger(app, "referral_reviews", CLOCK_REFERRAL_REVIEWS_TIME="07:45"), utc(2026, 10, 24, 8), 2)
    assert fires == [utc(2026, 10, 25, 7, 45), utc(2026, 10, 26, 7, 45)]  # 07:45 GMT both days after the change


def test_weekly_helper_is_the_same_for_every_weekly_job() -> None:
    trigger = weekly("X_DAY", "X_TIME", "sun", "17:00")({})
    assert trigger.get_next_fire_time(None, utc(2026, 6, 1)) == datetime(2026, 6, 7, 16, 0, tzinfo=timezone.utc)


def test_check_prints_next_runs_and_fails_on_a_bad_table(capsys: pytest.CaptureFixture[str], tmp_path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OUTREACH_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")  # --check never touches it
    assert clock.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "weekly_digests" in out and "pending_work" in out
    assert clock.main(["--check", "--table", "tests.clock.probe_jobs:nope"]) == 2
    assert "is not a sequence of JobSpec" in capsys.readouterr().err


def test_a_clock_started_after_a_missed_run_catches_up_within_the_grace(app: Flask) -> None:
    with app.app_context():
        lock = LeaseLock(db.engine, "table-test")
    c = clock.Clock(app, resolve_table(JOBS, app.config), lock)
    # Monday 30 March 2026 (BST): the digest was due 07:00 London = 06:00 UTC; the clock starts 09:10 UTC.
    jobs = {j.id: j for j in c.build_scheduler(now=utc(2026, 3, 30, 9, 10)).get_jobs()}
    assert jobs["weekly_digests"].next_run_time.astimezone(timezone.utc) == utc(2026, 3, 30, 6, 0)
    assert jobs["referral_reviews"].next_run_time.astimezone(timezone.utc) == utc(2026, 3, 30, 6, 30)
    # past the grace: no late run (the scheduler takes the next regular one, Monday 6 April 06:00 UTC)
    jobs = {j.id: j for j in c.build_scheduler(now=utc(2026, 3, 30, 18, 30)).get_jobs()}
    assert not hasattr(jobs["weekly_digests"], "next_run_time")
    assert clock.missed_run(next(j for j in c.jobs if j.spec.id == "weekly_digests"), utc(2026, 3, 30, 18, 30)) is None
    assert jobs["evaluate_rules"].next_run_time.astimezone(timezone.utc) == utc(2026, 3, 30, 18, 0)  # 19:00 BST, 30 min ago
