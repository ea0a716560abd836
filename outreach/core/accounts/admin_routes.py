"""Admin pages: users (activate, unlock) and their API tokens (create: shown once; revoke).

Every POST here is CSRF-checked by Flask-WTF's ``CSRFProtect`` before the view runs."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from outreach.core import audit
from outreach.core.accounts import services
from outreach.core.accounts.decorators import roles_required
from outreach.core.accounts.forms import ActionForm, TokenForm
from outreach.core.accounts.models import ApiToken, User
from outreach.core.accounts.roles import Role
from outreach.core.errors import NotFound, UserError
from outreach.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= 2_147_483_647 else None
    if user is None:
        raise NotFound("No such user")
    return user


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    rows = list(db.session.scalars(
        select(User).options(selectinload(User.schools), selectinload(User.trust)).order_by(User.email)
    ))
    return render_template("admin/users.html", users=rows)


@bp.get("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def user(user_id: int):  # type: ignore[no-untyped-def]
    target = _user(user_id)
    tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == target.id).order_by(ApiToken.created_at.desc())))
    return render_template("admin/user.html", target=target, tokens=tokens, token_form=TokenForm(), action_form=ActionForm())


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def toggle_active(user_id: int):  # type: ignore[no-untyped-def]
    target = _user(user_id)
    if target.id == current_user.id:
        raise UserError("You cannot deactivate your own account.")
    services.set_active(target, not target.active)
    audit.record("user.activate" if target.active else "user.deactivate", detail={"user_id": target.id})
    flash(f"{target.email} is now {'active' if target.active else 'deactivated'}.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/unlock")
@roles_required(Role.ADMIN)
def unlock(user_id: int):  # type: ignore[no-untyped-def]
    target = _user(user_id)
    services.unlock(target.email)
    audit.record("user.unlock", detail={"user_id": target.id})
    flash(f"Sign-in for {target.email} is unlocked.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/tokens")
@roles_required(Role.ADMIN)
def create_token(user_id: int):  # type: ignore[no-untyped-def]
    target = _user(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == target.id)))
        return render_template("admin/user.html", target=target, tokens=tokens, token_form=form, action_form=ActionForm()), 400
    token, secret = services.create_token(target, form.name.data or "", created_by=current_user)
    audit.record("token.create", detail={"user_id": target.id, "token_id": token.id})
    # Rendered, not flashed: the secret must never sit in the session cookie.
    return render_template("admin/token_created.html", target=target, token=token, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    if not 0 < token_id <= 2_147_483_647:
        raise NotFound("No such token")
    token = services.get_token(token_id)
    services.revoke_token(token)
    audit.record("token.revoke", detail={"user_id": token.user_id, "token_id": token.id})
    flash(f"Token {token.prefix}… is revoked.", "success")
    return redirect(url_for("admin.user", user_id=token.user_id))
