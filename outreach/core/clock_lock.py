"""Only one clock may act: a PostgreSQL advisory lock, or a lease row on SQLite.

Two clocks started by mistake (a second dyno, a deploy that overlaps the old release, an
operator running ``python -m jobs.clock`` by hand) must not both send the Monday digests or both
evaluate the night's rules. Each clock first takes the lock; one that cannot waits in standby
and retries, running nothing.

* PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection held for the clock's life. The
  lock belongs to that database session, so it is released the moment the process dies (the
  server sees the socket close): a standby takes over within one retry interval, with no expiry to
  wait for. ``renew`` checks that the session still holds it (a dropped connection loses it).
* SQLite (and any other engine): a row in ``clock_leases`` (name, holder, expires_at) taken with
  one conditional UPDATE (free, or expired, or already ours), renewed every few seconds. A clock
  that is killed keeps the lease until it expires; only then may a standby take it over. A
  holder that fails to renew in time must stop acting (``held`` turns false locally at
  ``expires_at`` even if the database cannot be reached).
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import DateTime, String, insert, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.timeutil import ensure_utc, utcnow
from outreach.extensions import db

log = logging.getLogger(__name__)


class ClockLease(db.Model):
    """Who holds the named lock and until when (SQLite; PostgreSQL uses an advisory lock)."""

    __tablename__ = "clock_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClockLock(Protocol):
    name: str
    holder: str

    def acquire(self) -> bool:
        """Take the lock if it is free (or already ours); True when held afterwards."""

    def renew(self) -> bool:
        """Keep holding it; False when it has been lost (the caller must stop acting)."""

    @property
    def held(self) -> bool:
        """Whether this process may act right now, as far as it knows without asking the database."""

    def release(self) -> None:
        """Give it up (on a clean shutdown), so a standby need not wait for an expiry."""


def default_holder() -> str:
    """host:pid:random, so two clocks on one host (or a reused pid) never look the same."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` from the lock's name."""
    return int.from_bytes(hashlib.sha256(f"outreach:{name}".encode()).digest()[:8], "big", signed=True)


class PostgresAdvisoryLock:
    """A session-level advisory lock held on a connection kept open for the clock's life."""

    def __init__(self, engine: Engine, name: str = "clock", holder: str | None = None):
        self.engine, self.name, self.holder = engine, name, holder or default_holder()
        self.key = advisory_key(name)
        self._conn: Connection | None = None
        self._held = False

    def acquire(self) -> bool:
        if self._held:
            return self.renew()
        try:
            if self._conn is None:
                self._conn = self.engine.connect()
            got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            self._conn.commit()  # the lock is the session's, not the transaction's: never sit idle in one
        except (OperationalError, DBAPIError):
            log.warning("clock lock: database not reachable while trying to take the lock")
            self._drop_connection()
            return False
        if not got:
            self._drop_connection()  # a standby holds no connection open while it waits
        self._held = got
        return got

    def renew(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            still = bool(self._conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND granted AND ((classid::bigint << 32) | objid::bigint) = :k)"), {"k": self.key}).scalar())
            self._conn.commit()
        except (OperationalError, DBAPIError):
            still = False
        if not still:
            log.error("clock lock: advisory lock %s lost", self.name)
            self._held = False
            self._drop_connection()
        return still

    @property
    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._conn is not None and self._held:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            except (OperationalError, DBAPIError):
                pass
        self._held = False
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never hand a connection holding a lock back to the pool
                self._conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._conn = None


class LeaseLock:
    """A lease row: taken when free or expired, renewed by its holder, expiring on its own."""

    def __init__(self, engine: Engine, name: str = "clock", holder: str | None = None, ttl_seconds: float = 60.0):
        if ttl_seconds <= 0:
            raise ValueError("the lease must last more than 0 seconds")
        self.engine, self.name, self.holder = engine, name, holder or default_holder()
        self.ttl = timedelta(seconds=ttl_seconds)
        self._expires_at: datetime | None = None
        self._table = ClockLease.__table__

    def acquire(self) -> bool:
        now = utcnow()
        expires = now + self.ttl
        t = self._table
        try:
            with self.engine.begin() as conn:
                # Free, expired or already ours: one statement, so two clocks cannot both win.
                taken = conn.execute(update(t).where(
                    t.c.name == self.name, (t.c.holder == self.holder) | (t.c.expires_at < now)
                ).values(holder=self.holder, expires_at=expires, acquired_at=now)).rowcount == 1
            if not taken:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(t).values(name=self.name, holder=self.holder, acquired_at=now,
                                                      expires_at=expires))
                    taken = True
                except IntegrityError:  # someone else's row, not expired
                    taken = False
        except OperationalError:  # database locked or unreachable: try again later
            log.warning("clock lock: could not reach the database to take or renew the lease")
            return self.held
        self._expires_at = expires if taken else None
        return taken

    def renew(self) -> bool:
        """Extend our own lease; a lease someone else took over after it expired is lost."""
        if self._expires_at is None:
            return False
        now = utcnow()
        expires = now + self.ttl
        t = self._table
        try:
            with self.engine.begin() as conn:
                kept = conn.execute(update(t).where(t.c.name == self.name, t.c.holder == self.holder)
                                    .values(expires_at=expires)).rowcount == 1
        except OperationalError:
            log.warning("clock lock: could not reach the database to renew the lease")
            return self.held  # still ours until it expires; then held turns false
        if not kept:
            log.error("clock lock: lease %s was taken over by another clock", self.name)
            self._expires_at = None
            return False
        self._expires_at = expires
        return True

    @property
    def held(self) -> bool:
        return self._expires_at is not None and utcnow() < self._expires_at

    def release(self) -> None:
        if self._expires_at is None:
            return
        t = self._table
        try:
            with self.engine.begin() as conn:
                conn.execute(t.delete().where(t.c.name == self.name, t.c.holder == self.holder))
        except OperationalError:
            pass
        self._expires_at = None

    def current(self) -> tuple[str, datetime] | None:
        """(holder, expires_at) of the lease row, if any (for status output)."""
        t = self._table
        with self.engine.connect() as conn:
            row = conn.execute(t.select().where(t.c.name == self.name)).first()
        return (row.holder, ensure_utc(row.expires_at)) if row else None  # type: ignore[return-value]


def clock_lock(engine: Engine, name: str = "clock", ttl_seconds: float = 60.0, holder: str | None = None) -> ClockLock:
    """The right lock for the engine: advisory on PostgreSQL, a lease row elsewhere."""
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine, name, holder)
    return LeaseLock(engine, name, holder, ttl_seconds)
