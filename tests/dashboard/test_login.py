"""Signing in and out: messages that enumerate nobody, lockout, CSRF, safe redirects, timeouts."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask

from outreach.core.accounts import services, throttle
from outreach.core.accounts.models import LoginThrottle
from outreach.core.timeutil import utcnow
from outreach.extensions import db
from tests.dashboard.world import PASSWORD, World, csrf_token, sign_in, signed_in_client

FAILED = "That email address and password did not match"


def test_sign_in_sets_a_hardened_session_cookie(app: Flask, world: World) -> None:
    client = app.test_client()
    response = sign_in(client, world.email("officer"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.get("/schools").status_code == 200
    assert world.users["officer"].last_login_at is not None


def test_secure_cookie_setting_comes_from_the_environment() -> None:
    from config.settings import load_settings

    assert load_settings({"SECRET_KEY": "k", "SESSION_COOKIE_SECURE": "true"})["SESSION_COOKIE_SECURE"] is True
    assert load_settings({"SECRET_KEY": "k"})["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("email, password", [
    ("officer@example.org", "wrong password here"),
    ("nobody@example.org", PASSWORD),
    ("nobody@example.org", "wrong password here"),
])
def test_failures_say_the_same_thing_whoever_you_are(app: Flask, world: World, email: str, password: str) -> None:
    response = sign_in(app.test_client(), email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and FAILED in html
    assert "no user" not in html.lower() and "unknown" not in html.lower()
    assert password not in html  # the password field is not echoed back


def test_five_failures_lock_the_account_for_fifteen_minutes(app: Flask, world: World) -> None:
    client = app.test_client()
    for _ in range(4):
        assert FAILED in sign_in(client, world.email("head"), "wrong password here").get_data(as_text=True)
    locked = sign_in(client, world.email("head"), "wrong password here")
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    assert "too many unsuccessful attempts" in text and "15 minutes" in text and "ask your administrator" in text
    # Even the right password is refused while locked, from any address.
    other = app.test_client()
    right = sign_in(other, world.email("head"), PASSWORD, ip="10.9.9.9")
    assert right.status_code == 429
    # Other accounts are not affected.
    assert sign_in(app.test_client(), world.email("officer")).status_code == 302


def test_lockout_of_an_unknown_email_looks_the_same(app: Flask, world: World) -> None:
    client = app.test_client()
    responses = [sign_in(client, "nobody@example.org", "wrong password here") for _ in range(5)]
    assert responses[-1].status_code == 429 and "too many unsuccessful attempts" in responses[-1].get_data(as_text=True)


def test_lockout_ends_and_an_admin_can_lift_it(app: Flask, world: World) -> None:
    email = world.email("head")
    with app.test_request_context():
        for _ in range(5):
            throttle.record_failure(email, "10.0.0.9")
        db.session.commit()
        assert throttle.current_lockout(email, None) is not None
        assert throttle.current_lockout(email, None, now=utcnow() + timedelta(minutes=16)) is None
    services.unlock(email)
    assert sign_in(app.test_client(), email).status_code == 302


def test_failures_are_counted_per_address_too(app: Flask, world: World) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    try:
        client = app.test_client()
        for i in range(3):  # three different accounts from one address
            sign_in(client, f"someone{i}@example.org", "wrong password here", ip="10.0.0.5")
        assert sign_in(client, world.email("officer"), ip="10.0.0.5").status_code == 429  # this address is paused
        assert sign_in(app.test_client(), world.email("officer"), ip="10.0.0.6").status_code == 302
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_IP"] = 30


def test_a_failure_window_expires(app: Flask, world: World) -> None:
    email = world.email("officer")
    with app.test_request_context():
        earlier = utcnow() - timedelta(minutes=20)
        for _ in range(4):
            throttle.record_failure(email, None, now=earlier)
        throttle.record_failure(email, None)  # a new window: count restarts at one
        db.session.commit()
        row = db.session.get(LoginThrottle, ("account", throttle.account_key(email)))
        assert row.failures == 1 and row.locked_until is None


def test_successful_sign_in_clears_the_account_count(app: Flask, world: World) -> None:
    client = app.test_client()
    for _ in range(4):
        sign_in(client, world.email("officer"), "wrong password here")
    assert sign_in(client, world.email("officer")).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginThrottle, ("account", throttle.account_key(world.email("officer")))) is None


def test_deactivated_account_is_told_kindly(app: Flask, world: World) -> None:
    response = sign_in(app.test_client(), world.email("inactive"))
    assert response.status_code == 403 and "deactivated" in response.get_data(as_text=True)
    # With a wrong password it is an ordinary failure (nothing learned about the account).
    assert FAILED in sign_in(app.test_client(), world.email("inactive"), "wrong password here").get_data(as_text=True)


def test_post_without_csrf_token_is_refused(app: Flask, world: World) -> None:
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"email": world.email("officer"), "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert client.get("/schools").status_code == 302  # not signed in


@pytest.mark.parametrize("target, lands", [
    ("/schools/100001", "/schools/100001"),
    ("/schools?q=ash", "/schools?q=ash"),
    ("https://evil.example/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("/ok\r\nSet-Cookie: x=1", "/"),
])
def test_next_only_goes_to_local_paths(app: Flask, world: World, target: str, lands: str) -> None:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"email": world.email("officer"), "password": PASSWORD,
                                           "csrf_token": token, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == lands


def test_anonymous_visit_remembers_where_it_was_going(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.get("/schools/100001")
    assert response.status_code == 302 and "/login?next=%2Fschools%2F100001" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/schools/100001"' in page


def test_logout_needs_post_and_csrf(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/schools").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    assert client.get("/schools").status_code == 302


def _age_session(client, **changes: float) -> None:
    with client.session_transaction() as session:
        for key, delta in changes.items():
            session[key] = session[key] - delta


def test_idle_timeout_signs_out(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    idle = app.permanent_session_lifetime.total_seconds()
    _age_session(client, _seen=idle - 60)
    assert client.get("/schools").status_code == 200  # still inside the idle limit
    _age_session(client, _seen=idle + 60)
    response = client.get("/schools")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "signed out because the session had ended" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_absolute_timeout_signs_out_even_when_active(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    _age_session(client, _auth_at=app.config["SESSION_MAX_HOURS"] * 3600 + 1)
    assert client.get("/schools").status_code == 302


def test_activity_moves_the_idle_clock(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    _age_session(client, _seen=120)
    before = time.time() - 120
    client.get("/schools")
    with client.session_transaction() as session:
        assert session["_seen"] > before + 100


def test_changing_password_signs_out_other_sessions(app: Flask, world: World) -> None:
    mine = signed_in_client(app, world.email("officer"))
    theirs = signed_in_client(app, world.email("officer"))
    new = "a brand new passphrase"
    response = mine.post("/account", data={"csrf_token": csrf_token(mine, "/account"), "current_password": PASSWORD,
                                           "new_password": new, "confirm": new})
    assert response.status_code == 302
    assert mine.get("/schools").status_code == 200
    assert theirs.get("/schools").status_code == 302
    assert sign_in(app.test_client(), world.email("officer"), new).status_code == 302


@pytest.mark.parametrize("current, new, confirm, message", [
    ("wrong password!!", "a brand new passphrase", "a brand new passphrase", "Check your current password"),
    (PASSWORD, "short", "short", "at least 12"),
    (PASSWORD, "a brand new passphrase", "a different passphrase", "do not match"),
])
def test_password_change_errors_are_shown_by_the_field(app: Flask, world: World, current, new, confirm, message) -> None:
    client = signed_in_client(app, world.email("officer"))
    response = client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "current_password": current,
                                             "new_password": new, "confirm": confirm})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert sign_in(app.test_client(), world.email("officer")).status_code == 302  # unchanged


def test_pages_carry_security_headers(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    headers = client.get("/schools/100001").headers
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_nul_bytes_are_a_400_not_a_500(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    assert client.get("/schools?q=a%00b").status_code == 400
    assert client.get("/schools/1000%0001").status_code == 400
    anon = app.test_client()
    token = csrf_token(anon)
    assert anon.post("/login", data={"email": "a\x00@b.c", "password": "x", "csrf_token": token}).status_code == 400


def test_concurrent_failures_are_all_counted(app: Flask, world: World) -> None:
    """Workers counting at once lose nothing: each failure is one atomic upsert."""
    import threading

    email = world.email("officer")
    app.config["LOGIN_MAX_FAILURES"] = 1000
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    throttle.record_failure(email, None)
                    db.session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        db.session.expire_all()
        assert db.session.get(LoginThrottle, ("account", throttle.account_key(email))).failures == 30
    finally:
        app.config["LOGIN_MAX_FAILURES"] = 5
