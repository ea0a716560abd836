"""What every page and API call stands on: sign-in wiring, session timeouts, security headers,
the page shell's context (navigation, school switcher), the core pages and the API document.

``register_core_web(app)`` is called once from ``outreach.web.register_web``.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from outreach.core.accounts.roles import ROLES, Role, role_label
from outreach.core.errors import html_error, json_error, wants_json
from outreach.core.nav import nav_for, register_nav
from outreach.core.timeutil import to_london
from outreach.extensions import login_manager

SWITCHER_LIMIT = 30  # more schools than this: the Schools page (with search) is the switcher
SEEN_RESOLUTION = 30  # seconds: the idle clock is rewritten at most this often


def register_core_web(app: Flask) -> None:
    from outreach.core.accounts.admin_routes import bp as admin_bp
    from outreach.core.accounts.routes import bp as auth_bp
    from outreach.core.api.openapi import register_openapi
    from outreach.core.audit.routes import bp as audit_bp

    _configure_login(app)
    app.session_interface = _SessionInterface()
    if app.config.get("TRUSTED_PROXY_COUNT"):
        n = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.before_request(_fresh_request_user)
    app.before_request(_refuse_nul_bytes)
    app.before_request(_enforce_session_age)
    app.after_request(_security_headers)
    app.context_processor(_shell_context)
    app.add_template_filter(_london, "london")
    app.add_template_filter(role_label, "role_label")
    app.register_error_handler(CSRFError, _csrf_error)
    app.add_url_rule("/", endpoint="home", view_func=_home)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    register_openapi(app)
    register_nav(app, "Users", "admin.users", roles=[Role.ADMIN], section="admin", active_for=["admin."])
    register_nav(app, "Audit log", "audit.index", roles=[Role.ADMIN], section="admin", active_for=["audit."])


class _SessionInterface(SecureCookieSessionInterface):
    """The API never reads or refreshes the session cookie (tokens only)."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if request.path.startswith("/api/"):
            return False
        return super().should_set_cookie(app, session)


def _configure_login(app: Flask) -> None:
    from outreach.core.accounts.services import load_session_user

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)


def _fresh_request_user() -> None:
    """Who a request is, and its CSRF token, come from this request's cookie or token alone.
    (A request normally gets a fresh ``g``; not when it runs inside an app context someone
    already pushed, as tests and scripts do: then the last request's user would carry over.)"""
    for key in ("_login_user", "api_user", current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
        g.pop(key, None)


def _refuse_nul_bytes() -> None:
    """No text we store or query may hold NUL (PostgreSQL refuses it): say so as a 400."""
    values: list[Any] = list(request.args.values()) + list((request.view_args or {}).values())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += list(request.form.values())
    if any(isinstance(v, str) and "\x00" in v for v in values):
        raise BadRequest("Text may not contain NUL characters.")


def _enforce_session_age() -> Any:
    """Idle timeout (PERMANENT_SESSION_LIFETIME) and absolute timeout (SESSION_MAX_HOURS),
    checked on the server: the cookie's own expiry is only advice to the browser."""
    if request.path.startswith("/api/") or request.endpoint in (None, "static"):
        return None
    if not current_user.is_authenticated:
        return None
    now = time.time()
    seen, started = session.get("_seen"), session.get("_auth_at")
    idle = current_app.permanent_session_lifetime.total_seconds()
    absolute = int(current_app.config.get("SESSION_MAX_HOURS", 12)) * 3600
    if not isinstance(seen, (int, float)) or not isinstance(started, (int, float)) or now - seen > idle or now - started > absolute:
        logout_user()
        session.clear()
        flash("You were signed out because the session had ended. Please sign in again.", "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    if now - seen >= SEEN_RESOLUTION:
        session["_seen"] = now
    return None


_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _security_headers(response: Any) -> Any:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        # Pages and API answers hold pupil data: never kept by browsers or shared caches.
        headers["Cache-Control"] = "no-store"
    return response


def _csrf_error(exc: CSRFError) -> Any:
    message = ("This form had expired or did not come from this site, so nothing was changed. "
               "Please go back, reload the page and try again.")
    if wants_json():
        return json_error("CSRF check failed", exc.description, 400)
    return html_error(400, "Please try that again", message)


def _london(moment: Any, fmt: str = "%d %b %Y, %H:%M") -> str:
    return "" if moment is None else to_london(moment).strftime(fmt)


def _shell_context() -> dict[str, Any]:
    from outreach.core.scoping import visible_schools_query
    from outreach.extensions import db

    if not has_request_context():  # letters, digests and packs render in the CLI and the clock too
        return {}
    user = current_user
    switcher: list[Any] = []
    if getattr(user, "is_authenticated", False) and request.endpoint != "static":
        try:
            schools = list(db.session.scalars(visible_schools_query(user).limit(SWITCHER_LIMIT + 1)))
        except Exception:  # an error page during a database outage still renders
            db.session.rollback()
            schools = []
        if 1 < len(schools) <= SWITCHER_LIMIT:
            switcher = schools
    current_urn = (request.view_args or {}).get("urn") if request.view_args else None
    return {
        "nav_items": nav_for(current_app, user),
        "switcher_schools": switcher,
        "current_urn": current_urn,
        "has_endpoint": lambda name: name in current_app.view_functions,
        "all_roles": ROLES,
    }


def _home() -> Any:
    """Send people to the first page their role has (later: Today)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    items = [i for i in nav_for(current_app, current_user) if i["section"] == "main"]
    if items:
        return redirect(items[0]["url"])
    return redirect(url_for("auth.account"))
