"""A job table for the two-clocks test: one job, every 0.3 s, that touches the database inside
its app context and appends "pid time" to the file named by CLOCK_PROBE_FILE."""
from __future__ import annotations

import os
import time

from sqlalchemy import text

from jobs.clock import JobSpec, every


def probe() -> int:
    from outreach.extensions import db

    db.session.execute(text("SELECT 1"))  # runs inside the clock's app context, on its database
    with open(os.environ["CLOCK_PROBE_FILE"], "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {time.time():.3f}\n")
    return 1


JOBS = (JobSpec("probe", "tests.clock.probe_jobs:probe", every(seconds=0.3), 5),)
