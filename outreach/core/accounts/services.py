"""Everything that changes accounts: creating users, signing in, passwords, tokens.

Each public function owns its transaction (commits on success, changes nothing on a
``UserError``). Views and the CLI call these and only render or print.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import func, select

from outreach.core.accounts import passwords, throttle
from outreach.core.accounts.models import ApiToken, User, new_session_nonce
from outreach.core.accounts.roles import ROLES, check_assignment
from outreach.core.accounts.tokens import PREFIX_SHOWN, new_token, token_hash
from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import ensure_utc, utcnow
from outreach.extensions import db
from outreach.schools.models import School, Trust

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most once a minute


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def require_user(email: str) -> User:
    user = get_user_by_email(email)
    if user is None:
        raise NotFound(f"no user with email {normalise_email(email)}")
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def _schools_by_urn(urns: Iterable[str]) -> list[School]:
    wanted = [str(u).strip() for u in urns]
    found = {s.urn: s for s in db.session.scalars(select(School).where(School.urn.in_(wanted)))}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise UserError("unknown school URN", [f"no school with URN {u}" for u in missing])
    return [found[u] for u in dict.fromkeys(wanted)]


def _trust_by_name(name: str) -> Trust:
    trust = db.session.scalar(select(Trust).where(func.lower(Trust.name) == name.strip().lower()))
    if trust is None:
        raise UserError(f"no trust called {name!r} (add it with `outreach schools add --trust`)")
    return trust


def create_user(email: str, role: str, password: str, *, school_urns: Iterable[str] = (),
                trust_name: str | None = None, name: str | None = None) -> User:
    """Create an account. The role decides what must be given: see ``roles.check_assignment``."""
    email = normalise_email(email)
    problems: list[str] = []
    if not EMAIL_RE.match(email) or len(email) > 254:
        problems.append(f"{email!r} is not an email address")
    urns = [str(u).strip() for u in school_urns if str(u).strip()]
    problems += check_assignment(role, len(set(urns)), bool(trust_name))
    problems += passwords.password_problems(password, email)
    if problems:
        raise UserError("cannot create the user", problems)
    if get_user_by_email(email) is not None:
        raise UserError(f"a user with email {email} already exists")
    user = User(email=email, role=role, name=(name or "").strip() or None,
                password_hash=passwords.hash_password(password), password_changed_at=utcnow())
    if urns:
        user.schools = _schools_by_urn(urns)
    if trust_name:
        user.trust = _trust_by_name(trust_name)
    db.session.add(user)
    db.session.commit()
    return user


def set_active(user: User, active: bool) -> User:
    """(De)activate. Deactivating rotates the session nonce, so open sessions end at once;
    the user's API tokens stop working because token auth checks ``active``."""
    user.active = active
    if not active:
        user.session_nonce = new_session_nonce()
    db.session.commit()
    return user


def set_password(user: User, new_password: str) -> None:
    problems = passwords.password_problems(new_password, user.email)
    if problems:
        raise UserError("that password cannot be used", problems)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    user.session_nonce = new_session_nonce()  # every other session ends
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not passwords.verify_password(user.password_hash, current_password):
        raise UserError("your current password was not right", {"current_password": ["Check your current password."]})
    set_password(user, new_password)


# Signing in -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    locked_until: datetime | None = None
    inactive: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(email: str, password: str, ip: str | None) -> SignInResult:
    """Check a sign-in, counting failures per account and per address.

    While a lockout is in force the password is not even checked, so guessing gains nothing.
    Unknown emails, wrong passwords and deactivated accounts are all counted as failures and
    give the caller nothing to tell apart, except that a deactivated account with the right
    password is told so (only its owner can get that far).
    """
    email = normalise_email(email)
    lock = throttle.current_lockout(email, ip)
    if lock:
        db.session.commit()
        return SignInResult(locked_until=lock.until)
    user = get_user_by_email(email) if email else None
    ok = passwords.verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None:
        lock = throttle.record_failure(email, ip)
        db.session.commit()
        return SignInResult(locked_until=lock.until if lock else None)
    if not user.active:
        db.session.commit()
        return SignInResult(inactive=True)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    throttle.clear_account(email)
    db.session.commit()
    return SignInResult(user=user)


def unlock(email: str) -> None:
    throttle.clear_account(email)
    db.session.commit()


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's user loader: ``"<id>.<nonce>"``; a stale nonce or inactive user is nobody."""
    user_id, _, nonce = (session_id or "").partition(".")
    if not user_id.isdigit() or not nonce:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user


# API tokens -------------------------------------------------------------------------------

def create_token(user: User, name: str, created_by: User | None = None) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is never stored and cannot be shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise UserError("give the token a name of 1 to 100 characters (what will use it?)")
    if not user.active:
        raise UserError("cannot create a token for a deactivated user")
    secret = new_token()
    token = ApiToken(user=user, name=name, token_hash=token_hash(secret), prefix=secret[:PREFIX_SHOWN],
                     created_by_id=created_by.id if created_by else None)
    db.session.add(token)
    db.session.commit()
    return token, secret


def get_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    return token


def revoke_token(token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def user_for_token(secret: str) -> User | None:
    """The active user a presented token belongs to (None when unknown, revoked or inactive).
    Marks the token used, writing at most once a minute so busy clients do not write per call."""
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    last = ensure_utc(token.last_used_at)
    if last is None or now - last >= TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
        db.session.commit()
    return token.user


__all__ = [
    "ROLES", "SignInResult", "authenticate", "change_password", "create_token", "create_user",
    "get_token", "get_user_by_email", "list_users", "load_session_user", "normalise_email",
    "require_user", "revoke_token", "set_active", "set_password", "unlock", "user_for_token",
]
