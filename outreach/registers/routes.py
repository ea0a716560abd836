"""The Imports pages: upload a file, see the dry-run preview, confirm, follow progress, history.

Read roles (head, trust lead) see a school's history and batches; write roles (officers, admins)
upload, confirm and cancel. Nothing heavy runs here: an upload is stored and queued
(``uploads.create_upload``) and the worker does the rest; pages that wait refresh themselves
with ``<meta http-equiv="refresh">`` (no JavaScript, which the CSP forbids inline anyway).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from outreach.core import audit
from outreach.core.accounts.forms import ActionForm
from outreach.core.errors import NotFound, UserError
from outreach.core.pagination import paginate
from outreach.core.scoping import can_write, require_school, visible_schools
from outreach.extensions import db
from outreach.registers import queries, uploads
from outreach.registers.forms import UploadForm
from outreach.registers.jobs import kick_inline_worker
from outreach.registers.models import ImportBatch
from outreach.registers.upload_models import ACTIVE, ImportUpload
from outreach.schools.models import School

bp = Blueprint("imports", __name__)

PER_PAGE = 25
REFRESH_SECONDS = 3


@bp.get("/imports")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The navigation's entry: straight to the school's imports for a one-school user."""
    schools = visible_schools(current_user)
    if len(schools) == 1:
        return redirect(url_for("imports.school", urn=schools[0].urn))
    latest = queries.latest_batches([s.id for s in schools[:200]])
    return render_template("imports/index.html", schools=schools[:200], more=max(0, len(schools) - 200), latest=latest)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


def _render_school(school: School, form: UploadForm, status: int = 200):  # type: ignore[no-untyped-def]
    history = paginate(queries.batches_stmt(school.id), _page_number(), PER_PAGE)
    waiting = queries.open_uploads(school.id)
    return render_template("imports/school.html", school=school, form=form, history=history, waiting=waiting,
                           can_write=can_write(current_user, school), describe=uploads.describe_status,
                           max_mb=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)), status


@bp.get("/schools/<urn>/imports")
@login_required
def school(urn: str):  # type: ignore[no-untyped-def]
    return _render_school(require_school(current_user, urn), UploadForm())


@bp.post("/schools/<urn>/imports")
@login_required
def upload(urn: str):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn, write=True)
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_school(school, form, 400)
    file = form.file.data
    try:
        created = uploads.create_upload(school, current_user, file.stream, file.filename, kind=form.kind.data,
                                        fmt=form.format.data, mapping=form.mapping.data or None)
    except UserError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        for name, message in details.items():
            target = getattr(form, name if name in ("kind", "format", "mapping") else "file")
            target.errors = [f"{exc.message[:1].upper()}{exc.message[1:]}: {message}."]
        if not details:
            form.form_errors.append(exc.message)
        return _render_school(school, form, 400)
    kick_inline_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    return redirect(url_for("imports.upload_detail", urn=school.urn, upload_id=created.id))


def _upload(school: School, upload_id: int) -> ImportUpload:
    row = db.session.get(ImportUpload, upload_id) if 0 < upload_id <= 2_147_483_647 else None
    if row is None or row.school_id != school.id:
        raise NotFound("Upload not found")
    return row


def _action_target(urn: str, upload_id: int) -> tuple[School, ImportUpload]:
    """A button's school (write access) and upload, after its CSRF-carrying form is checked."""
    school = require_school(current_user, urn, write=True)
    row = _upload(school, upload_id)
    if not ActionForm().validate_on_submit():
        raise UserError("the form has expired: reload the page and try again")
    return school, row


@bp.get("/schools/<urn>/imports/uploads/<int:upload_id>")
@login_required
def upload_detail(urn: str, upload_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    row = _upload(school, upload_id)
    active = row.status in ACTIVE
    batch = db.session.get(ImportBatch, row.batch_id) if row.batch_id else None
    return render_template("imports/upload.html", school=school, upload=row, batch=batch,
                           progress=uploads.read_progress(row) if active else None, active=active,
                           refresh=REFRESH_SECONDS if active else None, can_write=can_write(current_user, school),
                           action_form=ActionForm(), describe=uploads.describe_status,
                           report=row.report or row.preview)


@bp.post("/schools/<urn>/imports/uploads/<int:upload_id>/confirm")
@login_required
def confirm(urn: str, upload_id: int):  # type: ignore[no-untyped-def]
    school, row = _action_target(urn, upload_id)
    uploads.confirm(row, current_user)
    kick_inline_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    flash("Import queued: this page shows its progress.", "success")
    return redirect(url_for("imports.upload_detail", urn=school.urn, upload_id=row.id))


@bp.post("/schools/<urn>/imports/uploads/<int:upload_id>/cancel")
@login_required
def cancel(urn: str, upload_id: int):  # type: ignore[no-untyped-def]
    school, row = _action_target(urn, upload_id)
    uploads.cancel(row, current_user)
    flash(f"Upload of {row.file_name} cancelled; nothing was imported.", "success")
    return redirect(url_for("imports.school", urn=school.urn))


@bp.get("/schools/<urn>/imports/<int:batch_id>")
@login_required
def batch(urn: str, batch_id: int):  # type: ignore[no-untyped-def]
    school = require_school(current_user, urn)
    row = db.session.get(ImportBatch, batch_id) if 0 < batch_id <= 2_147_483_647 else None
    if row is None or row.school_id != school.id:
        raise NotFound("Import not found")
    upload_row = db.session.scalar(select(ImportUpload).where(ImportUpload.batch_id == row.id))
    changes = queries.batch_changes(row.id)
    if changes["items"]:  # corrected marks name pupils: who looked is recorded
        audit.record("imports.batch.view", school=school, pupil_ids=sorted({c["pupil_id"] for c in changes["items"]}),
                     detail={"batch": row.id})
    return render_template("imports/batch.html", school=school, batch=row, upload=upload_row, changes=changes)
