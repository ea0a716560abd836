"""The archive on the dashboard: the school's digests, one digest as sent, its chart; scoped."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from outreach.core.accounts import services as accounts
from outreach.core.audit.models import AuditEvent, AuditEventPupil
from outreach.digests import services
from outreach.extensions import db
from tests.dashboard.world import PASSWORD, fast_password_hashing, signed_in_client
from tests.digests.conftest import HEAD_EMAIL, MONDAY, WEEK, DigestWorld, SmtpServer
from tests.digests.test_digest_email import MONDAY_0700_LONDON
from tests.factories import make_school


def test_head_reads_the_archive_and_the_chart(app: Flask, digest_world: DigestWorld, smtp_server: SmtpServer) -> None:
    services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON)
    client = signed_in_client(app, HEAD_EMAIL)

    home = client.get("/schools/100001").get_data(as_text=True)
    assert 'href="/schools/100001/digests"' in home

    listing = client.get("/schools/100001/digests")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert f'href="/schools/100001/digests/{WEEK}"' in page and "Week of 16 November 2026" in page and "Sent" in page

    shown = client.get(f"/schools/100001/digests/{WEEK}")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Attendance at a glance" in html and "84.0%" in html and "96.0%" in html and "90.0%" in html
    assert HEAD_EMAIL in html
    assert f'src="/schools/100001/digests/{WEEK}/chart.png"' in html
    assert "style=" not in html  # the page shell's CSP forbids inline style: the email HTML is not shown here
    chart = client.get(f"/schools/100001/digests/{WEEK}/chart.png")
    assert chart.status_code == 200 and chart.mimetype == "image/png" and chart.data.startswith(b"\x89PNG")

    # naming pupils on a page is audited, with their ids
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pupil.view")).one()
    ids = set(db.session.scalars(select(AuditEventPupil.pupil_id).where(AuditEventPupil.event_id == event.id)))
    assert ids == {digest_world.pupils["p3"].id, digest_world.pupils["p5"].id}

    assert client.get("/schools/100001/digests/2026-W40").status_code == 404  # no digest that week
    assert client.get("/schools/100001/digests/W40").status_code == 404  # not a week


def test_another_schools_head_sees_nothing(app: Flask, digest_world: DigestWorld, smtp_server: SmtpServer) -> None:
    services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON)
    make_school(urn="100077", name="Other School")
    db.session.commit()
    with fast_password_hashing(app):
        accounts.create_user("head@other.example.org", "head", PASSWORD, school_urns=["100077"])
    client = signed_in_client(app, "head@other.example.org")
    for path in ("/schools/100001/digests", f"/schools/100001/digests/{WEEK}", f"/schools/100001/digests/{WEEK}/chart.png"):
        assert client.get(path).status_code == 404, path
    assert client.get("/schools/100077/digests").status_code == 200
