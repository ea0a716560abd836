"""Exports for a referral or a targeting meeting: a case pack (timeline) and a referral pack.

Each export is personal data leaving the system, so each calls an audit hook: any callable
shaped like ``outreach.core.audit.record(action, *, school_id, pupil_ids, detail)`` (the
accounts branch's audit log; pages pass it, the CLI passes one that logs ids only). No hook is
allowed only where the caller says so explicitly (``audit=None`` is refused).
"""
from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import render_template

from outreach.core.errors import UserError
from outreach.core.pdf import html_to_pdf
from outreach.core.timeutil import to_london, utcnow
from outreach.interventions import queries, referrals, services
from outreach.schools.models import School

log = logging.getLogger(__name__)

AuditHook = Callable[..., Any]  # audit(action, *, school_id, pupil_ids, detail)
FORMATS = ("html", "pdf", "csv", "zip")
MIME = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
        "zip": "application/zip"}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: bytes


def log_only_audit(action: str, *, school_id: int, pupil_ids: Any = (), detail: Any = None, **_: Any) -> None:
    """An audit hook for the terminal until the audit log exists: ids and counts only."""
    log.info("audit %s school=%s pupils=%s detail=%s", action, school_id, list(pupil_ids), detail)


def _check(fmt: str, allowed: tuple[str, ...], requested_by: str, audit: AuditHook | None) -> None:
    problems = []
    if fmt not in allowed:
        problems.append(f"format must be one of: {', '.join(allowed)}")
    if not (requested_by or "").strip():
        problems.append("say who is exporting it")
    if audit is None:
        problems.append("exports of pupil data must be audited: pass an audit hook")
    if problems:
        raise UserError("the pack cannot be exported", details=problems)


def _london(moment: datetime | None) -> str:
    return "" if moment is None else to_london(moment).strftime("%d/%m/%Y %H:%M")


def timeline_csv(events: list[queries.TimelineEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["when_uk", "when_utc", "kind", "event", "detail", "by"])
    for e in events:
        writer.writerow([e.london.strftime("%Y-%m-%d %H:%M"), e.at.isoformat(), e.kind, e.title, e.detail or "", e.by or ""])
    return out.getvalue()


def case_pack(school: School, pupil_id: int, fmt: str, *, requested_by: str, purpose: str | None = None,
              audit: AuditHook | None, now: datetime | None = None) -> ExportFile:
    """The pupil's attendance this year and full timeline, as HTML, PDF, CSV or a ZIP of all three
    (for a referral or a termly targeting meeting). Records ``case.export`` through ``audit``."""
    _check(fmt, FORMATS, requested_by, audit)
    now = now or utcnow()
    pupil = services.school_pupils(school.id, [pupil_id])[0]
    events = queries.case_timeline(school.id, pupil.id)
    attendance = referrals.attendance_summary(school.id, pupil.id, to_london(now).date())
    stem = f"case-{school.urn}-{pupil.upn}-{to_london(now):%Y%m%d}"
    html = render_template("interventions/case_pack.html", title=f"Case summary {pupil.upn}", school=school, pupil=pupil,
                           events=events, attendance=attendance, requested_by=requested_by.strip(), purpose=purpose,
                           prepared_text=_london(now))
    if fmt == "html":
        file = ExportFile(f"{stem}.html", MIME["html"], html.encode("utf-8"))
    elif fmt == "pdf":
        file = ExportFile(f"{stem}.pdf", MIME["pdf"], html_to_pdf(html))
    elif fmt == "csv":
        file = ExportFile(f"{stem}.csv", MIME["csv"], timeline_csv(events).encode("utf-8-sig"))
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}/timeline.csv", timeline_csv(events).encode("utf-8-sig"))
            archive.writestr(f"{stem}/summary.html", html)
            archive.writestr(f"{stem}/summary.pdf", html_to_pdf(html))
        file = ExportFile(f"{stem}.zip", MIME["zip"], buffer.getvalue())
    audit("case.export", school_id=school.id, pupil_ids=[pupil.id],  # type: ignore[misc]
          detail={"format": fmt, "events": len(events), "purpose": (purpose or "")[:200] or None})
    return file


def referral_pack(school: School, referral_id: int, fmt: str, *, requested_by: str, audit: AuditHook | None,
                  now: datetime | None = None) -> ExportFile:
    """The referral as the early-help service receives it (HTML or PDF). Records ``referral.export``."""
    _check(fmt, ("html", "pdf"), requested_by, audit)
    now = now or utcnow()
    referral = referrals.get_referral(school.id, referral_id)
    pupil = referrals.pupil_of(referral)
    html = render_template("interventions/referral_pack.html", title=f"Early-help referral {referral.id}", school=school,
                           pupil=pupil, referral=referral, prefill=referral.prefill or {}, london=_london,
                           requested_by=requested_by.strip(), purpose="early-help referral", prepared_text=_london(now))
    stem = f"referral-{school.urn}-{referral.id}"
    file = (ExportFile(f"{stem}.html", MIME["html"], html.encode("utf-8")) if fmt == "html"
            else ExportFile(f"{stem}.pdf", MIME["pdf"], html_to_pdf(html)))
    audit("referral.export", school_id=school.id, pupil_ids=[pupil.id],  # type: ignore[misc]
          detail={"format": fmt, "referral_id": referral.id})
    return file
