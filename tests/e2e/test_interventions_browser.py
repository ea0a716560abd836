"""The officer's main flow in a real browser: open a task, log a first-day call from it, see it
on the case timeline; and axe-core (no serious or critical violations) on every interventions
page, for a writer (forms shown) and a read-only head (no forms)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.world import World
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import check_page, sign_in
from tests.interventions.web_world import add_interventions

pytestmark = pytest.mark.e2e


def test_open_a_task_log_a_first_day_call_and_see_it_on_the_timeline(page: Page, live_server: LiveServer, world: World,
                                                                     screenshots: Path) -> None:
    data = add_interventions(world)
    pupil = data["A"]["pupil"]
    base = live_server.url
    sign_in(page, base, world.email("officer"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    check_page(page, screenshots, "tasks-pick-school")
    page.get_by_role("link", name="Ash Primary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    check_page(page, screenshots, "tasks")
    page.get_by_role("link", name="First-day contact due").click()
    expect(page.get_by_role("heading", name="Suggested next step")).to_be_visible()
    check_page(page, screenshots, "task")

    page.get_by_role("link", name="Log a first-day call").click()
    expect(page.get_by_label("What was done")).to_have_value("first_day_call")
    check_page(page, screenshots, "log-new")
    page.get_by_label("Outcome").fill("Spoke to dad: a cold, back tomorrow")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_role("status").first).to_contain_text("First-day call recorded")
    expect(page.get_by_text("Done", exact=True).first).to_be_visible()

    page.get_by_role("link", name=pupil.display_name).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(pupil.display_name)
    expect(page.get_by_text("First-day call: Spoke to dad: a cold, back tomorrow")).to_be_visible()
    expect(page.get_by_text("Task done: First-day contact due")).to_be_visible()
    check_page(page, screenshots, "timeline")


def test_every_interventions_page_is_accessible(page: Page, live_server: LiveServer, world: World,
                                                screenshots: Path) -> None:
    data = add_interventions(world)
    a = f"{live_server.url}/schools/100001"
    pupil = data["A"]["pupil"]
    pages = {
        "interventions-log": f"{a}/interventions",
        "intervention": f"{a}/interventions/{data['letter'].id}",
        "letter-preview": f"{a}/letters?kind=attendance_concern&pupil_ids={pupil.id}&sender=Ms+Patel&preview=1",
        "referrals": f"{a}/referrals",
        "referral-new": f"{a}/referrals/new?pupil_id={pupil.id}",
        "referral-draft": f"{a}/referrals/{data['A']['referral'].id}",
        "referral-accepted": f"{a}/referrals/{data['accepted'].id}",
        "rules": f"{a}/rules",
        "impact": f"{a}/impact",
        "impact-trust": f"{live_server.url}/impact",
    }
    sign_in(page, live_server.url, world.email("officer"))
    for name, url in pages.items():
        page.goto(url)
        check_page(page, screenshots, name)
    # A refused form: the error summary is announced and the page stays accessible.
    page.goto(f"{a}/tasks/{data['A']['task'].id}")
    page.get_by_label("Dismissed: not needed (say why)").check()
    page.get_by_role("button", name="Close task").click()
    expect(page.get_by_role("alert")).to_contain_text("give a reason for dismissing the task")
    check_page(page, screenshots, "task-refused")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, world.email("head"))
    for name in ("interventions-log", "referral-accepted", "rules"):
        page.goto(pages[name])
        assert page.get_by_role("button", name="Save settings").count() == 0
        check_page(page, screenshots, f"{name}-read-only")
    page.goto(f"{a}/pupils/{pupil.id}/timeline")
    expect(page.get_by_role("link", name="Log an intervention")).to_have_count(0)
    check_page(page, screenshots, "timeline-read-only")
