"""The audit log page (admins): who saw which pupils' records, newest first."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from outreach.core.accounts.decorators import roles_required
from outreach.core.accounts.roles import Role
from outreach.core.audit.queries import events_query
from outreach.core.pagination import paginate

bp = Blueprint("audit", __name__, url_prefix="/admin")


def _int_arg(name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if lo <= value <= hi else default


@bp.get("/audit")
@roles_required(Role.ADMIN)
def index():  # type: ignore[no-untyped-def]
    filters = {
        "action": request.args.get("action", "").strip()[:60] or None,
        "user_email": request.args.get("user", "").strip()[:254] or None,
        "school_urn": request.args.get("urn", "").strip()[:8] or None,
        "pupil_id": _int_arg("pupil", None, 1, 2_147_483_647),
    }
    page = paginate(events_query(**filters), _int_arg("page", 1, 1, 1_000_000) or 1, 50)
    return render_template("admin/audit.html", page=page, filters=filters, args=request.args)
