"""Import batch rows shared by register, pupil and contact imports."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.registers.models import ImportBatch
from outreach.registers.report import ImportReport, ProblemLog


def digest(path: str | Path) -> tuple[str, int]:
    """SHA-256 and line count of a file, in one pass over its bytes (a progress total and a way
    to say "this is the same file as import N")."""
    sha = hashlib.sha256()
    lines = 0
    last = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk
    if last and not last.endswith(b"\n"):
        lines += 1
    return sha.hexdigest(), lines


def same_file_batch(school_id: int, kind: str, sha: str) -> int | None:
    return db.session.scalar(
        select(ImportBatch.id).where(ImportBatch.school_id == school_id, ImportBatch.kind == kind,
                                     ImportBatch.file_sha256 == sha, ImportBatch.status == "completed")
        .order_by(ImportBatch.id.desc()).limit(1))


def fail(report: ImportReport, log: ProblemLog, *, school_id: int, created_by: str, sha: str | None) -> ImportReport:
    """Roll back whatever the import wrote and record a ``failed`` batch with its errors (unless a
    dry run, which writes nothing at all)."""
    db.session.rollback()
    report.status = "failed"
    report.errors = log.items
    report.error_count = log.count
    report.added = report.changed = report.unchanged = 0
    report.changes = []
    report.batch_id = None
    if not report.dry_run:
        batch = ImportBatch(school_id=school_id, kind=report.kind, created_by=created_by, file_name=report.file_name,
                            file_sha256=sha, format=report.format, status="failed", rows_total=report.rows,
                            rows_processed=report.rows, not_taken=report.not_taken, errors=log.items,
                            error_count=log.count, finished_at=utcnow())
        db.session.add(batch)
        db.session.commit()
        report.batch_id = batch.id
    return report
