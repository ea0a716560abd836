"""The messaging pages in a real browser: an officer composes to a filtered set of parents,
reviews the recipients, confirms (twice: one set of messages), cancels one, reads and clears
the inbox, edits a template with a placeholder mistake, and looks at the opt-outs; a head sees
the same pages read-only. axe-core runs on every page (no serious or critical violations)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.messaging.models import OutboxMessage
from outreach.messaging.services import receive_inbound
from tests.dashboard.world import World
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import check_page, sign_in
from tests.messaging.families import MUM, add_families

pytestmark = pytest.mark.e2e


@pytest.fixture()
def families(world: World) -> World:
    add_families(world)
    receive_inbound("SM" + "f" * 32, MUM, "Amira is at the dentist this morning")
    return world


def test_officer_composes_reviews_sends_once_and_works_the_inbox(page: Page, live_server: LiveServer, families: World,
                                                                 screenshots: Path) -> None:
    base = live_server.url
    sign_in(page, base, "officer@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
    check_page(page, screenshots, "messages-overview")
    page.get_by_role("link", name="Ash Primary", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Messages")
    check_page(page, screenshots, "messages-outbox-empty")

    page.get_by_role("link", name="Compose a message").click()
    page.get_by_label("First day absence").check()
    check_page(page, screenshots, "messages-compose-choose")
    page.get_by_role("button", name="Next: choose families").click()
    page.get_by_label("{date}").fill("Wednesday 5 March")
    page.get_by_label("Year 5").check()
    page.get_by_label("Year 3").check()
    check_page(page, screenshots, "messages-compose")
    page.get_by_role("button", name="Review recipients").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check before sending")
    expect(page.locator(".stat").first).to_contain_text("2 messages")
    expect(page.get_by_text("Hello Fatima Khan, Amira and Yusuf did not arrive")).to_be_visible()
    expect(page.get_by_text("Has not consented to text messages")).to_be_visible()
    expect(page.get_by_text("Replied STOP (opted out of texts)")).to_be_visible()
    check_page(page, screenshots, "messages-review")
    page.get_by_role("button", name="Confirm and send").click()
    expect(page.get_by_role("status")).to_contain_text("2 messages added to the outbox.")
    check_page(page, screenshots, "messages-outbox")
    page.go_back()  # the review again: confirming it a second time adds nothing
    page.get_by_role("button", name="Confirm and send").click()
    expect(page.get_by_role("status")).to_contain_text("nothing new was added")
    db.session.expire_all()
    sent = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "first_day_absence")))
    assert len(sent) == 2 and {m.status for m in sent} == {"scheduled"}

    page.get_by_role("link", name=f"message {sent[0].id}").click()
    check_page(page, screenshots, "messages-detail")
    page.get_by_role("button", name="Cancel this message").click()
    expect(page.get_by_role("status")).to_contain_text("cancelled and will not be sent")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, sent[0].id).status == "cancelled"

    page.get_by_role("navigation", name="Messages at Ash Primary").get_by_role("link", name="Inbox").click()
    expect(page.get_by_text("Amira is at the dentist this morning")).to_be_visible()
    check_page(page, screenshots, "messages-inbox")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("No new replies.")).to_be_visible()

    page.get_by_role("navigation", name="Messages at Ash Primary").get_by_role("link", name="Opt-outs").click()
    expect(page.get_by_role("row", name="Pat Reid")).to_contain_text("07700 900004")
    check_page(page, screenshots, "messages-opt-outs")


def test_officer_edits_a_template_and_sees_the_placeholder_error(page: Page, live_server: LiveServer, families: World,
                                                                 screenshots: Path) -> None:
    base = live_server.url
    sign_in(page, base, "officer@example.org")
    page.goto(f"{base}/schools/100001/messages/templates")
    check_page(page, screenshots, "messages-templates")
    page.get_by_role("link", name="general", exact=True).click()
    check_page(page, screenshots, "messages-template")
    page.get_by_label("Text").fill("Hello {parent_name}, about {chlid_names}. Reply STOP to opt out")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("did you mean {child_names}")
    check_page(page, screenshots, "messages-template-error")
    page.get_by_label("Text").fill("Hello {parent_name}, it’s about {child_names}. Reply STOP to opt out")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("forces Unicode (UCS-2)").first).to_be_visible()
    check_page(page, screenshots, "messages-template-preview")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the en version of 'general'.")


def test_head_reads_every_messaging_page_without_controls(page: Page, live_server: LiveServer, families: World,
                                                          screenshots: Path) -> None:
    base = live_server.url
    sign_in(page, base, "head@ash.example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page).to_have_url(f"{base}/schools/100001/messages")
    expect(page.get_by_role("link", name="Compose a message")).to_have_count(0)
    for tab, name in (("Inbox", "head-inbox"), ("Templates", "head-templates"), ("Opt-outs", "head-opt-outs")):
        page.get_by_role("navigation", name="Messages at Ash Primary").get_by_role("link", name=tab).click()
        expect(page.get_by_role("button", name="Mark done")).to_have_count(0)
        check_page(page, screenshots, f"messages-{name}")
    expect(page.get_by_role("row", name="Pat Reid")).to_contain_text("•••••••••004")
    page.goto(f"{base}/schools/100001/messages/compose")
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this")
