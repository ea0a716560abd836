"""Walking-bus and parent-group pages in a real browser: set up through the forms without
JavaScript-only controls, and axe-core finds no serious or critical problems on each page."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from outreach.core.timeutil import london_today, week_start
from outreach.extensions import db
from outreach.parent_groups import services as pg
from tests.dashboard.world import World
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import check_page, sign_in
from tests.factories import add_marks
from tests.walking_bus.builders import enrol_children, make_ambassador, make_route

pytestmark = pytest.mark.e2e


def test_walking_bus_pages_are_accessible(page: Page, live_server: LiveServer, world: World, screenshots: Path) -> None:
    school = world.schools["A"]
    monday = week_start(london_today())
    route = make_route(school, start=monday - timedelta(days=7))
    kids = enrol_children(school, route, 7, start=monday)
    add_marks(kids[0], [(london_today(), "AM", "/")])
    make_ambassador(school, "Sam Walker")
    group = pg.create_group(school, name="Brew and Biscuits", weekday="mon", start_time=route.arrival_time, place="Hall")
    meeting = pg.schedule_meeting(school, group.id, london_today() + timedelta(days=7))
    db.session.commit()
    sign_in(page, live_server.url, "officer@example.org")
    page.get_by_role("link", name="Walking buses").click()
    check_page(page, screenshots, "walking-buses")
    page.get_by_role("link", name="Ash Primary").click()
    check_page(page, screenshots, "walking-bus-school")
    page.get_by_role("link", name="This week's rota").click()
    page.get_by_role("button", name="Generate rota").click()
    expect(page.locator(".flash-success")).to_contain_text("short of adults")
    check_page(page, screenshots, "walking-bus-rota")
    page.goto(f"{live_server.url}/walking-buses/100001/routes/{route.id}")
    check_page(page, screenshots, "walking-bus-route")
    page.goto(f"{live_server.url}/walking-buses/100001/routes/{route.id}/check-in")
    check_page(page, screenshots, "walking-bus-check-in")
    page.goto(f"{live_server.url}/parent-groups/100001")
    check_page(page, screenshots, "parent-groups")
    page.goto(f"{live_server.url}/parent-groups/100001/groups/{group.id}")
    check_page(page, screenshots, "parent-group")
    page.goto(f"{live_server.url}/parent-groups/100001/meetings/{meeting.id}")
    check_page(page, screenshots, "parent-group-meeting")
