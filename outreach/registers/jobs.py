"""What the clock (and ``outreach imports work``) calls: run the web imports people queued.

Kept thin: the work is ``uploads.run_upload``. ``run_pending_imports`` is safe to call from
several processes at once (each step is claimed with a conditional UPDATE) and often (an empty
queue costs one indexed query).
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from config.settings import env_bool
from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.registers import uploads
from outreach.registers.upload_models import ImportUpload

log = logging.getLogger(__name__)

# A step still "running" after this long belonged to a worker that died (the import's
# transaction died with it, so nothing was half-written): it is queued again, up to MAX_ATTEMPTS.
STALE_AFTER = timedelta(minutes=30)
MAX_ATTEMPTS = 3
# A checked upload nobody confirmed or cancelled: dropped (and its file deleted) after a week,
# so pupil data does not sit on disk indefinitely.
PREVIEW_KEPT_FOR = timedelta(days=7)


def expire_old_previews() -> int:
    """Cancel checked uploads left undecided for PREVIEW_KEPT_FOR; delete their files."""
    old = list(db.session.scalars(select(ImportUpload).where(
        ImportUpload.status.in_(("preview", "preview_failed")), ImportUpload.created_at < utcnow() - PREVIEW_KEPT_FOR)))
    for upload in old:
        upload.status, upload.finished_at = "cancelled", utcnow()
        upload.problem = "not confirmed within a week: the upload was dropped"
    db.session.commit()
    for upload in old:
        uploads.discard_file(upload)
    return len(old)


def requeue_stale() -> int:
    """Put steps abandoned by a dead worker back in the queue (or fail them after MAX_ATTEMPTS)."""
    cutoff = utcnow() - STALE_AFTER
    moved = 0
    for running, queued in (("previewing", "queued_preview"), ("importing", "queued_import")):
        stale = (ImportUpload.status == running, ImportUpload.started_at < cutoff)
        moved += db.session.execute(update(ImportUpload).where(*stale, ImportUpload.attempts < MAX_ATTEMPTS)
                                    .values(status=queued)).rowcount
        moved += db.session.execute(update(ImportUpload).where(*stale, ImportUpload.attempts >= MAX_ATTEMPTS).values(
            status="failed", finished_at=utcnow(),
            problem="the worker stopped during this step several times; nothing was changed")).rowcount
    db.session.commit()
    if moved:
        log.warning("re-queued or failed %s abandoned import step(s)", moved)
    return moved


def run_pending_imports(limit: int | None = None) -> int:
    """Run queued previews and imports, oldest first, until the queue is empty (or ``limit``
    steps have run). Returns the number of steps run."""
    requeue_stale()
    expire_old_previews()
    done = 0
    while limit is None or done < limit:
        ids = uploads.queued_ids()
        if not ids:
            break
        progressed = False
        for upload_id in ids:
            if limit is not None and done >= limit:
                break
            if uploads.run_upload(upload_id) is not None:
                done += 1
                progressed = True
        if not progressed:  # every queued step was taken by another worker
            break
    return done


# --- the optional in-process worker (OUTREACH_INLINE_IMPORT_WORKER) ---------------------------

_inline_lock = threading.Lock()


def kick_inline_worker(app: Flask) -> bool:
    """For the embedded single-machine setup with no clock: when the app's
    ``OUTREACH_INLINE_IMPORT_WORKER`` is on, run the queue in a daemon thread of this process
    (one at a time per process). Returns whether a thread was started."""
    enabled = app.config.get("OUTREACH_INLINE_IMPORT_WORKER")
    if enabled is None:
        enabled = env_bool(os.environ, "OUTREACH_INLINE_IMPORT_WORKER", False)
    if not enabled:
        return False
    if not _inline_lock.acquire(blocking=False):
        return False  # a thread is already draining the queue; it will find the new step

    def work() -> None:
        try:
            with app.app_context():
                while run_pending_imports():
                    pass
        except Exception:  # noqa: BLE001 - the clock or the next upload will try again
            log.exception("inline import worker stopped")
            return
        finally:
            _inline_lock.release()
        # Work queued between the last look and the release found the lock held: look once more.
        with app.app_context():
            again = bool(uploads.queued_ids(limit=1))
        if again:
            kick_inline_worker(app)

    threading.Thread(target=work, name="inline-import-worker", daemon=True).start()
    return True
