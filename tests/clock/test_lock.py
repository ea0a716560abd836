"""The single-clock lock in one process: a lease row (both engines have the table) and, on
PostgreSQL, the advisory lock."""
from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy import text

from outreach.core.clock_lock import LeaseLock, PostgresAdvisoryLock, advisory_key, clock_lock
from outreach.extensions import db


def test_lease_taken_once_renewed_and_taken_over_only_after_expiry(app: Flask) -> None:
    a = LeaseLock(db.engine, "t", holder="a", ttl_seconds=0.6)
    b = LeaseLock(db.engine, "t", holder="b", ttl_seconds=0.6)
    assert a.acquire() and a.held
    assert not b.acquire() and not b.held
    time.sleep(0.35)
    assert a.renew()  # renewed before expiry: still not b's
    time.sleep(0.35)
    assert not b.acquire()
    time.sleep(0.7)  # a stopped renewing (a hung or killed clock)
    assert not a.held  # a knows on its own that it may no longer act
    assert b.acquire() and b.held
    assert not a.renew() and not a.held  # a comes back: it has lost the lease
    a.release()  # releasing a lost lease leaves b's alone
    assert b.current() is not None and b.current()[0] == "b"
    b.release()
    assert b.current() is None
    assert a.acquire()
    a.release()


def test_lease_needs_a_positive_ttl(app: Flask) -> None:
    with pytest.raises(ValueError):
        LeaseLock(db.engine, "t", ttl_seconds=0)


def test_engine_decides_the_kind_of_lock(app: Flask) -> None:
    kind = PostgresAdvisoryLock if db.engine.dialect.name == "postgresql" else LeaseLock
    assert isinstance(clock_lock(db.engine, "t"), kind)
    assert advisory_key("clock") == advisory_key("clock") != advisory_key("other")
    assert -2**63 <= advisory_key("clock") < 2**63


def test_advisory_lock_one_holder_and_lost_with_its_connection(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    a = PostgresAdvisoryLock(db.engine, "adv-test", holder="a")
    b = PostgresAdvisoryLock(db.engine, "adv-test", holder="b")
    try:
        assert a.acquire() and a.renew()
        assert not b.acquire()
        a.release()
        assert b.acquire()
        assert not a.acquire()
        # the holder's database session dies (a failover, a killed backend): it knows it lost the lock
        pid = b._conn.execute(text("SELECT pg_backend_pid()")).scalar()  # type: ignore[union-attr]
        b._conn.commit()  # type: ignore[union-attr]
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        assert not b.renew() and not b.held
        assert a.acquire()
    finally:
        a.release()
        b.release()
