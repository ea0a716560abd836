"""Uploads waiting for (or done with) the import worker: the web import's job table.

Why a table of its own rather than a pending ``ImportBatch``: the importer writes its batch
inside the import's own transaction (and a dry run writes none), so the web flow needs a row
that exists *before* any import runs, survives a dry run, and says what the worker should do
next. ``ImportBatch`` stays what it is: the record of an import that ran.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.timeutil import utcnow
from outreach.extensions import db

# The life of an upload. The worker moves it along; people only confirm or cancel.
#   queued_preview -> previewing -> preview (ready to confirm) | preview_failed (errors in the file)
#   preview -> queued_import (confirmed) -> importing -> completed | failed
#   queued_preview | preview | preview_failed -> cancelled
STATUSES = ("queued_preview", "previewing", "preview", "preview_failed", "queued_import", "importing",
            "completed", "failed", "cancelled")
ACTIVE = ("queued_preview", "previewing", "queued_import", "importing")  # the worker still has work
FINISHED = ("completed", "failed", "cancelled", "preview_failed")
KINDS = ("registers", "pupils", "contacts")


class ImportUpload(db.Model):
    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(10), default="auto")  # as asked: auto, long, wide, ctf
    mapping: Mapped[str | None] = mapped_column(String(40))  # a built-in mapping name
    file_name: Mapped[str] = mapped_column(String(300))  # the name the user's file had
    stored_name: Mapped[str] = mapped_column(String(300))  # relative to the upload folder
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="queued_preview", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(200))  # email copy: outlives the account
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # current step's start
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the dry run's ImportReport.to_dict()
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the real import's report
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"))
    problem: Mapped[str | None] = mapped_column(Text)  # why the worker could not run it (not file errors)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
