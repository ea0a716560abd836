"""Failed sign-in counting and lockout, shared by every worker through the database.

Each failure is one atomic upsert per scope (``INSERT ... ON CONFLICT DO UPDATE``, which both
PostgreSQL and SQLite support), so concurrent workers cannot lose counts. A window opens at the
first failure; reaching the limit inside it locks the key until ``locked_until``. The account key
is a hash of the typed email whether or not such an account exists, so a lockout reveals nothing
about which emails are registered.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from outreach.core.accounts.models import LoginThrottle
from outreach.core.timeutil import utcnow
from outreach.extensions import db


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@dataclass(frozen=True)
class Lockout:
    until: datetime


def _limits() -> tuple[int, int, timedelta]:
    cfg = current_app.config
    return int(cfg["LOGIN_MAX_FAILURES"]), int(cfg["LOGIN_MAX_FAILURES_PER_IP"]), timedelta(minutes=int(cfg["LOGIN_LOCKOUT_MINUTES"]))


def _keys(email: str, ip: str | None) -> list[tuple[str, str, int]]:
    per_account, per_ip, _ = _limits()
    keys = [("account", account_key(email), per_account)]
    if ip:
        keys.append(("ip", ip[:64], per_ip))
    return keys


def current_lockout(email: str, ip: str | None, now: datetime | None = None) -> Lockout | None:
    """The lockout in force for this email or this address, if any (the later one wins)."""
    now = now or utcnow()
    conditions = [and_(LoginThrottle.scope == s, LoginThrottle.key == k) for s, k, _ in _keys(email, ip)]
    until = db.session.scalar(
        select(LoginThrottle.locked_until).where(or_(*conditions), LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc()).limit(1)
    )
    return Lockout(until) if until else None


def record_failure(email: str, ip: str | None, now: datetime | None = None) -> Lockout | None:
    """Count one failure against the account and the address; returns the lockout it caused."""
    now = now or utcnow()
    _, _, window = _limits()
    floor = now - window
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = LoginThrottle.__table__
    lockout = None
    for scope, key, limit in _keys(email, ip):
        expired = table.c.window_started_at < floor
        stmt = insert(table).values(scope=scope, key=key, failures=1, window_started_at=now, locked_until=None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.scope, table.c.key],
            set_={
                "failures": case((expired, 1), else_=table.c.failures + 1),
                "window_started_at": case((expired, now), else_=table.c.window_started_at),
            },
        ).returning(table.c.failures)
        failures = db.session.execute(stmt).scalar_one()
        if failures >= limit:
            until = now + window
            db.session.execute(
                update(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
                .values(locked_until=until, failures=0, window_started_at=now)
            )
            lockout = Lockout(until)
    # Forget stale rows now and then (failures are rare, so this costs little).
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at < now - timedelta(days=1),
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
    )
    return lockout


def clear_account(email: str) -> None:
    """Forget an account's failures (after a successful sign-in, or an admin's unlock)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.scope == "account", LoginThrottle.key == account_key(email)))
