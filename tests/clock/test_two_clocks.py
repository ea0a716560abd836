"""Two real clock processes against the same database: only one runs jobs; kill it and the
standby takes over. On SQLite through the lease row, on PostgreSQL through the advisory lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from config.settings import PROJECT_ROOT
from outreach.core.clock_lock import ClockLease
from outreach.extensions import db

LEASE_SECONDS = 2.0


def _lines(path: Path) -> list[tuple[int, float]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        pid, _, at = line.partition(" ")
        if at:
            out.append((int(pid), float(at)))
    return out


def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jobs.clock"], cwd=PROJECT_ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_only_one_clock_acts_and_the_standby_takes_over(app: Flask, tmp_path: Path) -> None:
    probe = tmp_path / "probe.log"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "clock-test",
           "OUTREACH_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(PROJECT_ROOT),
           "CLOCK_JOB_TABLE": "tests.clock.probe_jobs:JOBS", "CLOCK_PROBE_FILE": str(probe),
           "CLOCK_LEASE_SECONDS": str(LEASE_SECONDS), "CLOCK_RENEW_SECONDS": "0.4",
           "CLOCK_STANDBY_RETRY_SECONDS": "0.3"}
    logs = [tmp_path / "clock-1.log", tmp_path / "clock-2.log"]
    procs = [_start(env, logs[0]), _start(env, logs[1])]  # started together: they race for the lock
    try:
        _wait_for(lambda: len(_lines(probe)) >= 3, 60, "the first probe runs")
        time.sleep(3.0)  # long enough for the second clock to be up and in standby
        lines = _lines(probe)
        pids = {pid for pid, _ in lines}
        assert len(pids) == 1, f"two clocks ran jobs: {pids}"
        assert len(lines) >= 8  # every 0.3 s for 3 s and more
        active_pid = pids.pop()
        assert active_pid in {p.pid for p in procs}
        active = next(p for p in procs if p.pid == active_pid)
        standby = next(p for p in procs if p.pid != active_pid)
        assert standby.poll() is None, logs[procs.index(standby)].read_text()
        _wait_for(lambda: "standby" in logs[procs.index(standby)].read_text(), 30, "the standby to log its state")

        status = subprocess.run([sys.executable, "-m", "jobs.clock", "--status"], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and "clock lock clock: held by " in status.stdout, status.stdout + status.stderr
        if db.engine.dialect.name == "sqlite":
            assert f":{active_pid}:" in status.stdout  # the lease names the active clock's host:pid

        active.send_signal(signal.SIGKILL)  # no clean release: the lock must free itself
        active.wait(10)
        killed_at = time.time()
        _wait_for(lambda: any(pid == standby.pid for pid, _ in _lines(probe)), 30, "the standby takes over")
        took_over = min(at for pid, at in _lines(probe) if pid == standby.pid)
        assert all(at <= killed_at for pid, at in _lines(probe) if pid == active_pid)
        assert took_over >= killed_at  # never both at once
        if db.engine.dialect.name == "sqlite":
            # a lease is only taken over once it has expired (it was renewed up to the kill)
            assert took_over - killed_at >= LEASE_SECONDS - 0.8 - 0.5
        time.sleep(1.0)
        assert {pid for pid, at in _lines(probe) if at > killed_at} == {standby.pid}

        standby.send_signal(signal.SIGTERM)  # a clean stop releases the lock
        assert standby.wait(20) == 0, logs[procs.index(standby)].read_text()
        status = subprocess.run([sys.executable, "-m", "jobs.clock", "--status"], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert "clock lock clock: free" in status.stdout, status.stdout + status.stderr
        if db.engine.dialect.name == "sqlite":
            db.session.rollback()
            assert db.session.scalars(select(ClockLease)).all() == []
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
