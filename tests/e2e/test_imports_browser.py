"""The Imports page in a real browser: an officer uploads a register CSV, sees the dry-run
preview, confirms, and sees the import completed; axe-core on each imports page.

The worker is the real one: the page is driven with OUTREACH_INLINE_IMPORT_WORKER on, so the
live server's own process runs the queue while the page refreshes itself (meta refresh)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.dashboard.world import World
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser import check_page, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture()
def inline_worker(app: Flask, tmp_path: Path) -> Iterator[None]:
    saved = app.config.get("IMPORT_UPLOAD_DIR")
    app.config.update(OUTREACH_INLINE_IMPORT_WORKER=True, IMPORT_UPLOAD_DIR=str(tmp_path / "uploads"))
    yield
    app.config.pop("OUTREACH_INLINE_IMPORT_WORKER")
    app.config["IMPORT_UPLOAD_DIR"] = saved


def test_officer_uploads_previews_and_confirms_a_register(page: Page, live_server: LiveServer, world: World,
                                                           screenshots: Path, tmp_path: Path, inline_worker: None) -> None:
    rows = ["UPN,Date,Session,Mark"] + [f"{p.upn},2026-11-02,{s},{'N' if i == 0 else '/'}"
                                        for i, p in enumerate(world.pupils["A"][:4]) for s in ("AM", "PM")]
    csv = tmp_path / "week-45.csv"
    csv.write_text("\n".join(rows) + "\n")

    sign_in(page, live_server.url, "officer@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    check_page(page, screenshots, "imports-index")
    page.get_by_role("link", name="Ash Primary").click()
    expect(page.get_by_role("heading", name="Upload a file")).to_be_visible()
    check_page(page, screenshots, "imports-school")

    page.get_by_label("What is in the file").select_option("registers")
    page.get_by_label("File", exact=True).set_input_files(str(csv))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("week-45.csv")
    # The page refreshes itself until the worker has checked the file.
    expect(page.get_by_role("heading", name="What this import would change")).to_be_visible(timeout=30_000)
    expect(page.locator(".import-counts")).to_contain_text("8 added")
    check_page(page, screenshots, "imports-preview")

    page.get_by_role("button", name="Confirm and import").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("imported", exact=True)).to_be_visible()
    check_page(page, screenshots, "imports-completed")

    page.get_by_role("link", name="the import's record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import ")
    expect(page.get_by_text("completed", exact=True)).to_be_visible()
    check_page(page, screenshots, "imports-batch")
    page.get_by_role("link", name="Back to imports").click()
    expect(page.locator("table").last).to_contain_text("week-45.csv")
