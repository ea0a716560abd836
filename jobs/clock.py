"""The clock process: ``python -m jobs.clock`` (the Procfile's ``clock``).

The only place APScheduler runs. It only wakes things up: business events with a time (a text at
18:00 on Sunday, a referral review on a date, a school's digest for a week) are rows in our
tables, and each job here is a thin feature function that picks up the rows that are due. So a
job that runs twice, late, or after a restart does no harm, and adding a job is one line in
``JOBS``: an id (fixed, so a restart never duplicates it), a ``"module:function"`` reference,
a trigger, and how late a run may still start (``misfire_grace_time``).

References are text so this file can name features that live on other branches; they are
resolved when the clock starts and a missing module or function stops it at once with a message
naming every bad entry (``python -m jobs.clock --check`` does the same without starting).

Only one clock acts: before scheduling anything it takes ``outreach.core.clock_lock`` (an
advisory lock on PostgreSQL, a lease row on SQLite). A clock that cannot take it waits in
standby and retries; a clock that loses it stops its scheduler and goes back to standby.

Heavy work queued from the web (a large import, a digest sent again) is done here too, through
``PENDING_WORK``: functions polled every ``CLOCK_PENDING_SECONDS`` that each pick up their own
pending rows, e.g. ``outreach.registers.jobs:run_pending_imports`` for uploads from the Imports page.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
import time as time_module
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("jobs.clock")

TIMEZONE = "Europe/London"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

TriggerFactory = Callable[[Mapping[str, Any]], BaseTrigger]


class ClockConfigError(Exception):
    """The job table or a clock setting cannot be used; the message says which and why."""


# --- triggers (built from settings when the clock starts) ------------------------------------


def parse_hhmm(value: str, setting: str) -> tuple[int, int]:
    """``"07:00"`` -> (7, 0); anything else is a ClockConfigError naming the setting."""
    text = (value or "").strip()
    parts = text.split(":")
    if len(parts) == 2 and all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        hour, minute = int(parts[0]), int(parts[1])
        if hour < 24 and minute < 60:
            return hour, minute
    raise ClockConfigError(f"setting {setting} must be a time of day HH:MM (Europe/London), got {value!r}")


def parse_day(value: str, setting: str) -> str:
    day = (value or "").strip().lower()[:3]
    if day not in DAYS:
        raise ClockConfigError(f"setting {setting} must be a day of the week (mon ... sun), got {value!r}")
    return day


def every(*, seconds: float | None = None, minutes: float | None = None, setting: str | None = None) -> TriggerFactory:
    """Every N seconds (or minutes); ``setting`` (seconds) overrides the default when configured."""
    default = (seconds or 0) + (minutes or 0) * 60

    def build(config: Mapping[str, Any]) -> BaseTrigger:
        interval = float(config.get(setting, default) if setting else default)
        if interval <= 0:
            raise ClockConfigError(f"setting {setting} must be more than 0 seconds, got {interval}")
        return IntervalTrigger(seconds=interval, timezone=TIMEZONE)

    return build


def daily(setting: str, default: str) -> TriggerFactory:
    """Every day at the London time in ``setting`` (HH:MM)."""

    def build(config: Mapping[str, Any]) -> BaseTrigger:
        hour, minute = parse_hhmm(str(config.get(setting) or default), setting)
        return CronTrigger(hour=hour, minute=minute, timezone=TIMEZONE)

    return build


def weekly(day_setting: str, time_setting: str, default_day: str, default_time: str) -> TriggerFactory:
    """Once a week on the London day and time in the settings (e.g. Monday 07:00)."""

    def build(config: Mapping[str, Any]) -> BaseTrigger:
        day = parse_day(str(config.get(day_setting) or default_day), day_setting)
        hour, minute = parse_hhmm(str(config.get(time_setting) or default_time), time_setting)
        return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=TIMEZONE)

    return build


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One line of the clock: ``target`` is ``"package.module:function"``, called with no
    arguments inside an app context. ``misfire_grace_seconds``: how late (after a restart or a
    long previous run) the run may still start; later runs are skipped, and ``coalesce`` folds
    several missed runs into one. ``enabled=False`` keeps a line in the table for a feature that
    is not merged yet (the clock does not resolve it)."""

    id: str
    target: str
    trigger: TriggerFactory
    misfire_grace_seconds: int
    enabled: bool = True
    description: str = ""


HOUR = 3600
JOBS: tuple[JobSpec, ...] = (
    JobSpec("pending_work", "jobs.clock:run_pending_work", every(seconds=15, setting="CLOCK_PENDING_SECONDS"), 60,
            description="heavy work queued from the web (PENDING_WORK)"),
    JobSpec("evaluate_rules", "outreach.interventions.jobs:evaluate_all",
            daily("CLOCK_EVALUATE_TIME", "19:00"), 4 * HOUR, description="attendance rules for every school, nightly"),
    JobSpec("referral_reviews", "outreach.interventions.jobs:due_referral_reviews",
            daily("CLOCK_REFERRAL_REVIEWS_TIME", "07:30"), 6 * HOUR, description="early-help review reminders"),
    JobSpec("weekly_digests", "outreach.digests.jobs:send_due_digests",
            weekly("DIGEST_DAY", "DIGEST_TIME", "mon", "07:00"), 12 * HOUR,
            description="last week's digest to each school's heads (one per school-week)"),
    JobSpec("send_due_messages", "outreach.messaging.jobs:send_due_messages", every(minutes=1), 50,
            description="due outbox rows through the SMS gateway"),
    JobSpec("enqueue_rule_texts", "outreach.messaging.jobs:enqueue_rule_texts", every(minutes=5), 4 * 60,
            description="supportive texts proposed by the rules into the outbox"),
    # Walking buses and parent groups: each job acts once its rows are due (e.g. from Sunday 18:00
    # London until the week's first walk), so they run often and are idempotent.
    JobSpec("walking_bus_schedules", "outreach.walking_bus.jobs:send_weekly_schedules", every(minutes=15), 60 * 60,
            description="ambassadors' rota for the coming week, once WALKING_BUS_SCHEDULE_DAY/TIME has passed"),
    JobSpec("walking_bus_reminders", "outreach.walking_bus.jobs:send_reminders", every(minutes=5), 4 * 60,
            description="ambassador reminders that are due"),
    JobSpec("walking_bus_rotas", "outreach.walking_bus.jobs:generate_next_week_rotas", daily("CLOCK_ROTA_TIME", "06:00"),
            12 * HOUR, description="next week's rota where missing, so gaps show days ahead"),
    JobSpec("parent_group_reminders", "outreach.parent_groups.jobs:send_group_reminders", every(minutes=15), 60 * 60,
            description="reminders for tomorrow's parent-group meetings"),
    JobSpec("parent_group_meetings", "outreach.parent_groups.jobs:plan_meetings", daily("CLOCK_MEETINGS_TIME", "05:30"),
            12 * HOUR, description="each group's weekly meetings three weeks ahead"),
)

# Polled by the ``pending_work`` job; each function picks up its own pending rows and returns
# how many it handled. Add one line per feature that queues heavy work from the web.
PENDING_WORK: tuple[str, ...] = (
    "outreach.digests.jobs:send_pending",
    "outreach.registers.jobs:run_pending_imports",  # uploads from the Imports page: dry run, then the import
)


def resolve(reference: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function, or a ClockConfigError saying what is missing."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise ClockConfigError(f"{reference!r} is not a 'package.module:function' reference")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ClockConfigError(f"{reference}: module {module_name} cannot be imported ({exc})") from exc
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ClockConfigError(f"{reference}: {module_name} has no {attr}")
    if not callable(target):
        raise ClockConfigError(f"{reference}: {attr} is not callable")
    return target


@dataclass(frozen=True)
class ResolvedJob:
    spec: JobSpec
    func: Callable[[], Any]
    trigger: BaseTrigger


def disabled_ids(config: Mapping[str, Any]) -> set[str]:
    return {part.strip() for part in str(config.get("CLOCK_DISABLED_JOBS") or "").split(",") if part.strip()}


def resolve_table(table: Sequence[JobSpec], config: Mapping[str, Any],
                  pending: Sequence[str] = PENDING_WORK) -> list[ResolvedJob]:
    """Check the whole table before anything runs: ids unique, references importable, triggers
    buildable from the settings. Every problem is reported at once."""
    problems: list[str] = []
    seen: set[str] = set()
    for spec in table:
        if spec.id in seen:
            problems.append(f"job id {spec.id!r} appears twice")
        seen.add(spec.id)
    off = disabled_ids(config)
    unknown = off - seen
    if unknown:
        problems.append(f"CLOCK_DISABLED_JOBS names jobs that do not exist: {', '.join(sorted(unknown))}")
    resolved: list[ResolvedJob] = []
    for spec in table:
        if not spec.enabled or spec.id in off:
            continue
        try:
            func = resolve(spec.target)
            trigger = spec.trigger(config)
        except ClockConfigError as exc:
            problems.append(f"job {spec.id}: {exc}")
            continue
        if spec.misfire_grace_seconds <= 1:
            problems.append(f"job {spec.id}: misfire_grace_seconds must be more than 1 (1 s drops runs after a restart)")
        resolved.append(ResolvedJob(spec, func, trigger))
    if any(job.spec.target == "jobs.clock:run_pending_work" for job in resolved):
        for reference in pending:
            try:
                resolve(reference)
            except ClockConfigError as exc:
                problems.append(f"PENDING_WORK: {exc}")
    if problems:
        raise ClockConfigError("the clock's job table cannot be used:\n  " + "\n  ".join(problems))
    return resolved


def load_table(reference: str) -> Sequence[JobSpec]:
    """A job table by reference (``CLOCK_JOB_TABLE`` / ``--table``, default ``jobs.clock:JOBS``)."""
    module_name, sep, attr = reference.partition(":")
    try:
        table = getattr(importlib.import_module(module_name), attr, None) if sep else None
    except ImportError as exc:
        raise ClockConfigError(f"job table {reference}: {exc}") from exc
    if not isinstance(table, (tuple, list)) or not all(isinstance(s, JobSpec) for s in table):
        raise ClockConfigError(f"job table {reference} is not a sequence of JobSpec")
    return table


# --- pending work ----------------------------------------------------------------------------


def run_pending_work() -> dict[str, int]:
    """Call every PENDING_WORK function; one failing does not stop the others."""
    from outreach.extensions import db

    done: dict[str, int] = {}
    for reference in PENDING_WORK:
        try:
            done[reference] = int(resolve(reference)() or 0)
        except Exception:  # noqa: BLE001 - logged; the next poll tries again
            db.session.rollback()
            log.exception("pending work %s failed", reference)
    return done


# --- the process -----------------------------------------------------------------------------


def missed_run(job: ResolvedJob, now: datetime) -> datetime | None:
    """The run a clock that was down (or in standby while the active one died) missed, if it is
    still within the job's grace: e.g. started at 08:10 on a Monday, the 07:00 digests.

    APScheduler keeps jobs in memory, so a freshly started scheduler only looks forward; without
    this, ``misfire_grace_time`` would cover a busy scheduler but not a restart. The jobs pick up
    due rows, so running one that had in fact already run is harmless."""
    earliest = now - timedelta(seconds=job.spec.misfire_grace_seconds)
    first = job.trigger.get_next_fire_time(None, earliest)
    return first if first is not None and first <= now else None


def job_defaults() -> dict[str, Any]:
    """For every job: a missed run folds into one, never two at once of the same job."""
    return {"coalesce": True, "max_instances": 1}


class Clock:
    """Takes the lock (or waits in standby), then runs the scheduler until stopped or the lock
    is lost; then releases it."""

    def __init__(self, app: Any, jobs: Sequence[ResolvedJob], lock: Any):
        self.app, self.jobs, self.lock = app, list(jobs), lock
        cfg = app.config
        self.renew_seconds = float(cfg.get("CLOCK_RENEW_SECONDS", 15.0))
        self.retry_seconds = float(cfg.get("CLOCK_STANDBY_RETRY_SECONDS", 15.0))
        self.stop_wait_seconds = float(cfg.get("CLOCK_STOP_WAIT_SECONDS", 25.0))
        self._stopping = threading.Event()
        self._scheduler: BlockingScheduler | None = None
        self._running = 0
        self._idle = threading.Condition()

    def build_scheduler(self, now: datetime | None = None) -> BlockingScheduler:
        scheduler = BlockingScheduler(timezone=TIMEZONE, job_defaults=job_defaults())
        now = now or datetime.now(timezone.utc)
        for job in self.jobs:
            extra: dict[str, Any] = {}
            missed = missed_run(job, now)
            if missed is not None:
                extra["next_run_time"] = missed
                log.info("clock: %s was due at %s and is still within its grace: running it now",
                         job.spec.id, missed.isoformat())
            scheduler.add_job(self._run, job.trigger, args=[job], id=job.spec.id, name=job.spec.id,
                              misfire_grace_time=job.spec.misfire_grace_seconds, coalesce=True, max_instances=1,
                              replace_existing=True, **extra)
        scheduler.add_job(self._renew, IntervalTrigger(seconds=self.renew_seconds, timezone=TIMEZONE),
                          id="_clock_lock", name="_clock_lock", misfire_grace_time=None, coalesce=True,
                          max_instances=1)
        return scheduler

    def _run(self, job: ResolvedJob) -> None:
        if not self.lock.held:  # lost since the last renewal: do nothing, and stand down
            log.error("clock: skipping %s, the clock lock is no longer held", job.spec.id)
            self._stand_down()
            return
        with self._idle:
            self._running += 1
        try:
            self._run_in_context(job)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _run_in_context(self, job: ResolvedJob) -> None:
        from outreach.extensions import db

        started = time_module.monotonic()
        with self.app.app_context():
            try:
                result = job.func()
                db.session.commit()
                log.info("job %s done in %.1fs: %s", job.spec.id, time_module.monotonic() - started, _summary(result))
            except Exception:  # noqa: BLE001 - the next run tries again; the clock keeps going
                db.session.rollback()
                log.exception("job %s failed after %.1fs", job.spec.id, time_module.monotonic() - started)
            finally:
                db.session.remove()

    def _renew(self) -> None:
        if not self.lock.renew():
            log.error("clock: lock %s lost; stopping jobs and going back to standby", self.lock.name)
            self._stand_down()

    def _stand_down(self) -> None:
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def stop(self, *_args: Any) -> None:
        self._stopping.set()
        self._stand_down()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                if not self.lock.acquire():
                    log.info("clock %s: standby (another clock holds %s); retrying in %.0fs",
                             self.lock.holder, self.lock.name, self.retry_seconds)
                    self._stopping.wait(self.retry_seconds)
                    continue
                log.info("clock %s: active, %d jobs: %s", self.lock.holder, len(self.jobs),
                         ", ".join(j.spec.id for j in self.jobs))
                self._scheduler = self.build_scheduler()
                self._scheduler.start()  # blocks until stop() or a lost lock
                self._scheduler = None
        finally:
            self._wait_for_running_jobs()
            self.lock.release()
            log.info("clock %s: stopped", self.lock.holder)

    def _wait_for_running_jobs(self) -> None:
        """Keep the lock until runs under way finish (up to ``CLOCK_STOP_WAIT_SECONDS``, under a
        platform's SIGTERM-to-SIGKILL pause), so a standby never starts the same job beside one."""
        with self._idle:
            if self._running and not self._idle.wait_for(lambda: self._running == 0, self.stop_wait_seconds):
                log.warning("clock: %d job(s) still running after %.0fs; releasing the lock anyway",
                            self._running, self.stop_wait_seconds)


def _summary(result: Any) -> str:
    """Counts only: results are ids and numbers, never names or phone numbers."""
    if isinstance(result, dict):
        if all(isinstance(v, (int, float)) for v in result.values()):
            return f"{len(result)} entries, total {sum(result.values())}"
        return f"{len(result)} entries"
    if isinstance(result, (int, float)):
        return str(result)
    if isinstance(result, (list, tuple, set)):
        return f"{len(result)} items"
    return "ok" if result is None else type(result).__name__


def next_runs(jobs: Sequence[ResolvedJob], now: datetime | None = None) -> list[tuple[str, datetime | None]]:
    """(job id, next fire time) for each job from ``now`` (for ``--check``)."""
    now = now or datetime.now(timezone.utc)
    return [(job.spec.id, job.trigger.get_next_fire_time(None, now)) for job in jobs]


def lock_status(engine: Any, name: str) -> str:
    """Who holds the clock lock, in one line (for operators: ``--status``)."""
    from sqlalchemy import text

    from outreach.core.clock_lock import LeaseLock, advisory_key

    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"),
                {"k": advisory_key(name)}).first()
        if row is None:
            return f"clock lock {name}: free (no clock is active)"
        return f"clock lock {name}: held by database session {row.pid} from {row.client_addr or 'local socket'} since {row.backend_start:%Y-%m-%d %H:%M:%S %Z}"
    current = LeaseLock(engine, name).current()
    if current is None:
        return f"clock lock {name}: free (no clock is active)"
    holder, expires = current
    state = "held" if expires > datetime.now(timezone.utc) else "expired (a standby may take it)"
    return f"clock lock {name}: {state} by {holder}, lease until {expires:%Y-%m-%d %H:%M:%S} UTC"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.clock", description="outreach's clock process")
    parser.add_argument("--table", help="job table as module:attribute (default CLOCK_JOB_TABLE, jobs.clock:JOBS)")
    parser.add_argument("--check", action="store_true", help="resolve the table, print each job's next run, exit")
    parser.add_argument("--status", action="store_true", help="say which clock holds the lock, exit")
    args = parser.parse_args(argv)

    from outreach import create_app
    from outreach.core.clock_lock import clock_lock
    from outreach.extensions import db

    app = create_app()
    try:
        table = load_table(args.table or app.config.get("CLOCK_JOB_TABLE") or "jobs.clock:JOBS")
        jobs = resolve_table(table, app.config)
    except ClockConfigError as exc:
        print(f"clock: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for job_id, when in next_runs(jobs):
            shown = when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if when else "never"
            local = when.strftime("%a %d %b %H:%M %Z") if when else ""
            print(f"{job_id:24} next {shown}  ({local})")
        return 0
    with app.app_context():
        engine = db.engine
    if args.status:
        print(lock_status(engine, app.config.get("CLOCK_LOCK_NAME", "clock")))
        return 0
    lock = clock_lock(engine, name=app.config.get("CLOCK_LOCK_NAME", "clock"),
                      ttl_seconds=float(app.config.get("CLOCK_LEASE_SECONDS", 60.0)))
    clock = Clock(app, jobs, lock)
    signal.signal(signal.SIGTERM, clock.stop)
    signal.signal(signal.SIGINT, clock.stop)
    clock.run()
    return 0


if __name__ == "__main__":
    # Run the module's importable copy, so the table (``jobs.clock:JOBS``) and this code share
    # one JobSpec class and one PENDING_WORK.
    from jobs.clock import main as _main

    sys.exit(_main())
