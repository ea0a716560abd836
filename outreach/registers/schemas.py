"""API shapes for imports (marshmallow; the OpenAPI document is generated from these)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from outreach.core.api.schemas import PageQuerySchema
from outreach.extensions import db
from outreach.registers.upload_models import KINDS, STATUSES
from outreach.schools.models import School

BATCH_STATUSES = ("running", "completed", "failed")


def _urn(row: object) -> str:
    # One school per list: the session's identity map answers every row after the first.
    school_id = row["school_id"] if isinstance(row, dict) else row.school_id  # type: ignore[attr-defined]
    return db.session.get(School, school_id).urn  # type: ignore[union-attr]


class ProblemSchema(Schema):
    """One error or warning, where a person can find it in their file."""

    file = fields.String(metadata={"description": "The file name."})
    line = fields.Integer(metadata={"description": "Line in a CSV (1 is the header)."})
    pupil = fields.String(metadata={"description": "CTF: the pupil's UPN."})
    element = fields.String(metadata={"description": "CTF element, or the CSV column."})
    field = fields.String(metadata={"description": "The field, named as the file names it."})
    value = fields.Raw(allow_none=True, metadata={"description": "The value refused."})
    message = fields.String(required=True)


class ImportBatchSchema(Schema):
    id = fields.Integer(required=True)
    school_urn = fields.Function(_urn, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    status = fields.String(required=True, validate=validate.OneOf(BATCH_STATUSES))
    created_by = fields.String(required=True, metadata={"description": "Who ran it: an email, or 'cli'."})
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    file_name = fields.String(required=True)
    file_sha256 = fields.String(allow_none=True)
    format = fields.String(required=True, metadata={"description": "long, wide, ctf (registers) or csv."})
    rows_total = fields.Integer(required=True)
    added = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    not_taken = fields.Integer(required=True, metadata={"description": "Registers: sessions not marked yet, skipped."})
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    error_count = fields.Integer(required=True)


class ImportBatchDetailSchema(ImportBatchSchema):
    errors = fields.List(fields.Nested(ProblemSchema), required=True,
                         metadata={"description": "A failed import: its first 50 errors (error_count counts all)."})
    warnings = fields.List(fields.Nested(ProblemSchema), required=True,
                           metadata={"description": "A completed register import: the first 50 sessions not taken yet."})


class ImportListQuerySchema(PageQuerySchema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.String(validate=validate.OneOf(BATCH_STATUSES))


class ProgressSchema(Schema):
    phase = fields.String(required=True, metadata={"description": "queued, check, checked or import."})
    done = fields.Integer(required=True, metadata={"description": "Rows read so far."})
    total = fields.Integer(allow_none=True, metadata={"description": "Rows in the file, once counted."})
    percent = fields.Integer(allow_none=True)


class ImportUploadSchema(Schema):
    """A file uploaded on the Imports page and where it is in check -> confirm -> import."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    format = fields.String(required=True)
    mapping = fields.String(allow_none=True)
    file_name = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    confirmed_by = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    batch_id = fields.Integer(allow_none=True, metadata={"description": "The import batch, once imported (or failed)."})
    problem = fields.String(allow_none=True, metadata={"description": "Why the worker could not run it."})
    progress = fields.Nested(ProgressSchema, allow_none=True)
    preview = fields.Dict(allow_none=True, metadata={"description": "The dry run's report (counts, changes, errors)."})
    report = fields.Dict(allow_none=True, metadata={"description": "The real import's report."})
