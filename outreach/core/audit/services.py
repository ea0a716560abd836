"""Writing audit events. Pages showing a pupil's record, exports and admin changes call
``record``; it reads who and from where off the request, so callers say only what happened."""
from __future__ import annotations

from typing import Any, Iterable

from flask import has_request_context, request
from flask_login import current_user

from outreach.core.audit.models import AuditEvent, AuditEventPupil
from outreach.extensions import db


def _client_ip() -> str | None:
    # request.remote_addr is already the client's when TRUSTED_PROXY_COUNT sets up ProxyFix.
    return (request.remote_addr or None) if has_request_context() else None


def _current_user() -> Any:
    if not has_request_context():
        return None
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if getattr(user, "is_authenticated", False) else None


def record(action: str, *, school: Any = None, school_id: int | None = None,
           pupil_ids: Iterable[int] = (), detail: dict[str, Any] | None = None,
           user: Any = None, via: str | None = None, commit: bool = True) -> AuditEvent:
    """Add one audit event and (by default) commit it.

    ``action`` is a dotted name ("pupil.view", "pupils.export", "token.create"); ``school`` a
    School (or give ``school_id``); ``pupil_ids`` the pupils whose data was shown; ``detail``
    small JSON (ids, counts, filters: never names or contact details). ``user`` and ``via``
    default to the signed-in user and "api" or "web" from the request path; pass
    ``commit=False`` to make the event part of a caller's transaction.
    """
    user = user if user is not None else _current_user()
    if school is not None:
        school_id = school.id
    if via is None:
        via = ("api" if request.path.startswith("/api/") else "web") if has_request_context() else "cli"
    event = AuditEvent(
        action=action[:60], school_id=school_id, via=via, ip=_client_ip(), detail=detail or None,
        user_id=getattr(user, "id", None), user_email=getattr(user, "email", None),
    )
    event.pupils = [AuditEventPupil(pupil_id=int(pid), school_id=school_id) for pid in dict.fromkeys(pupil_ids)]
    db.session.add(event)
    if commit:
        commit_keeping_loaded()
    return event


def commit_keeping_loaded() -> None:
    """Commit without expiring what the request has already loaded. The page or API answer
    being audited is usually serialised after this commit; with the default expire-on-commit,
    each of its rows would be reloaded one query at a time (50 pupils: 50 queries)."""
    session = db.session()
    saved = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = saved
