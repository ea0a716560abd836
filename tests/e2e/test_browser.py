"""Real browser against the real app: sign in, scoping, sign out, lockout, CSRF, no-JS use,
keyboard, and axe-core on every main page (no serious or critical violations). Screenshots
of the main pages are written to tests/e2e/screenshots/ (gitignored)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.world import PASSWORD, World
from tests.e2e.conftest import LiveServer, axe_violations

pytestmark = pytest.mark.e2e


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def check_page(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"


def test_sign_in_see_only_your_schools_then_sign_out(page: Page, live_server: LiveServer, world: World, screenshots: Path) -> None:
    page.goto(f"{live_server.url}/schools/100001")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fschools%2F100001")
    check_page(page, screenshots, "login")
    page.get_by_label("Email address").fill("officer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/schools/100001")  # back where they were going
    expect(page.get_by_role("heading", level=1)).to_have_text("Ash Primary")
    check_page(page, screenshots, "school-home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schools").click()
    rows = page.locator("table tbody tr th")
    expect(rows).to_have_text(["Ash Primary", "Birch Academy"])
    check_page(page, screenshots, "schools")

    page.get_by_label("School", exact=True).select_option(label="Birch Academy")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Birch Academy")

    page.goto(f"{live_server.url}/schools/100003")  # another trust's school
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_page(page, screenshots, "not-found")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto(f"{live_server.url}/schools")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fschools")


def test_locked_out_after_repeated_failures(page: Page, live_server: LiveServer, world: World, screenshots: Path) -> None:
    for _ in range(5):
        sign_in(page, live_server.url, "head@ash.example.org", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("sign-in is paused for 15 minutes")
    page.screenshot(path=str(screenshots / "login-locked.png"), full_page=True)
    sign_in(page, live_server.url, "head@ash.example.org")  # the right password, still paused
    expect(page.get_by_role("alert")).to_contain_text("too many unsuccessful attempts")
    expect(page).to_have_url(f"{live_server.url}/login")


def test_form_post_without_csrf_token_is_refused(page: Page, live_server: LiveServer, world: World) -> None:
    page.goto(f"{live_server.url}/login")  # has a session (and so a CSRF secret) now
    response = page.request.post(f"{live_server.url}/login",
                                 form={"email": "officer@example.org", "password": PASSWORD}, max_redirects=0)
    assert response.status == 400
    assert "did not come from this site" in response.text()
    page.goto(f"{live_server.url}/schools")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fschools")


def test_admin_pages_are_accessible(page: Page, live_server: LiveServer, world: World, screenshots: Path) -> None:
    sign_in(page, live_server.url, "admin@example.org")
    page.goto(f"{live_server.url}/admin/users")
    check_page(page, screenshots, "admin-users")
    page.get_by_role("link", name="officer@example.org").click()
    page.get_by_label("Token name").fill("Screenshot token")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Token created")
    assert page.locator("#token-value").input_value().startswith("otk_")
    page.get_by_role("link", name="Back to officer@example.org").click()
    check_page(page, screenshots, "admin-user")
    page.goto(f"{live_server.url}/schools/100003")
    page.goto(f"{live_server.url}/admin/audit")
    check_page(page, screenshots, "admin-audit")
    page.goto(f"{live_server.url}/account")
    check_page(page, screenshots, "account")


def test_form_errors_are_accessible(page: Page, live_server: LiveServer, world: World, screenshots: Path) -> None:
    sign_in(page, live_server.url, "officer@example.org", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    check_page(page, screenshots, "login-failed")
    sign_in(page, live_server.url, "officer@example.org")
    page.goto(f"{live_server.url}/account")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#new_password-error")).to_contain_text("at least 12")
    check_page(page, screenshots, "account-error")


def test_small_screen_layout(browser: Browser, live_server: LiveServer, world: World, screenshots: Path) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, bypass_csp=True, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server.url, "officer@example.org")
    page.goto(f"{live_server.url}/schools")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways on a phone ({width}px)"
    check_page(page, screenshots, "schools-phone")
    context.close()


def test_works_without_javascript(browser: Browser, live_server: LiveServer, world: World) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, "trust_lead" and "lead@north.example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schools").click()  # signed in to Today
    expect(page.locator("table tbody tr th")).to_have_text(["Ash Primary", "Birch Academy"])
    page.get_by_label("School", exact=True).select_option(label="Birch Academy")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Birch Academy")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    context.close()


def test_skip_link_is_the_first_tab_stop_and_focus_is_visible(page: Page, live_server: LiveServer, world: World) -> None:
    sign_in(page, live_server.url, "officer@example.org")
    page.goto(f"{live_server.url}/schools")
    expect(page.get_by_role("heading", level=1)).to_have_text("Schools")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).left") == "0px"  # on screen when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none none"


# --- the officer dashboard (outreach/dashboard) ---------------------------------------------------

@pytest.fixture()
def register(world: World) -> dict:
    from tests.dashboard.registers import build_registers

    return build_registers(world)


def test_officer_finds_a_pa_pupil_opens_the_record_and_exports(page: Page, live_server: LiveServer, world: World,
                                                                register: dict, screenshots: Path) -> None:
    base = live_server.url
    sign_in(page, base, "officer@example.org")
    expect(page).to_have_url(f"{base}/today")  # the first page of the day
    page.get_by_label("School", exact=True).first.select_option(label="Ash Primary")
    page.get_by_role("button", name="Go").click()
    expect(page).to_have_url(f"{base}/today?school=100001")
    check_page(page, screenshots, "today")
    newly = register["newly"]
    section = page.locator("section", has=page.get_by_role("heading", name="Newly persistent or severe absence"))
    section.get_by_role("link", name=newly.display_name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(newly.display_name)
    expect(page.get_by_role("heading", name="Marks this year")).to_be_visible()
    check_page(page, screenshots, "pupil")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pupils").click()
    expect(page).to_have_url(f"{base}/schools/100001/pupils")
    page.get_by_label("Absence").select_option("pa")
    page.get_by_role("button", name="Show pupils").click()
    expect(page.locator("table.table-pupils tbody tr")).to_have_count(2)
    check_page(page, screenshots, "pupils")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("pupils-100001-")
    body = Path(download.path()).read_text()
    assert newly.upn in body and register["good"].upn not in body

    page.goto(f"{base}/schools/100001/overview")
    expect(page.get_by_role("img", name="Attendance by week")).to_be_visible()
    check_page(page, screenshots, "school-overview")


def test_each_role_sees_only_its_schools_on_the_dashboard(page: Page, live_server: LiveServer, world: World,
                                                          register: dict, screenshots: Path) -> None:
    base = live_server.url
    sign_in(page, base, "head@ash.example.org")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ash Primary")
    for path in ("/schools/100002/pupils", "/schools/100002/overview", "/today?school=100003",
                 f"/schools/100001/pupils/{world.pupils['B'][0].id}", "/trust"):
        page.goto(base + path)
        expected = "You do not have access to this" if path == "/trust" else "Page not found"
        expect(page.get_by_role("heading", level=1)).to_have_text(expected)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, "lead@north.example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trust").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("North Trust")
    expect(page.locator("table tbody tr th a")).to_have_text(["Ash Primary", "Birch Academy"])
    check_page(page, screenshots, "trust")
    page.get_by_role("link", name="Persistent absence").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")


def test_dashboard_works_without_javascript(browser: Browser, live_server: LiveServer, world: World, register: dict) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, "officer@example.org")
    page.goto(f"{live_server.url}/schools/100001/pupils")
    page.get_by_label("Year group").select_option("6")
    page.get_by_role("button", name="Show pupils").click()
    expect(page.locator("table.table-pupils tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Name").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    context.close()
