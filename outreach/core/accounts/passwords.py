"""Password hashing with argon2id (argon2-cffi), parameters from the app config.

Parameters live in settings so operators can raise them as hardware improves; a hash made with
older parameters is re-hashed at the next successful sign-in (``needs_rehash``).
"""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12  # NCSC: length beats composition rules
MAX_LENGTH = 1024  # argon2 copes with more, but a megabyte "password" is an attack, not a user


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("not a real password: evens out timing")


def _params() -> tuple[int, int, int]:
    cfg = current_app.config
    return (int(cfg["ARGON2_TIME_COST"]), int(cfg["ARGON2_MEMORY_KIB"]), int(cfg["ARGON2_PARALLELISM"]))


def hash_password(password: str) -> str:
    return _hasher(*_params()).hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. With no hash (unknown account) a dummy hash is checked,
    so an unknown email takes as long to refuse as a wrong password (no enumeration by timing)."""
    params = _params()
    target = password_hash or _dummy_hash(*params)
    try:
        ok = _hasher(*params).verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher(*_params()).check_needs_rehash(password_hash)


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Reasons a new password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"a password needs at least {MIN_LENGTH} characters (three random words work well)")
    if len(password) > MAX_LENGTH:
        problems.append(f"a password may have at most {MAX_LENGTH} characters")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("a password must not be the email address")
    return problems
