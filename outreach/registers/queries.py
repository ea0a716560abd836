"""Reads for the Imports pages and API (no writes)."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Select, func, select

from outreach.extensions import db
from outreach.registers.models import ImportBatch, MarkChange
from outreach.registers.upload_models import ImportUpload
from outreach.schools.models import Pupil

OPEN = ("queued_preview", "previewing", "preview", "preview_failed", "queued_import", "importing")
MAX_CHANGES_SHOWN = 50


def batches_stmt(school_id: int) -> Select[tuple[ImportBatch]]:
    """A school's imports, newest first (CLI and web alike)."""
    return select(ImportBatch).where(ImportBatch.school_id == school_id).order_by(ImportBatch.id.desc())


def open_uploads(school_id: int, limit: int = 20) -> list[ImportUpload]:
    """Uploads still being checked, waiting for a decision, or being imported (newest first);
    a checked upload stays listed until it is confirmed or cancelled (or dropped after a week)."""
    return list(db.session.scalars(select(ImportUpload).where(ImportUpload.school_id == school_id,
                                                              ImportUpload.status.in_(OPEN))
                                   .order_by(ImportUpload.id.desc()).limit(limit)))


def latest_batches(school_ids: Iterable[int]) -> dict[int, ImportBatch]:
    """Each school's most recent import (one query, for the schools list)."""
    ids = list(school_ids)
    if not ids:
        return {}
    newest = (select(func.max(ImportBatch.id)).where(ImportBatch.school_id.in_(ids))
              .group_by(ImportBatch.school_id).scalar_subquery())
    return {b.school_id: b for b in db.session.scalars(select(ImportBatch).where(ImportBatch.id.in_(newest)))}


def batch_changes(batch_id: int, limit: int = MAX_CHANGES_SHOWN) -> dict[str, Any]:
    """The corrections a register import made (first ``limit``, by date) and how many in all."""
    total = db.session.scalar(select(func.count()).select_from(MarkChange).where(MarkChange.batch_id == batch_id)) or 0
    rows = db.session.execute(
        select(MarkChange, Pupil.upn, Pupil.forename, Pupil.surname, Pupil.preferred_forename)
        .join(Pupil, Pupil.id == MarkChange.pupil_id).where(MarkChange.batch_id == batch_id)
        .order_by(MarkChange.date, MarkChange.session, Pupil.surname, Pupil.id).limit(limit)).all()
    items = [{"pupil_id": c.pupil_id, "upn": upn, "name": f"{preferred or forename} {surname}", "date": c.date,
              "session": c.session, "old": c.old_code, "new": c.new_code} for c, upn, forename, surname, preferred in rows]
    return {"items": items, "total": total}
