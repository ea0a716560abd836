"""The clock loop in one process: jobs run in an app context, a failing job does not stop the
clock, and a clock whose lease is taken from it stops running jobs and goes back to standby."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from flask import Flask, has_app_context
from sqlalchemy import update

from jobs.clock import Clock, JobSpec, every, resolve_table
from outreach.core.clock_lock import ClockLease, LeaseLock
from outreach.core.timeutil import utcnow
from outreach.extensions import db

RUNS: list[float] = []


def record_run() -> int:
    assert has_app_context()
    RUNS.append(time.monotonic())
    return len(RUNS)


def always_fails() -> None:
    raise RuntimeError("boom")


TABLE = (JobSpec("record", "tests.clock.test_clock_loop:record_run", every(seconds=0.2), 5),
         JobSpec("fails", "tests.clock.test_clock_loop:always_fails", every(seconds=0.2), 5))


def _wait(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_clock_runs_jobs_survives_failures_and_stands_down_when_its_lease_is_taken(app: Flask,
                                                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    RUNS.clear()
    monkeypatch.setitem(app.config, "CLOCK_RENEW_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "CLOCK_STANDBY_RETRY_SECONDS", 0.2)
    lock = LeaseLock(db.engine, "loop-test", holder="me", ttl_seconds=30)
    clock = Clock(app, resolve_table(TABLE, app.config), lock)
    thread = threading.Thread(target=clock.run, daemon=True)
    thread.start()
    try:
        assert _wait(lambda: len(RUNS) >= 4, 20), "the job did not run (or the failing one stopped the clock)"
        # another clock takes the lease (as after an expiry this clock missed): this one must stop acting
        with db.engine.begin() as conn:
            conn.execute(update(ClockLease.__table__).where(ClockLease.__table__.c.name == "loop-test")
                         .values(holder="thief", expires_at=utcnow() + timedelta(seconds=30)))
        assert _wait(lambda: not lock.held, 10)
        time.sleep(0.5)  # a run already started may finish
        settled = len(RUNS)
        time.sleep(1.0)
        assert len(RUNS) == settled, "a clock without the lease kept running jobs"
        assert thread.is_alive()  # in standby, retrying, not crashed
    finally:
        clock.stop()
        thread.join(10)
    assert not thread.is_alive()
