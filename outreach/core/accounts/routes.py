"""Sign in, sign out and the account page."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from outreach.core.accounts import services
from outreach.core.accounts.forms import ChangePasswordForm, LoginForm
from outreach.core.accounts.models import User
from outreach.core.errors import UserError
from outreach.core.scoping import visible_schools_query
from outreach.core.timeutil import to_london
from outreach.extensions import db

bp = Blueprint("auth", __name__)

FAILED = "That email address and password did not match. Please check them and try again."


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def start_session(user: User) -> None:
    session.clear()  # nothing from before sign-in carries over
    login_user(user, remember=False)
    session.permanent = True  # cookie lifetime = PERMANENT_SESSION_LIFETIME, refreshed per request
    now = time.time()
    session["_auth_at"] = now
    session["_seen"] = now


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data or "", form.password.data or "", request.remote_addr)
        if result.ok:
            start_session(result.user)  # type: ignore[arg-type]
            return redirect(safe_next(form.next.data) or url_for("home"))
        if result.locked_until is not None:
            minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
            form.form_errors.append(
                f"There have been too many unsuccessful attempts to sign in, so to keep pupils' information safe "
                f"sign-in is paused for {minutes} minutes. Please try again after "
                f"{to_london(result.locked_until):%H:%M}, or ask your administrator to unlock your account."
            )
            status = 429
        elif result.inactive:
            form.form_errors.append("Your account has been deactivated. Please ask your administrator if you still need access.")
            status = 403
        else:
            form.form_errors.append(FAILED)
        form.password.data = ""
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    # POST only, with the CSRF token: a link on another site cannot sign people out.
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data or "", form.new_password.data or "")
        except UserError as exc:
            details = exc.details
            if isinstance(details, dict):
                for name, messages in details.items():
                    getattr(form, name).errors = list(messages)
            else:
                form.new_password.errors = list(details or [exc.message])
            status = 400
        else:
            start_session(current_user._get_current_object())  # keep this session; the others end
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 400
    schools = list(db.session.scalars(visible_schools_query(current_user).limit(50)))
    return render_template("auth/account.html", form=form, schools=schools), status
