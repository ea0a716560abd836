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


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # may use {urn} and {pupil_id}
    auth: str  # none | session | token


# The one list of URLs measured. Later pages (Today, Pupils, Trust...) add a line here.
TARGETS = [
    Target("healthz (baseline)", "/healthz", "none"),
    Target("schools list", "/schools", "session"),
    Target("school home", "/schools/{urn}", "session"),
    Target("account", "/account", "session"),
    Target("school imports", "/schools/{urn}/imports", "session"),
    Target("api schools", "/api/v1/schools", "token"),
    Target("api school", "/api/v1/schools/{urn}", "token"),
    Target("api pupils page", "/api/v1/schools/{urn}/pupils?per_page=50", "token"),
    Target("api pupil (audited)", "/api/v1/pupils/{pupil_id}", "token"),
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
        user = services.get_user_by_email(BENCH_EMAIL)
        if user is None:
            user = services.create_user(BENCH_EMAIL, "attendance_officer", BENCH_PASSWORD,
                                        school_urns=[BENCH_URN, str(int(BENCH_URN) + 1)])
        services.unlock(BENCH_EMAIL)
        _, token = services.create_token(user, "bench")
        school_id = db.session.scalar(select(School.id).where(School.urn == BENCH_URN))
        pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.school_id == school_id).limit(1))
    return {"urn": BENCH_URN, "pupil_id": str(pupil_id), "token": token}


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


async def sign_in(base: str) -> str:
    """Sign in through the real form (CSRF token and all); returns the Cookie header to send."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(base + "/login") as r:
            html = await r.text()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        async with http.post(base + "/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD,
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
    auth_headers = {"none": {}, "session": {"Cookie": cookie}, "token": {"Authorization": f"Bearer {values['token']}"}}
    print(f"gunicorn {args.workers} workers on {base}; {args.clients} concurrent clients; "
          f"{args.requests} requests per URL after {args.warmup} warm-up")
    print(f"{'target':28} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'x p50':>7} {'errors':>7}")
    baseline = None
    failed = 0
    for target in TARGETS:
        path = target.path.format(**values)
        headers = auth_headers[target.auth]
        await measure(base, path, headers, args.clients, args.warmup, args.time_limit)
        lat, errors, elapsed = await measure(base, path, headers, args.clients, args.requests, args.time_limit)
        p50, p95 = pct(lat, 50), pct(lat, 95)
        baseline = baseline or p50
        failed += errors
        print(f"{target.name:28} {p50:8.1f} {p95:8.1f} {len(lat) / elapsed:8.0f} {p50 / baseline:7.1f} {errors:7d}")
    return 1 if failed else 0


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
    args = parser.parse_args(argv)
    args.port = free_port()
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
