"""Every setting comes from the environment, parsed by small helpers (the Redash way).

Defaults give a working embedded setup: a SQLite file under ``instance/``, messages recorded
instead of sent, email printed instead of sent. Secrets are never defaulted in production: a
missing ``SECRET_KEY`` gets a per-process random key and a warning, so sessions do not survive
restarts until one is configured.
"""
from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env_str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    return value if value not in (None, "") else default


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:  # a typo in deployment config must fail loudly at start-up
        raise ValueError(f"setting {name} must be a whole number, got {value!r}") from exc


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got {value!r}") from exc


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosts hand out and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'outreach.db'}"


def load_settings(env: Mapping[str, str] | None = None, instance_path: Path | None = None) -> dict[str, Any]:
    """Return the Flask config mapping for this process."""
    env = os.environ if env is None else env
    instance_path = instance_path or Path(env_str(env, "OUTREACH_INSTANCE_PATH", str(PROJECT_ROOT / "instance")))
    secret = env_str(env, "SECRET_KEY")
    if secret is None:
        if env_bool(env, "OUTREACH_REQUIRE_SECRET", False):
            raise RuntimeError("SECRET_KEY must be set in the environment")
        warnings.warn("SECRET_KEY is not set: using a random key for this process", stacklevel=2)
        secret = secrets.token_hex(32)
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            env_str(env, "DATABASE_URL", default_database_url(instance_path))
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "OUTREACH_TIMEZONE": env_str(env, "OUTREACH_TIMEZONE", "Europe/London"),
        "OUTREACH_PUBLIC_BASE_URL": env_str(env, "OUTREACH_PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # Messaging (Twilio); without credentials the console gateway records messages instead.
        "TWILIO_ACCOUNT_SID": env_str(env, "TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env_str(env, "TWILIO_AUTH_TOKEN"),
        "TWILIO_MESSAGING_SERVICE_SID": env_str(env, "TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_FROM_NUMBER": env_str(env, "TWILIO_FROM_NUMBER"),
        "TWILIO_API_BASE_URL": env_str(env, "TWILIO_API_BASE_URL"),
        "SMS_RATE_PER_SECOND": env_float(env, "SMS_RATE_PER_SECOND", 1.0),
        # Unset: the rate limiter counts each request until it has ended (never over the rate at
        # Twilio). Set (e.g. 0.1): counts it at most this long after its start, cheaper against a
        # distant Twilio, exact only while requests arrive that soon (delivery.RateLimiter).
        "SMS_RATE_SLACK_SECONDS": env_float(env, "SMS_RATE_SLACK_SECONDS", float("inf")),
        # The sender (docs/messaging.md): parallel requests, rows claimed at once, retries, and how
        # long a claim by a sender that stopped answering is honoured before it is reconciled.
        "SMS_SENDER_CONCURRENCY": env_int(env, "SMS_SENDER_CONCURRENCY", 4),
        "SMS_BATCH_SIZE": env_int(env, "SMS_BATCH_SIZE", 50),
        "SMS_MAX_ATTEMPTS": env_int(env, "SMS_MAX_ATTEMPTS", 6),
        "SMS_RETRY_BASE_SECONDS": env_float(env, "SMS_RETRY_BASE_SECONDS", 30.0),
        "SMS_CLAIM_LEASE_SECONDS": env_float(env, "SMS_CLAIM_LEASE_SECONDS", 600.0),
        "SMS_HTTP_TIMEOUT_SECONDS": env_float(env, "SMS_HTTP_TIMEOUT_SECONDS", 15.0),
        # Quiet hours (school wall clock); a school's own settings override these defaults.
        "OUTREACH_QUIET_HOURS": env_str(env, "OUTREACH_QUIET_HOURS", "20:00-08:00"),
        "OUTREACH_QUIET_DAYS": env_str(env, "OUTREACH_QUIET_DAYS", "sun"),
        # Walking buses: when ambassadors get next week's rota, and their evening-before reminder
        # (London wall clock; see docs/walking-buses.md for how they relate to quiet hours).
        "WALKING_BUS_SCHEDULE_DAY": env_str(env, "WALKING_BUS_SCHEDULE_DAY", "sun"),
        "WALKING_BUS_SCHEDULE_TIME": env_str(env, "WALKING_BUS_SCHEDULE_TIME", "18:00"),
        "WALKING_BUS_REMINDER_TIME": env_str(env, "WALKING_BUS_REMINDER_TIME", "18:00"),
        # Email (weekly digest); without SMTP_HOST the console backend prints instead.
        "SMTP_HOST": env_str(env, "SMTP_HOST"),
        "SMTP_PORT": env_int(env, "SMTP_PORT", 25),
        "SMTP_USERNAME": env_str(env, "SMTP_USERNAME"),
        "SMTP_PASSWORD": env_str(env, "SMTP_PASSWORD"),
        "SMTP_STARTTLS": env_bool(env, "SMTP_STARTTLS", False),
        "MAIL_FROM": env_str(env, "MAIL_FROM", "outreach@localhost"),
        "SMTP_TIMEOUT_SECONDS": env_float(env, "SMTP_TIMEOUT_SECONDS", 30.0),
        # Weekly digest for heads (docs/digest.md): day and London time it is sent, who gets it.
        "DIGEST_DAY": env_str(env, "DIGEST_DAY", "mon"),
        "DIGEST_TIME": env_str(env, "DIGEST_TIME", "07:00"),
        "DIGEST_INCLUDE_OFFICERS": env_bool(env, "DIGEST_INCLUDE_OFFICERS", False),
        "DIGEST_MAX_ATTEMPTS": env_int(env, "DIGEST_MAX_ATTEMPTS", 5),
        # The clock process (docs/operations.md): job times are Europe/London wall-clock times.
        "CLOCK_EVALUATE_TIME": env_str(env, "CLOCK_EVALUATE_TIME", "19:00"),
        "CLOCK_REFERRAL_REVIEWS_TIME": env_str(env, "CLOCK_REFERRAL_REVIEWS_TIME", "07:30"),
        "CLOCK_PENDING_SECONDS": env_float(env, "CLOCK_PENDING_SECONDS", 15.0),
        "CLOCK_DISABLED_JOBS": env_str(env, "CLOCK_DISABLED_JOBS", ""),
        "CLOCK_JOB_TABLE": env_str(env, "CLOCK_JOB_TABLE", "jobs.clock:JOBS"),
        "CLOCK_LOCK_NAME": env_str(env, "CLOCK_LOCK_NAME", "clock"),
        "CLOCK_LEASE_SECONDS": env_float(env, "CLOCK_LEASE_SECONDS", 60.0),
        "CLOCK_RENEW_SECONDS": env_float(env, "CLOCK_RENEW_SECONDS", 15.0),
        "CLOCK_STANDBY_RETRY_SECONDS": env_float(env, "CLOCK_STANDBY_RETRY_SECONDS", 15.0),
        "CLOCK_STOP_WAIT_SECONDS": env_float(env, "CLOCK_STOP_WAIT_SECONDS", 25.0),
        # Password of the demo accounts `outreach demo` creates (unset: the documented demo password).
        "OUTREACH_DEMO_PASSWORD": env_str(env, "OUTREACH_DEMO_PASSWORD"),
        # Web session hygiene.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_bool(env, "SESSION_COOKIE_SECURE", False),
        "PERMANENT_SESSION_LIFETIME": env_int(env, "SESSION_TIMEOUT_MINUTES", 60) * 60,  # idle timeout
        "SESSION_MAX_HOURS": env_int(env, "SESSION_MAX_HOURS", 12),  # absolute, whatever the activity
        # Sign-in throttle (counted in the database, so it holds across workers and hosts).
        "LOGIN_MAX_FAILURES": env_int(env, "LOGIN_MAX_FAILURES", 5),  # per account
        "LOGIN_MAX_FAILURES_PER_IP": env_int(env, "LOGIN_MAX_FAILURES_PER_IP", 30),  # a school shares one address
        "LOGIN_LOCKOUT_MINUTES": env_int(env, "LOGIN_LOCKOUT_MINUTES", 15),
        # Password hashing (argon2id); defaults are RFC 9106's low-memory profile. Stored hashes
        # made with other parameters are re-hashed at the next successful sign-in.
        "ARGON2_TIME_COST": env_int(env, "ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_KIB": env_int(env, "ARGON2_MEMORY_KIB", 65536),
        "ARGON2_PARALLELISM": env_int(env, "ARGON2_PARALLELISM", 4),
        # Reverse proxies in front of gunicorn whose X-Forwarded-For is trusted (0: none).
        "TRUSTED_PROXY_COUNT": env_int(env, "TRUSTED_PROXY_COUNT", 0),
        "API_MAX_PER_PAGE": env_int(env, "API_MAX_PER_PAGE", 100),
        "MAX_CONTENT_LENGTH": env_int(env, "MAX_UPLOAD_MB", 200) * 1024 * 1024,
    }
