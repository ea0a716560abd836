"""The digest archive in a real browser: reached from the school page, chart loads, axe-core
finds no serious or critical violations."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from outreach.attendance import rollups
from outreach.digests import services
from outreach.extensions import db
from tests.dashboard.world import World
from tests.digests.conftest import session_marks, week_codes
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import check_page, sign_in
from tests.factories import add_marks

pytestmark = pytest.mark.e2e

MONDAY = date(2026, 11, 16)


def test_head_opens_a_digest_from_the_school_page(page: Page, live_server: LiveServer, world: World,
                                                   screenshots: Path) -> None:
    school = world.schools["A"]
    for i, pupil in enumerate(world.pupils["A"][:4]):
        for monday in (MONDAY - timedelta(days=7), MONDAY):
            add_marks(pupil, session_marks(monday, week_codes({j: "I" for j in range(i + 1)})))
    rollups.refresh(db.session, school.id, MONDAY - timedelta(days=7), MONDAY + timedelta(days=6))
    db.session.commit()
    assert services.send_digest(school, MONDAY, now=datetime(2026, 11, 23, 7, tzinfo=timezone.utc)).reason == "sent"

    sign_in(page, live_server.url, world.email("head"))
    page.goto(f"{live_server.url}/schools/{school.urn}")
    page.get_by_role("link", name="weekly digests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weekly digests")
    check_page(page, screenshots, "digests")
    page.get_by_role("link", name="Week of 16 November 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Week of 16 November 2026")
    chart = page.get_by_role("img", name="Attendance by week")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    check_page(page, screenshots, "digest")
