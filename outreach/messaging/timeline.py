"""Case-timeline sources for messaging: texts sent about a pupil and replies linked to them.

The interventions timeline (``outreach.interventions.queries.case_timeline``) knows nothing of
messaging tables; this module plugs two sources into it at import ("messages", "replies").
``outreach.web._register_messaging`` imports it so the sources exist once the app is built.

Both tables keep the pupils a row is about in a JSON array (``pupil_ids``: one text can cover
siblings). Matching a pupil is done in SQL, per dialect: PostgreSQL casts to JSONB and uses
``@>``; SQLite looks inside the array with ``json_each``. Any other dialect falls back to loading
the school's rows and checking in Python, which is correct but slower.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB

from outreach.extensions import db
from outreach.interventions.queries import TimelineEvent, register_timeline_source
from outreach.interventions.services import aware
from outreach.messaging.labels import explain_error, status_label
from outreach.messaging.models import InboxMessage, OutboxMessage
from outreach.schools.models import Contact

# What each purpose is called on a case timeline; an unknown purpose is shown as its words.
_PURPOSE_WORDS = {"reply": "automatic answer"}


def _with_pupil(query: Select[Any], column: Any, pupil_id: int) -> tuple[Select[Any], bool]:
    """Narrow ``query`` to rows whose JSON array ``column`` holds ``pupil_id``. Returns the query
    and whether the filter was applied in SQL (False: the caller must check in Python)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return query.where(cast(column, JSONB).contains([pupil_id])), True
    if dialect == "sqlite":
        each = func.json_each(column).table_valued("value")
        return query.where(exists(select(literal_column("1")).select_from(each).where(each.c.value == pupil_id))), True
    return query, False


def _holds(pupil_ids: Any, pupil_id: int) -> bool:
    return pupil_id in [int(p) for p in (pupil_ids or [])]


def message_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    """Each outbox text of this school that was about the pupil, at the time it was sent (or is
    due to go: quiet hours already applied), titled with what happened to it."""
    query, in_sql = _with_pupil(
        select(OutboxMessage, Contact.name).outerjoin(Contact, Contact.id == OutboxMessage.contact_id)
        .where(OutboxMessage.school_id == school_id), OutboxMessage.pupil_ids, pupil_id)
    events = []
    for row, contact_name in db.session.execute(query):
        if not in_sql and not _holds(row.pupil_ids, pupil_id):
            continue
        word = status_label(row.status).word
        who = contact_name or "parent"
        kind_words = _PURPOSE_WORDS.get(row.purpose, row.purpose.replace("_", " "))
        title = f"Text to {who} ({word.lower()}): {kind_words}"
        detail = row.body
        explanation = explain_error(row.error_code) if row.status in ("failed", "undelivered") else None
        if explanation:
            detail = f"{detail}\n{explanation}"
        at = row.sent_at or row.delivered_at or row.not_before  # when it went, or is (was) due to go
        events.append(TimelineEvent(aware(at), "message", title, detail, row.created_by,
                                    {"outbox_id": row.id, "status": row.status, "purpose": row.purpose}))
    return events


def reply_events(school_id: int, pupil_id: int) -> list[TimelineEvent]:
    """Each text a family sent that the inbox linked to this pupil, at the time it came in."""
    query, in_sql = _with_pupil(
        select(InboxMessage, Contact.name).outerjoin(Contact, Contact.id == InboxMessage.contact_id)
        .where(InboxMessage.school_id == school_id), InboxMessage.pupil_ids, pupil_id)
    events = []
    for row, contact_name in db.session.execute(query):
        if not in_sql and not _holds(row.pupil_ids, pupil_id):
            continue
        done = f" (dealt with{f' by {row.handled_by}' if row.handled_by else ''})" if row.status == "done" else ""
        title = f"Reply from {contact_name or 'parent'}{done}"
        detail = row.body if not row.summary else f"{row.body}\n{row.summary}"
        # "by" is who acted; a reply is the family's, so it is left empty (the officer is in the title)
        events.append(TimelineEvent(aware(row.received_at), "reply", title, detail, None,
                                    {"inbox_id": row.id, "status": row.status}))
    return events


register_timeline_source("messages", message_events)
register_timeline_source("replies", reply_events)
