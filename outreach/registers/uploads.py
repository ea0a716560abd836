"""The web import: store an upload, queue it, let the worker preview and import it.

Why this shape:

* The file goes straight to disk under the instance folder (``IMPORT_UPLOAD_DIR``, default
  ``<instance>/imports``), copied in 1 MiB chunks from werkzeug's spooled upload, so a web
  worker never holds a 200 MB register in memory.
* Nothing heavy runs in the request. An upload is a row in ``import_uploads`` (status
  ``queued_preview``); the worker (``outreach.registers.jobs.run_pending_imports``, called by
  the clock, by ``outreach imports work``, or by the optional in-process thread) runs the dry run,
  stores its report as the preview, and after a person confirms runs the real import.
* Progress lives in a small JSON file beside the upload, replaced atomically. The import runs in
  one transaction; on SQLite that transaction holds the only write lock, so progress written to
  the database would wait for the import it describes. A file is readable by any process at
  any moment, on either database.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select, update

from outreach.core.errors import UserError
from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.registers.mappings import BUILTIN
from outreach.registers.upload_models import KINDS, ImportUpload
from outreach.schools.models import School

log = logging.getLogger(__name__)

FORMATS = ("auto", "long", "wide", "ctf")
EXTENSIONS = (".csv", ".txt", ".xml")
CHUNK = 1 << 20
PROGRESS_FILE = "progress.json"
PROGRESS_INTERVAL = 0.5  # seconds between progress writes (the page refreshes every few seconds)
CANCELLABLE = ("queued_preview", "preview", "preview_failed")


def upload_root() -> Path:
    configured = current_app.config.get("IMPORT_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def upload_folder(upload: ImportUpload) -> Path:
    return upload_root() / str(upload.id)


def stored_path(upload: ImportUpload) -> Path:
    return upload_root() / upload.stored_name


def clean_file_name(raw: str | None) -> str:
    """The name to show: the last path component (browsers on Windows may send ``C:\\...``),
    without control characters, at most 300 characters (the batch column)."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:300]


def check_choices(kind: str, fmt: str, mapping: str | None) -> str | None:
    """Refuse what the importer would refuse, before anything is stored. Pure."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = f"choose one of {', '.join(KINDS)}"
    if fmt not in FORMATS:
        errors["format"] = f"choose one of {', '.join(FORMATS)}"
    elif kind in ("pupils", "contacts") and fmt != "auto":
        errors["format"] = "pupils and contacts files are always CSV: leave the format as auto"
    mapping = (mapping or "").strip().lower() or None
    if mapping is not None and mapping not in BUILTIN:
        errors["mapping"] = f"choose one of {', '.join(sorted(BUILTIN))}, or none"
    if errors:
        raise UserError("the import settings are not valid", errors)
    return mapping


def create_upload(school: School, user: Any, stream: IO[bytes], file_name: str | None, *, kind: str,
                  fmt: str = "auto", mapping: str | None = None) -> ImportUpload:
    """Store the file and queue its preview. Raises UserError (nothing kept) for a missing or
    empty file, a file type the importer cannot read, or bad settings."""
    mapping = check_choices(kind, fmt, mapping)
    name = clean_file_name(file_name)
    if not name:
        raise UserError("choose a file to upload", {"file": "no file was sent"})
    ext = Path(name).suffix.lower()
    if ext not in EXTENSIONS:
        raise UserError("the file must be a CSV or a CTF XML file", {"file": f"{name!r} is not .csv, .txt or .xml"})
    if ext == ".xml" and kind != "registers":
        raise UserError("a CTF XML file is a register import", {"file": "pupils and contacts files are CSV"})
    upload = ImportUpload(school_id=school.id, kind=kind, format=fmt, mapping=mapping, file_name=name,
                          stored_name="", status="queued_preview", created_by_id=getattr(user, "id", None),
                          created_by=getattr(user, "email", None) or "unknown")
    db.session.add(upload)
    db.session.flush()
    folder = upload_folder(upload)
    upload.stored_name = f"{upload.id}/upload{ext}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(stored_path(upload), "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
        upload.size_bytes = stored_path(upload).stat().st_size
        if upload.size_bytes == 0:
            raise UserError("The file is empty", {"file": f"{name!r} has no content"})
        write_progress(folder, "queued", 0, None)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    log.info("import upload %s stored for school %s (%s, %s bytes)", upload.id, school.id, kind, upload.size_bytes)
    return upload


def _move(upload_id: int, from_status: tuple[str, ...], **values: Any) -> bool:
    """Change an upload's status only if it is still in one of ``from_status``: one UPDATE, so two
    workers (or a double-clicked button) cannot both take the same step."""
    result = db.session.execute(update(ImportUpload).where(ImportUpload.id == upload_id,
                                                           ImportUpload.status.in_(from_status)).values(**values))
    db.session.commit()
    return result.rowcount == 1


def confirm(upload: ImportUpload, user: Any) -> None:
    """Queue the real import of a previewed upload."""
    if upload.status != "preview":
        raise UserError(_not_now(upload, "imported"))
    if not _move(upload.id, ("preview",), status="queued_import", confirmed_by=getattr(user, "email", None),
                 confirmed_at=utcnow()):
        raise UserError("this upload has changed since the page was shown: reload it")
    write_progress(upload_folder(upload), "queued", 0, None)


def cancel(upload: ImportUpload, user: Any) -> None:
    """Drop an upload that has not been imported; its file is deleted."""
    if upload.status not in CANCELLABLE:
        raise UserError(_not_now(upload, "cancelled"))
    if not _move(upload.id, CANCELLABLE, status="cancelled", finished_at=utcnow()):
        raise UserError("this upload has changed since the page was shown: reload it")
    discard_file(upload)
    log.info("import upload %s cancelled by user %s", upload.id, getattr(user, "id", None))


def _not_now(upload: ImportUpload, verb: str) -> str:
    return f"this upload cannot be {verb} now: it is {describe_status(upload.status)}"


def discard_file(upload: ImportUpload) -> None:
    """Delete the stored upload (the report stays): pupil data is not kept longer than needed."""
    shutil.rmtree(upload_folder(upload), ignore_errors=True)


STATUS_TEXT = {
    "queued_preview": "waiting to be checked",
    "previewing": "being checked",
    "preview": "checked: ready to import",
    "preview_failed": "checked: the file has errors",
    "queued_import": "waiting to be imported",
    "importing": "being imported",
    "completed": "imported",
    "failed": "failed",
    "cancelled": "cancelled",
}


def describe_status(status: str) -> str:
    return STATUS_TEXT.get(status, status)


# --- progress: a file any process can read while the import's transaction is open -------------

def write_progress(folder: Path, phase: str, done: int, total: int | None) -> None:
    """Replace ``progress.json`` atomically (write aside, then rename): a reader sees the old or
    the new content, never half of it."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{PROGRESS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps({"phase": phase, "done": done, "total": total, "at": time.time()}))
    os.replace(tmp, folder / PROGRESS_FILE)


def read_progress(upload: ImportUpload) -> dict[str, Any] | None:
    """The latest progress of an active upload, with ``percent`` when the total is known."""
    try:
        data = json.loads((upload_folder(upload) / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return None
    done, total = int(data.get("done") or 0), data.get("total")
    data["percent"] = min(100, int(done * 100 / total)) if total else None
    return data


class ProgressWriter:
    """The importer's ``progress(done, total)`` callback: writes at most every
    ``PROGRESS_INTERVAL`` seconds (a 760,000-mark file reports every 5,000 rows)."""

    def __init__(self, folder: Path, phase: str, interval: float | None = None):
        self.folder, self.phase = folder, phase
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        # Never written yet: the first call writes. (Not 0.0: time.monotonic() counts from boot
        # on Linux, so on a machine up for less than ``interval`` the first write was skipped.)
        self.last = float("-inf")

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval or (total is not None and done >= total):
            write_progress(self.folder, self.phase, done, total)
            self.last = now


# --- the worker's step ------------------------------------------------------------------------

def run_upload(upload_id: int) -> str | None:
    """Take the upload's next step if it is queued (and no other worker took it first): the dry
    run for ``queued_preview``, the import for ``queued_import``. Returns the new status, or None
    if there was nothing to do."""
    upload = db.session.get(ImportUpload, upload_id)
    if upload is None:
        return None
    real = upload.status == "queued_import"
    step = ("queued_import",) if real else ("queued_preview",)
    running = "importing" if real else "previewing"
    if upload.status not in step or not _move(upload_id, step, status=running, started_at=utcnow(),
                                              attempts=ImportUpload.attempts + 1):
        return None
    db.session.refresh(upload)
    school = db.session.get(School, upload.school_id)
    folder = upload_folder(upload)
    progress = ProgressWriter(folder, "import" if real else "check")
    progress(0, None)
    try:
        report = _run_import(upload, school, dry_run=not real, progress=progress)
    except UserError as exc:  # a bad call: e.g. the stored file has gone
        db.session.rollback()
        return _finish(upload, "failed", problem=exc.message)
    except Exception:  # noqa: BLE001 - a bug must leave the upload failed and the worker alive
        db.session.rollback()
        log.exception("import upload %s for school %s failed unexpectedly", upload_id, upload.school_id)
        return _finish(upload, "failed", problem="the import stopped with an unexpected error (logged); nothing was changed")
    data = report.to_dict()
    if not real:
        return _finish(upload, "preview" if report.ok else "preview_failed", preview=data, keep_file=report.ok)
    return _finish(upload, "completed" if report.ok else "failed", report=data, batch_id=report.batch_id)


def _run_import(upload: ImportUpload, school: School, *, dry_run: bool, progress: ProgressWriter) -> Any:
    from outreach.registers.services import import_contacts, import_pupils, import_registers

    common = dict(mapping=upload.mapping, dry_run=dry_run, created_by=upload.confirmed_by or upload.created_by,
                  progress=progress, file_name=upload.file_name)
    path = stored_path(upload)
    if upload.kind == "registers":
        return import_registers(school, path, format=upload.format, **common)
    service = import_pupils if upload.kind == "pupils" else import_contacts
    return service(school, path, **common)


def _finish(upload: ImportUpload, status: str, *, keep_file: bool = False, **values: Any) -> str:
    db.session.execute(update(ImportUpload).where(ImportUpload.id == upload.id)
                       .values(status=status, finished_at=None if keep_file else utcnow(), **values))
    db.session.commit()
    if keep_file:
        write_progress(upload_folder(upload), "checked", 1, 1)
    else:
        discard_file(upload)
    log.info("import upload %s: %s", upload.id, status)
    return status


def queued_ids(limit: int = 50) -> list[int]:
    """Oldest first: confirmations and previews in the order people asked for them."""
    return list(db.session.scalars(select(ImportUpload.id).where(
        ImportUpload.status.in_(("queued_preview", "queued_import"))).order_by(ImportUpload.id).limit(limit)))
