"""``/api/v1``: a school's imports, one import with its errors, one web upload's state."""
from __future__ import annotations

from typing import Any

from flask_login import current_user

from outreach.core.api import ApiBlueprint
from outreach.core.pagination import Page, paginate
from outreach.core.scoping import require_row, require_school
from outreach.registers import queries, uploads
from outreach.registers.models import ImportBatch
from outreach.registers.schemas import (
    ImportBatchDetailSchema, ImportBatchSchema, ImportListQuerySchema, ImportUploadSchema,
)
from outreach.registers.upload_models import ACTIVE, ImportUpload

bp = ApiBlueprint("imports_api", __name__, tag="Imports", description="Imports of pupils, contacts and registers.")


@bp.endpoint("/schools/<urn>/imports", summary="A school's imports", query=ImportListQuerySchema,
              response=ImportBatchSchema, paginated=True)
def list_imports(urn: str, query: dict[str, Any]) -> Page[Any]:
    """Newest first: every import, from the web page or the command line, completed or failed."""
    school = require_school(current_user, urn)
    stmt = queries.batches_stmt(school.id)
    if query.get("kind"):
        stmt = stmt.where(ImportBatch.kind == query["kind"])
    if query.get("status"):
        stmt = stmt.where(ImportBatch.status == query["status"])
    return paginate(stmt, query["page"], query["per_page"])


@bp.endpoint("/imports/<int:batch_id>", summary="One import, with its errors", response=ImportBatchDetailSchema)
def get_import(batch_id: int) -> dict[str, Any]:
    """The batch's ``errors`` column holds a failed import's errors or a completed register
    import's not-taken warnings; here they are told apart."""
    batch = require_row(current_user, ImportBatch, batch_id, message="Import not found")
    out = {c.key: getattr(batch, c.key) for c in ImportBatch.__table__.columns}
    problems = batch.errors or []
    out["errors"] = problems if batch.status == "failed" else []
    out["warnings"] = problems if batch.status == "completed" else []
    return out


@bp.endpoint("/import-uploads/<int:upload_id>", summary="One uploaded file: status, progress, preview",
             response=ImportUploadSchema)
def get_upload(upload_id: int) -> dict[str, Any]:
    """Poll this while an upload is checked or imported: ``progress`` counts the rows read."""
    upload = require_row(current_user, ImportUpload, upload_id, message="Upload not found")
    out = {c.key: getattr(upload, c.key) for c in ImportUpload.__table__.columns}
    out["progress"] = uploads.read_progress(upload) if upload.status in ACTIVE else None
    return out
