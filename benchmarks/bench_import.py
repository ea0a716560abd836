"""Register import benchmark: a full year for a 2,000-pupil school (~760,000 marks, long CSV).

    .venv/bin/python -m benchmarks.bench_import [--pupils 2000] [--sqlite-only] [--keep-data]

Generates the year (``benchmarks/.data/``: a pupils CSV and a long register CSV written as MIS
exports write them: UK dates, a byte-order mark, CRLF), then on SQLite (a file in a temporary
directory) and PostgreSQL (database ``outreach_bench_import``, created if missing, schema
``bench_import``; ``BENCH_IMPORT_POSTGRES_URL`` overrides) measures, each in a child process so
its peak memory (``ru_maxrss``) is its own:

* the first import of the file (``import_registers``: parse, validate, stage, merge, rollups);
* a re-import of the same file (no changes) and of a corrected copy (1% of marks recoded);
* the baseline, in the same run: the same rows into a bare table with the engine's fastest bulk
  path (PostgreSQL ``COPY`` of the CSV as it is; SQLite ``executemany`` of the rows csv.reader
  gives), with no validation, no indexes, no diff;
* the school's PA list and weekly trend from stored data (median of 7 warm runs).

Prints a table with ratios and pass/fail against the targets (import <= 3x baseline on
PostgreSQL, <= 4x on SQLite; peak memory < 500 MB; queries < 200 ms). Exit status 1 on a miss.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks.bench_queries import (describe_machine, ensure_pg_database, generate_marks, make_app, median_ms,
                                      school_days)

DATA = Path(__file__).resolve().parent / ".data"
PG_DATABASE = "outreach_bench_import"
PG_SCHEMA = "bench_import"
DEFAULT_PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DATABASE}"
URN = "900002"
TARGETS = {"sqlite": 4.0, "postgresql": 3.0}
MEMORY_MB = 500
QUERY_MS = 200.0


# --- data ----------------------------------------------------------------------------------------


def generate(pupils: int) -> tuple[Path, Path, Path, int]:
    """Write pupils.csv, registers.csv and corrected.csv (1% of marks recoded) once per size."""
    from outreach.schools.upn import make_upn

    DATA.mkdir(parents=True, exist_ok=True)
    pupils_csv = DATA / f"pupils-{pupils}.csv"
    registers_csv = DATA / f"registers-{pupils}.csv"
    corrected_csv = DATA / f"registers-{pupils}-corrected.csv"
    meta = DATA / f"registers-{pupils}.json"
    if meta.exists() and registers_csv.exists() and corrected_csv.exists() and pupils_csv.exists():
        return pupils_csv, registers_csv, corrected_csv, json.loads(meta.read_text())["marks"]
    upns = [make_upn(823, 4002, 14 + i // 1000, i % 1000) for i in range(pupils)]
    with open(pupils_csv, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["UPN", "Legal Forename", "Legal Surname", "Year", "Reg Group", "FSM", "SEN", "EAL", "Gender"])
        rng = np.random.default_rng(7)
        for i, upn in enumerate(upns):
            writer.writerow([upn, f"Pupil{i}", "Bench", 7 + i % 5, f"{7 + i % 5}{'ABCD'[i % 4]}",
                             "Y" if rng.random() < 0.25 else "N", rng.choice(["N", "K", "E"], p=[0.84, 0.13, 0.03]),
                             "Y" if rng.random() < 0.2 else "N", "F" if i % 2 else "M"])
    rows = generate_marks(list(range(pupils)), 0, school_days())
    rng = np.random.default_rng(11)
    recode = rng.random(len(rows)) < 0.01
    with open(registers_csv, "w", encoding="utf-8-sig", newline="") as plain, \
            open(corrected_csv, "w", encoding="utf-8-sig", newline="") as fixed:
        w1, w2 = csv.writer(plain, lineterminator="\r\n"), csv.writer(fixed, lineterminator="\r\n")
        for w in (w1, w2):
            w.writerow(["UPN", "Attendance Date", "Session", "Mark"])
        for (pid, iso, session, _school, code), change in zip(rows, recode):
            uk = f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
            w1.writerow([upns[pid], uk, session, code])
            w2.writerow([upns[pid], uk, session, ("I" if code != "I" else "M") if change else code])
    meta.write_text(json.dumps({"marks": len(rows)}))
    return pupils_csv, registers_csv, corrected_csv, len(rows)


# --- child processes -------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@contextmanager
def _statement_timer(engine, over_s: float = 0.25) -> Iterator[list[tuple[float, str]]]:
    """Collect (seconds, statement head) for every SQL statement slower than ``over_s``: where
    the first import's time goes in the database (COPY through the driver is not seen here)."""
    from sqlalchemy import event

    slow: list[tuple[float, str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_bench_t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info["_bench_t0"].pop()
        if elapsed >= over_s:
            slow.append((round(elapsed, 2), " ".join(statement.split())[:110]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield slow
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def child_import(url: str, pupils_csv: Path, registers_csv: Path, corrected_csv: Path) -> dict:
    """A fresh schema, the school and its pupils, then the three imports and the two queries."""
    from outreach.attendance import queries
    from outreach.extensions import db
    from outreach.registers import hooks
    from outreach.registers.services import import_registers
    from outreach.schools.models import School
    from outreach.schools.roster import import_pupils

    app = make_app(url, PG_SCHEMA)
    out: dict = {}
    with app.app_context():
        school = School(urn=URN, name="Benchmark Academy", phase="secondary", la_code="823", estab="4002")
        db.session.add(school)
        db.session.commit()
        report = import_pupils(school, pupils_csv)
        assert report.ok, report.errors
        # Time the import itself; the after-import hooks (interventions' rules over the whole
        # school) are other features' work, run after the commit: timed on their own below.
        registered = hooks.registered()
        for fn in registered:
            hooks.unregister_after_import(fn)
        # pandas is loaded once per process by the first register import that reads a file (it
        # is kept out of every process's start-up); like the app and numpy it is loaded before
        # the clock starts, and the time it takes is reported on its own line.
        start = time.perf_counter()
        import pandas  # noqa: F401
        out["pandas_load_s"] = time.perf_counter() - start
        base_mb = _peak_mb()
        with _statement_timer(db.engine) as slow:
            start = time.perf_counter()
            first = import_registers(school, registers_csv)
            out["import_s"] = time.perf_counter() - start
        out["first_import_statements"] = slow
        start = time.perf_counter()
        for fn in registered:
            fn(school.id, first.batch_id)
        out["hooks_s"] = time.perf_counter() - start
        out["import_peak_mb"] = _peak_mb()
        out["before_import_mb"] = base_mb
        assert first.ok, first.errors[:3]
        out["added"] = first.added
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:  # what autovacuum does soon after a large import
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        start = time.perf_counter()
        again = import_registers(school, registers_csv)
        out["reimport_s"] = time.perf_counter() - start
        assert again.no_changes, again.summary()
        start = time.perf_counter()
        fixed = import_registers(school, corrected_csv)
        out["correction_s"] = time.perf_counter() - start
        out["changed"] = fixed.changed
        days = school_days()
        school_id = school.id
        db.session.remove()
        for name, fn in (("pa_list", lambda: queries.persistent_absence_list(school_id, days[0], days[-1])),
                         ("weekly_trend", lambda: queries.weekly_trend(school_id, days[0], days[-1]))):
            out[f"{name}_ms"] = median_ms(name, fn, 7).median_ms
            db.session.rollback()
        out["peak_mb"] = _peak_mb()
    return out


def child_baseline(url: str, registers_csv: Path) -> dict:
    """The engine's fastest bulk load of the same rows into a bare table, in one transaction."""
    from sqlalchemy import create_engine

    from config.settings import normalise_database_url

    url = normalise_database_url(url)
    start = time.perf_counter()
    if url.startswith("postgresql"):
        engine = create_engine(url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS bare_marks")
                cur.execute("CREATE TABLE bare_marks (upn text, date text, session text, code text)")
                start = time.perf_counter()
                with cur.copy("COPY bare_marks FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                        open(registers_csv, "rb") as handle:
                    handle.read(3)  # the byte-order mark
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                cur.execute("DROP TABLE bare_marks")
        seconds = time.perf_counter() - start
        engine.dispose()
    else:
        import sqlite3

        path = url.split("sqlite:///", 1)[1]
        conn = sqlite3.connect(path)
        conn.execute("DROP TABLE IF EXISTS bare_marks")
        conn.execute("CREATE TABLE bare_marks (upn TEXT, date TEXT, session TEXT, code TEXT)")
        conn.commit()
        start = time.perf_counter()
        with open(registers_csv, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            conn.executemany("INSERT INTO bare_marks VALUES (?, ?, ?, ?)", reader)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bare_marks")
        conn.commit()
        conn.close()
    return {"baseline_s": seconds, "baseline_peak_mb": _peak_mb()}


def run_child(kind: str, url: str, files: list[Path]) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_import", "--child", kind, "--url", url, *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"child {kind} failed on {url}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def drop_pg_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")


def memory_total_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return int(line.split()[1]) // 1024
    return 0


def report(engine: str, label: str, marks: int, result: dict) -> bool:
    ratio = result["import_s"] / result["baseline_s"]
    target = TARGETS[engine]
    ok_ratio = ratio <= target
    ok_mem = result["peak_mb"] < MEMORY_MB
    ok_q = result["pa_list_ms"] < QUERY_MS and result["weekly_trend_ms"] < QUERY_MS
    print(f"\n== {label}: {marks:,} marks")
    print(f"{'measure':<34}{'value':>12}  {'vs baseline / target'}")
    print(f"{'baseline (bare bulk load)':<34}{result['baseline_s']:>10.2f} s  1.0x")
    print(f"{'first import':<34}{result['import_s']:>10.2f} s  {ratio:.2f}x  {'pass' if ok_ratio else 'FAIL'} (<= {target:.0f}x)")
    print(f"{'  marks per second':<34}{marks / result['import_s']:>12,.0f}")
    print(f"{'  loading pandas, once a process':<34}{result['pandas_load_s']:>10.2f} s  (before the clock starts)")
    print(f"{'after-import hooks (rules), apart':<34}{result['hooks_s']:>10.2f} s")
    print(f"{'re-import, no changes':<34}{result['reimport_s']:>10.2f} s  {result['reimport_s'] / result['baseline_s']:.2f}x")
    print(f"{'correction (' + format(result['changed'], ',') + ' changed)':<34}{result['correction_s']:>10.2f} s  "
          f"{result['correction_s'] / result['baseline_s']:.2f}x")
    print(f"{'peak memory, import process':<34}{result['peak_mb']:>9.0f} MB  {'pass' if ok_mem else 'FAIL'} (< {MEMORY_MB} MB; "
          f"{result['before_import_mb']:.0f} MB before the first import)")
    print(f"{'peak memory, baseline process':<34}{result['baseline_peak_mb']:>9.0f} MB")
    for name in ("pa_list", "weekly_trend"):
        ms = result[f"{name}_ms"]
        print(f"{name + ' (stored data)':<34}{ms:>9.1f} ms  {'pass' if ms < QUERY_MS else 'FAIL'} (< {QUERY_MS:.0f} ms)")
    slow = result.get("first_import_statements") or []
    if slow:
        print(f"first import, statements over 0.25 s ({sum(s for s, _ in slow):.1f} s of {result['import_s']:.1f} s):")
        for seconds, head in slow:
            print(f"  {seconds:>7.2f} s  {head}")
    return ok_ratio and ok_mem and ok_q


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--child", choices=["import", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "benchmark")
    if args.child:
        import logging

        logging.disable(logging.INFO)
        files = [Path(f) for f in args.files]
        result = child_import(args.url, *files) if args.child == "import" else child_baseline(args.url, files[0])
        print(json.dumps(result))
        return 0

    print(f"Register import benchmark: {describe_machine()}, {memory_total_mb():,} MB memory")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine slows every figure)")
    pupils_csv, registers_csv, corrected_csv, marks = generate(args.pupils)
    print(f"data: {registers_csv.name} ({registers_csv.stat().st_size / 1e6:.1f} MB, {marks:,} marks, {args.pupils} pupils)")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        os.environ.setdefault("OUTREACH_INSTANCE_PATH", tmp)
        engines = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if not args.sqlite_only:
            url = os.environ.get("BENCH_IMPORT_POSTGRES_URL", DEFAULT_PG_URL)
            ensure_pg_database(url)
            engines.append(("postgresql", url))
        for engine, url in engines:
            try:
                result = run_child("import", url, [pupils_csv, registers_csv, corrected_csv])
                result.update(run_child("baseline", url, [registers_csv]))
            finally:
                if engine == "postgresql":
                    drop_pg_schema(url)
            import sqlite3

            label = f"SQLite {sqlite3.sqlite_version}" if engine == "sqlite" else f"PostgreSQL {pg_version(url)}"
            ok &= report(engine, label, marks, result)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"result: {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
