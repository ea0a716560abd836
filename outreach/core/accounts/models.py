"""Accounts: users, their school assignments, API tokens and the login throttle.

Staff emails and password hashes live here; no pupil data does.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.core.accounts.roles import ROLES, WRITE_ROLES, Role
from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.schools.models import School, Trust

user_schools = Table(
    "user_schools",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def new_session_nonce() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    """A member of staff who signs in. ``email`` is stored lower-cased, so uniqueness is
    case-insensitive on every engine without functional indexes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the Flask-Login id: rotating it (password change, deactivation) ends every session.
    session_nonce: Mapped[str] = mapped_column(String(32), default=new_session_nonce)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    trust: Mapped[Trust | None] = relationship()
    schools: Mapped[list[School]] = relationship(secondary=user_schools, order_by=School.name)
    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="ApiToken.user_id"
    )

    __table_args__ = (
        CheckConstraint("role in ('admin','trust_lead','head','attendance_officer')", name="role"),
    )

    # Flask-Login ---------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}.{self.session_nonce}"

    # Role helpers (facts about the role only; which schools is outreach.core.scoping's job) --
    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def may_write(self) -> bool:
        return self.role in WRITE_ROLES

    def __repr__(self) -> str:  # no email in reprs: they end up in logs
        return f"<User {self.id} {self.role}>"


assert set(ROLES) == {"admin", "trust_lead", "head", "attendance_officer"}  # keep the check constraint in step


class ApiToken(db.Model):
    """A bearer token for API clients. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to recognise a token
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens", foreign_keys=[user_id])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LoginThrottle(db.Model):
    """Failed sign-ins counted per account and per IP address, in the database so every gunicorn
    worker (and every host) sees the same counts. ``key`` is a SHA-256 of the email for the
    account scope (a mistyped password pasted into the email box is never stored) and the
    address for the IP scope."""

    __tablename__ = "login_throttles"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # account | ip
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("scope in ('account','ip')", name="scope"),)
