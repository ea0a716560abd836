"""The page shell and the pages built on it: navigation by role, school switcher, schools
pages, admin pages (users, tokens, audit log) and error pages."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from outreach import create_app
from outreach.core import audit
from outreach.core.accounts import services
from outreach.core.accounts.models import ApiToken
from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from tests.dashboard.world import World, csrf_token, signed_in_client


def nav_labels(html: str) -> list[str]:
    nav = html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


def test_shell_has_landmarks_skip_link_and_local_assets(app: Flask, world: World) -> None:
    html = signed_in_client(app, world.email("officer")).get("/schools").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert '<header class="site-header">' in html and "<footer" in html and 'lang="en-GB"' in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere


def test_navigation_follows_the_role(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer")).get("/schools").get_data(as_text=True)
    assert nav_labels(officer) == ["Today", "Tasks", "Schools", "Pupils", "Interventions", "Referrals", "Imports", "Messages",
                                   "Walking buses", "Parent groups", "What works here"]
    admin = signed_in_client(app, world.email("admin")).get("/schools").get_data(as_text=True)
    assert nav_labels(admin) == ["Today", "Tasks", "Schools", "Pupils", "Interventions", "Referrals", "Imports", "Messages",
                                 "Walking buses", "Parent groups", "What works here", "Trust", "Users", "Audit log"]
    assert 'aria-current="page">Schools' in admin


def test_nav_is_data_driven_and_links_only_existing_pages(app: Flask) -> None:
    from outreach.core.nav import register_nav

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    register_nav(other, "Today", "today.index")  # a page not built yet: no link
    assert "today.index" not in other.view_functions
    items = other.extensions["outreach_nav"]
    assert any(i.endpoint == "today.index" for i in items)


def test_school_switcher_for_users_with_several_schools(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer")).get("/schools/100002").get_data(as_text=True)
    assert 'action="/schools/go"' in officer
    assert '<option value="100002" selected>Birch Academy</option>' in officer
    assert "Cedar" not in officer
    head = signed_in_client(app, world.email("head")).get("/schools/100001").get_data(as_text=True)
    assert 'action="/schools/go"' not in head


def test_schools_page_lists_visible_schools_with_counts(app: Flask, world: World) -> None:
    html = signed_in_client(app, world.email("trust_lead")).get("/schools").get_data(as_text=True)
    assert "Ash Primary" in html and "Birch Academy" in html and "Cedar" not in html
    assert '<td class="num">4</td>' in html
    found = signed_in_client(app, world.email("admin")).get("/schools?q=100003").get_data(as_text=True)
    table = found.split("<tbody>", 1)[1]
    assert "Cedar School" in table and "Ash Primary" not in table
    none = signed_in_client(app, world.email("admin")).get("/schools?q=zzz").get_data(as_text=True)
    assert "No school matches" in none


def test_school_home_counts_pupils_on_roll(app: Flask, world: World) -> None:
    html = signed_in_client(app, world.email("head")).get("/schools/100001").get_data(as_text=True)
    assert "<h1>Ash Primary</h1>" in html
    assert '<span class="stat-value">4</span> <span class="stat-label">pupils on roll' in html
    assert "Reception" in html and "Year 1" in html and "Year 6" in html
    assert "1 earlier enrolments have ended" in html
    assert "You can view this school." in html
    officer = signed_in_client(app, world.email("officer")).get("/schools/100001").get_data(as_text=True)
    assert "You can view and update this school." in officer


def test_admin_creates_a_token_shown_once(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("admin"))
    target = world.users["officer"]
    response = client.post(f"/admin/users/{target.id}/tokens",
                           data={"csrf_token": csrf_token(client, "/account"), "name": "Power BI"})
    html = response.get_data(as_text=True)
    secret = re.search(r'value="(otk_[^"]+)"', html).group(1)
    assert services.user_for_token(secret) is target
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "Power BI" in page and secret not in page
    token = db.session.scalars(select(ApiToken).where(ApiToken.name == "Power BI")).one()
    assert token.created_by_id == world.users["admin"].id
    client.post(f"/admin/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    assert services.user_for_token(secret) is None
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["token.create", "token.revoke"]


def test_admin_deactivates_and_reactivates(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("admin"))
    other = signed_in_client(app, world.email("officer"))
    target = world.users["officer"]
    client.post(f"/admin/users/{target.id}/active", data={"csrf_token": csrf_token(client, "/account")})
    assert other.get("/schools").status_code == 302
    client.post(f"/admin/users/{target.id}/active", data={"csrf_token": csrf_token(client, "/account")})
    assert signed_in_client(app, world.email("officer")).get("/schools").status_code == 200
    own = client.post(f"/admin/users/{world.users['admin'].id}/active", data={"csrf_token": csrf_token(client, "/account")})
    assert own.status_code == 400 and "cannot deactivate your own" in own.get_data(as_text=True)


def test_audit_page_lists_and_filters(app: Flask, world: World) -> None:
    with app.test_request_context():
        audit.record("pupil.view", school=world.schools["A"], pupil_ids=[world.pupils["A"][0].id], user=world.users["head"])
        audit.record("pupils.export", school=world.schools["B"], pupil_ids=[p.id for p in world.pupils["B"]],
                     user=world.users["officer"], detail={"format": "csv"})
    client = signed_in_client(app, world.email("admin"))
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "head@ash.example.org" in html and "pupils.export" in html and "Birch Academy (100002)" in html
    by_pupil = client.get(f"/admin/audit?pupil={world.pupils['A'][0].id}").get_data(as_text=True)
    assert "<code>pupil.view</code>" in by_pupil and "<code>pupils.export</code>" not in by_pupil
    by_urn = client.get("/admin/audit?urn=100002&user=officer@example.org").get_data(as_text=True)
    assert "<code>pupils.export</code>" in by_urn and "<code>pupil.view</code>" not in by_urn
    assert client.get("/admin/audit?pupil=abc&page=-4").status_code == 200


def test_error_pages_use_the_shell(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Page not found" in html and 'class="skip-link"' in html
    assert 'aria-label="Main"' in html  # signed-in navigation still there
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403 and "You do not have access" in forbidden.get_data(as_text=True)


def test_500_page_uses_the_shell_and_hides_the_error(app: Flask) -> None:
    other = create_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": False, "SECRET_KEY": "x",
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})

    @other.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    response = other.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "Sorry, something went wrong" in html and "secret internals" not in html
    assert 'class="skip-link"' in html
    api = other.test_client().get("/boom", headers={"Accept": "application/json"})
    assert api.status_code == 500 and api.json["error"] == "Internal Server Error"
