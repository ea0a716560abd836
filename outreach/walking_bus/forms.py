"""Reading the walking-bus and parent-group page forms: plain HTML forms (CSRF checked by
Flask-WTF's global protection), parsed here into typed values or a ``UserError`` naming the
field, so a view never turns a typo into a 500."""
from __future__ import annotations

from datetime import date, time

from typing import Any, Callable

from flask import flash, redirect, request
from flask_login import current_user
from werkzeug.wrappers import Response

from outreach.core.errors import UserError
from outreach.core.scoping import require_school
from outreach.core.timeutil import implausible
from outreach.extensions import db


def text(name: str, *, required: bool = False, max_len: int = 300) -> str | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        if required:
            raise UserError(f"{name.replace('_', ' ')} is required")
        return None
    if len(value) > max_len:
        raise UserError(f"{name.replace('_', ' ')} is over {max_len} characters")
    return value


def integer(name: str, *, required: bool = True, lo: int = 0, hi: int = 2**31 - 1,
            source: str = "form") -> int | None:
    raw = ((request.form if source == "form" else request.args).get(name) or "").strip()
    if not raw:
        if required:
            raise UserError(f"{name.replace('_', ' ')} is required")
        return None
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"{name.replace('_', ' ')} must be a whole number, got {raw[:20]!r}") from None
    if not lo <= value <= hi:
        raise UserError(f"{name.replace('_', ' ')} must be {lo} to {hi}")
    return value


def day(name: str, *, required: bool = True, source: str = "form", default: date | None = None) -> date | None:
    raw = ((request.form if source == "form" else request.args).get(name) or "").strip()
    if not raw:
        if required and default is None:
            raise UserError(f"{name.replace('_', ' ')} is required (a date, YYYY-MM-DD)")
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise UserError(f"{name.replace('_', ' ')} must be a date like 2026-03-02, got {raw[:20]!r}") from None
    if problem := implausible(value):
        raise UserError(f"{name.replace('_', ' ')}: {problem}")
    return value


def clock(name: str, *, required: bool = True) -> time | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        if required:
            raise UserError(f"{name.replace('_', ' ')} is required (a time like 08:40)")
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise UserError(f"{name.replace('_', ' ')} must be a time like 08:40, got {raw[:20]!r}") from None


def weeks_arg(default: int = 6) -> int:
    """The impact period from ``?weeks=`` (1 to 20); anything else reads as the default."""
    try:
        return integer("weeks", required=False, lo=1, hi=20, source="args") or default
    except UserError:
        return default


def ids(name: str) -> list[int]:
    out = []
    for raw in request.form.getlist(name):
        try:
            value = int(raw)
        except ValueError:
            raise UserError(f"{name} must be ids") from None
        if not 0 < value < 2**31:
            raise UserError(f"{name} must be ids")
        out.append(value)
    return out


def checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "yes", "true")


def error_text(exc: UserError) -> str:
    details = exc.details if isinstance(exc.details, list) else ([exc.details] if exc.details else [])
    return exc.message + (": " + "; ".join(str(d) for d in details) if details else "")


def change(school_urn: str, action: Callable[[Any], str | None], back: str) -> Response:
    """Run a change for a school the user may write to; flash the result or the error."""
    school = require_school(current_user, school_urn, write=True)
    try:
        message = action(school)
        if message:
            flash(message, "success")
    except UserError as exc:
        if exc.status_code != 400:
            raise
        db.session.rollback()
        flash(error_text(exc), "error")
    return redirect(back, code=303)
