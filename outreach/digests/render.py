"""The digest as an email: HTML (chart inline by Content-ID) and a plain-text alternative.

Email clients ignore stylesheets and strip scripts, so the HTML template uses inline style
attributes and simple tables (the dashboard pages, under the CSP, never show this HTML: they
render the archived sections with the page templates). Links are absolute, built on
``OUTREACH_PUBLIC_BASE_URL`` (the address people reach the dashboard at, behind any proxy).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template

from outreach.digests.build import DigestContent, day_label
from outreach.schools.models import School


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str
    images: dict[str, tuple[str, bytes]]  # key -> (content id without <>, PNG)


def public_url(path: str) -> str:
    base = str(current_app.config.get("OUTREACH_PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def content_id(school: School, week: str, key: str) -> str:
    """A Content-ID unique to the school, week and image (RFC 2392: id-left@id-right)."""
    return f"{key}.{school.urn}.{week.lower()}@outreach.digest"


def digest_path(school: School, week: str) -> str:
    return f"/schools/{school.urn}/digests/{week}"


def render(school: School, content: DigestContent) -> RenderedDigest:
    images = {key: (content_id(school, content.week, key), png) for key, png in content.images.items()}
    context = dict(school=school, content=content, sections=content.sections, cids={k: v[0] for k, v in images.items()},
                   url=public_url, week_label=day_label(content.week_start),
                   archive_url=public_url(digest_path(school, content.week)))
    html = render_template("digests/email.html", **context)
    text = render_template("digests/email.txt", **context)
    return RenderedDigest(content.subject, html, text, images)
