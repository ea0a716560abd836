"""Web latency under load: gunicorn on loopback against PostgreSQL, 20 concurrent clients.

    .venv/bin/python -m benchmarks.bench_web [--clients 20] [--requests 400] [--workers 2]

Starts gunicorn (``wsgi:app``) on 127.0.0.1 with ``BENCH_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/outreach_dashboard), migrates and seeds a bench trust if
missing, signs in through the real login form, and drives every URL in ``TARGETS`` with an
asyncio + aiohttp client (no load tool to install). Each target's p50/p95 is printed beside a
trivial endpoint (``/healthz``) measured in the same run, so the ratio says what the page costs
over the bare framework on this machine. Every loop is bounded in count and time; only
loopback is contacted. Add pages here as they are built: ``TARGETS`` is the one list.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/outreach_dashboard"
BENCH_EMAIL = "bench.officer@example.org"
BENCH_PASSWORD = "bench password not secret"
BENCH_URN = "900001"
BIG_URN = "900100"  # the 2,000-pupil school with a full year of marks (issue 3, part 5)
BIG_PUPILS = 2000
LEAD_EMAIL = "bench.lead@example.org"


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # may use {urn}, {pupil_id}, {big_urn}, {big_pupil_id}, {trust_id}
    auth: str  # none | session | lead (a trust lead's session) | token
    p95_target_ms: float | None = None  # the target, where it sets one


# Issue 3, part 5: "School overview and pupil list for a 2,000-pupil school ... Target: p95 under 250 ms."
P95_TARGET_MS = 250.0


# The one list of URLs measured. Later pages (Today, Pupils, Trust...) add a line here.
TARGETS = [
    Target("healthz (baseline)", "/healthz", "none"),
    Target("schools list", "/schools", "session"),
    Target("school home", "/schools/{urn}", "session"),
    Target("account", "/account", "session"),
    Target("digests list", "/schools/{urn}/digests", "session"),
    Target("messages outbox", "/schools/{urn}/messages", "session"),
    Target("messages outbox filtered", "/schools/{urn}/messages?status=scheduled&phone=07700", "session"),
    Target("messages inbox", "/schools/{urn}/messages/inbox", "session"),
    Target("messages templates", "/schools/{urn}/messages/templates", "session"),
    Target("messages opt-outs", "/schools/{urn}/messages/opt-outs", "session"),
    Target("school imports", "/schools/{urn}/imports", "session"),
    Target("api schools", "/api/v1/schools", "token"),
    Target("api school", "/api/v1/schools/{urn}", "token"),
    Target("api pupils page", "/api/v1/schools/{urn}/pupils?per_page=50", "token"),
    Target("api pupil (audited)", "/api/v1/pupils/{pupil_id}", "token"),
    Target("tasks (audited)", "/schools/{urn}/tasks", "session"),
    Target("intervention log (audited)", "/schools/{urn}/interventions", "session"),
    Target("case timeline (audited)", "/schools/{urn}/pupils/{pupil_id}/timeline", "session"),
    Target("rule settings", "/schools/{urn}/rules", "session"),
    Target("api tasks (audited)", "/api/v1/schools/{urn}/tasks", "token"),
    Target("api timeline (audited)", "/api/v1/schools/{urn}/pupils/{pupil_id}/timeline", "token"),
    # the officer dashboard, on the 2,000-pupil school with a full year of marks
    Target("today (2,000 pupils)", "/today?school={big_urn}", "session"),
    Target("school overview (2,000)", "/schools/{big_urn}/overview", "session", P95_TARGET_MS),
    Target("pupil list (2,000)", "/schools/{big_urn}/pupils", "session", P95_TARGET_MS),
    Target("pupil list PA, by name", "/schools/{big_urn}/pupils?flag=pa&sort=name", "session"),
    Target("pupil page (audited)", "/schools/{big_urn}/pupils/{big_pupil_id}", "session"),
    Target("trust (6 schools)", "/trusts/{trust_id}", "lead"),
    Target("api measures (2,000)", "/api/v1/schools/{big_urn}/measures", "token"),
    Target("api pupils attendance", "/api/v1/schools/{big_urn}/attendance/pupils?per_page=50", "token"),
    Target("walking buses (school)", "/walking-buses/{urn}", "session"),
    Target("walking-bus rota (week)", "/walking-buses/{urn}/rota", "session"),
    Target("parent groups (school)", "/parent-groups/{urn}", "session"),
    Target("api walking-bus rota", "/api/v1/schools/{urn}/walking-bus/rota", "token"),
    Target("api school imports", "/api/v1/schools/{urn}/imports", "token"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str, schools: int, pupils_per_school: int) -> dict[str, str]:
    """Migrate, then seed a bench trust (idempotent); returns the values the URLs need and a token."""
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade
    from sqlalchemy import select

    from outreach import create_app
    from outreach.core.accounts import services
    from outreach.extensions import db
    from outreach.schools.models import Pupil, School, Trust
    from outreach.schools.upn import make_upn

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1)})
    with app.app_context():
        upgrade()
        if db.session.scalar(select(School.id).where(School.urn == BENCH_URN)) is None:
            trust = Trust(name="Bench Trust")
            db.session.add(trust)
            db.session.flush()
            for n in range(schools):
                school = School(urn=str(int(BENCH_URN) + n), name=f"Bench School {n + 1:02d}", phase="primary",
                                la_code="999", estab=f"{2000 + n}", trust_id=trust.id)
                db.session.add(school)
                db.session.flush()
                db.session.execute(Pupil.__table__.insert(), [
                    {"school_id": school.id, "upn": make_upn(999, 2000 + n, 24, i), "forename": f"F{i}",
                     "surname": f"S{i:04d}", "year_group": str(1 + i % 6), "fsm": i % 4 == 0, "sen_status": "N",
                     "eal": i % 5 == 0, "created_at": time_now()} for i in range(pupils_per_school)])
            db.session.commit()
        trust_id = db.session.scalar(select(Trust.id).where(Trust.name == "Bench Trust"))
        if db.session.scalar(select(School.id).where(School.urn == BIG_URN)) is None:
            seed_big_school(trust_id)
        user = services.get_user_by_email(BENCH_EMAIL)
        if user is None:
            user = services.create_user(BENCH_EMAIL, "attendance_officer", BENCH_PASSWORD,
                                        school_urns=[BENCH_URN, str(int(BENCH_URN) + 1), BIG_URN])
        if services.get_user_by_email(LEAD_EMAIL) is None:
            services.create_user(LEAD_EMAIL, "trust_lead", BENCH_PASSWORD, trust_name="Bench Trust")
        services.unlock(BENCH_EMAIL)
        services.unlock(LEAD_EMAIL)
        _, token = services.create_token(user, "bench")
        school_id = db.session.scalar(select(School.id).where(School.urn == BENCH_URN))
        pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.school_id == school_id).limit(1))
        big_id = db.session.scalar(select(School.id).where(School.urn == BIG_URN))
        big_pupil = db.session.scalar(select(Pupil.id).where(Pupil.school_id == big_id).order_by(Pupil.id).offset(7).limit(1))
    return {"urn": BENCH_URN, "pupil_id": str(pupil_id), "token": token, "big_urn": BIG_URN,
            "big_pupil_id": str(big_pupil), "trust_id": str(trust_id)}


def school_days(first, last):  # noqa: ANN001, ANN201
    """Weekdays from ``first`` to ``last`` outside rough English school holidays (about 190 a year)."""
    from datetime import date, timedelta

    def holiday(d: date) -> bool:
        md = (d.month, d.day)
        return (md >= (7, 23) and d.month <= 8) or md >= (12, 20) or md <= (1, 3) or (10, 26) <= md <= (10, 30) \
            or (2, 16) <= md <= (2, 20) or (4, 1) <= md <= (4, 14) or (5, 25) <= md <= (5, 29)

    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and not holiday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def seed_big_school(trust_id: int) -> None:
    """A 2,000-pupil secondary school with marks from 1 September of last academic year to
    yesterday (a full year and this year so far): most pupils attend 93-99%, about one in eight
    drifts into persistent absence, a few are severely absent; N codes in the last days; rollups
    refreshed as an import leaves them. Written with COPY (about 1.5 million marks)."""
    import random
    from datetime import date, timedelta

    from sqlalchemy import text

    from outreach.core.timeutil import academic_year_start, london_today
    from outreach.extensions import db
    from outreach.registers import store
    from outreach.schools.models import Pupil, School
    from outreach.schools.upn import make_upn

    today = london_today()
    first = date(academic_year_start(today).year - 1, 9, 1)
    days = school_days(first, today - timedelta(days=1))
    school = School(urn=BIG_URN, name="Bench High School", phase="secondary", la_code="823", estab="4000",
                    trust_id=trust_id)
    db.session.add(school)
    db.session.flush()
    rng = random.Random(2026)
    years = [str(y) for y in range(7, 12)]
    db.session.execute(Pupil.__table__.insert(), [
        {"school_id": school.id, "upn": make_upn(823, 4000 + i // 1000, 24, i % 1000), "forename": f"Forename{i}", "surname": f"Surname{i:04d}",
         "year_group": years[i % 5], "reg_group": f"{years[i % 5]}{'ABCDEFGH'[i % 8]}", "fsm": rng.random() < 0.25,
         "sen_status": rng.choice("NNNNNNNNKE"), "eal": rng.random() < 0.18, "sex": rng.choice("MF"),
         "created_at": time_now()} for i in range(BIG_PUPILS)])
    from outreach.registers.models import ImportBatch

    year_batch = ImportBatch(school_id=school.id, file_name="bench-year.csv", format="long", status="completed",
                             date_from=first, date_to=days[-6], finished_at=time_now() - timedelta(days=6))
    week_batch = ImportBatch(school_id=school.id, file_name="bench-week.csv", format="long", status="completed",
                             date_from=days[-5], date_to=days[-1], finished_at=time_now())
    db.session.add_all([year_batch, week_batch])
    db.session.flush()
    recent = set(days[-5:])
    ids = list(db.session.scalars(select_ids(school.id)))
    by_batch: dict[int, list[tuple]] = {year_batch.id: [], week_batch.id: []}
    for pupil_id in ids:
        r = random.Random(pupil_id)
        roll = r.random()
        rate = 0.55 if roll < 0.02 else r.uniform(0.11, 0.2) if roll < 0.14 else r.uniform(0.01, 0.07)
        for d in days:
            for session in ("AM", "PM"):
                if r.random() < rate:
                    code = "N" if (today - d).days < 4 else r.choice("IIIIOOMGCU")
                else:
                    code = ("/" if session == "AM" else "\\") if r.random() > 0.03 else "L"
                by_batch[week_batch.id if d in recent else year_batch.id].append((pupil_id, d, session, code))
    for batch_id, rows in by_batch.items():  # the store the importer writes with (marks and rollups)
        store.write(db.session, school.id, rows, batch_id)
    db.session.commit()
    db.session.execute(text("ANALYZE pupil_weeks"))
    db.session.commit()


def select_ids(school_id: int):  # noqa: ANN201
    from sqlalchemy import select

    from outreach.schools.models import Pupil

    return select(Pupil.id).where(Pupil.school_id == school_id).order_by(Pupil.id)


def time_now():  # noqa: ANN201 - a callable, not a value, like the models' defaults
    from outreach.core.timeutil import utcnow

    return utcnow()


def start_gunicorn(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret"),
           "OUTREACH_INSTANCE_PATH": tempfile.mkdtemp(prefix="outreach-bench-")}
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning", "wsgi:app"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


async def wait_ready(base: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("gunicorn did not become ready in time")


async def sign_in(base: str, email: str = BENCH_EMAIL) -> str:
    """Sign in through the real form (CSRF token and all); returns the Cookie header to send."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(base + "/login") as r:
            html = await r.text()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        async with http.post(base + "/login", data={"email": email, "password": BENCH_PASSWORD,
                                                     "csrf_token": token}, allow_redirects=False) as r:
            if r.status != 302:
                raise RuntimeError(f"bench sign-in failed with {r.status}")
        return "; ".join(f"{c.key}={c.value}" for c in jar)


async def measure(base: str, path: str, headers: dict[str, str], clients: int, total: int,
                  time_limit_s: float) -> tuple[list[float], int, float]:
    """``total`` requests spread over ``clients`` concurrent loops; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    per_client = max(1, total // clients)
    deadline = time.monotonic() + time_limit_s
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as http:
        async def one_client() -> None:
            nonlocal errors
            for _ in range(per_client):
                if time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                try:
                    async with http.get(base + path, allow_redirects=False) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    errors += 1
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


async def run(args: argparse.Namespace, values: dict[str, str]) -> int:
    base = f"http://127.0.0.1:{args.port}"
    await wait_ready(base)
    cookie = await sign_in(base)
    lead_cookie = await sign_in(base, LEAD_EMAIL)
    auth_headers = {"none": {}, "session": {"Cookie": cookie}, "lead": {"Cookie": lead_cookie}, "token": {"Authorization": f"Bearer {values['token']}"}}
    print(f"load average at the start: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    print(f"gunicorn {args.workers} workers on {base}; {args.clients} concurrent clients; "
          f"{args.requests} requests per URL after {args.warmup} warm-up")
    print(f"{'target':28} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'x p50':>7} {'errors':>7}  target")
    baseline = None
    failed = 0
    missed: list[str] = []
    for target in TARGETS:
        if args.only and target is not TARGETS[0] and not any(o in target.name for o in args.only):
            continue
        path = target.path.format(**values)
        headers = auth_headers[target.auth]
        await measure(base, path, headers, args.clients, args.warmup, args.time_limit)
        lat, errors, elapsed = await measure(base, path, headers, args.clients, args.requests, args.time_limit)
        p50, p95 = pct(lat, 50), pct(lat, 95)
        baseline = baseline or p50
        failed += errors
        verdict = ""
        if target.p95_target_ms is not None:
            met = p95 < target.p95_target_ms
            verdict = f"  p95 < {target.p95_target_ms:.0f} ms: {'met' if met else 'MISSED'}"
            if not met:
                missed.append(target.name)
        print(f"{target.name:28} {p50:8.1f} {p95:8.1f} {len(lat) / elapsed:8.0f} {p50 / baseline:7.1f} {errors:7d}{verdict}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    if missed:
        print("target missed: " + ", ".join(missed))
    if failed:
        print(f"{failed} requests failed")
    return 1 if failed or missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_DB))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per URL (bounded)")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per URL at most")
    parser.add_argument("--schools", type=int, default=5)
    parser.add_argument("--pupils", type=int, default=400, help="per school")
    parser.add_argument("--only", action="append", default=[], help="measure only targets whose name contains this "
                                                                   "(repeatable; the healthz baseline always runs)")
    args = parser.parse_args(argv)
    args.port = free_port()
    from benchmarks.bench_queries import ensure_pg_database

    ensure_pg_database(args.database_url)  # a fresh machine has no bench database yet
    values = prepare_database(args.database_url, args.schools, args.pupils)
    log = Path(tempfile.gettempdir()) / "outreach-bench-gunicorn.log"
    server = start_gunicorn(args.database_url, args.port, args.workers, log)
    try:
        return asyncio.run(run(args, values))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
