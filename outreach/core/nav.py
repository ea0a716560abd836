"""The navigation bar, as data: each feature adds its pages with ``register_nav`` when its
blueprint is registered, and the bar shows only entries whose endpoint exists in this app and
whose roles include the user's. The order is fixed here so the bar reads the same everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from flask import Flask, request, url_for

from outreach.core.accounts.roles import ROLES

# Where each known page sits; pages not listed go after these, in registration order.
ORDER = ("Today", "Tasks", "Schools", "Pupils", "Interventions", "Referrals", "Imports", "Messages", "Walking buses",
         "Parent groups", "What works here", "Trust", "Users", "Audit log")


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]
    section: str = "main"  # main | admin
    # Endpoints (or blueprint prefixes ending with ".") that highlight this item as current.
    active_for: tuple[str, ...] = ()


def register_nav(app: Flask, label: str, endpoint: str, roles: Iterable[str] = ROLES,
                 section: str = "main", active_for: Iterable[str] = ()) -> None:
    items: list[NavItem] = app.extensions.setdefault("outreach_nav", [])
    if any(i.endpoint == endpoint for i in items):
        return
    items.append(NavItem(label, endpoint, frozenset(roles), section, tuple(active_for) or (endpoint,)))


def _rank(item: NavItem) -> int:
    return ORDER.index(item.label) if item.label in ORDER else len(ORDER)


def nav_for(app: Flask, user: Any) -> list[dict[str, Any]]:
    """The entries this user sees, as plain dicts for templates."""
    if not getattr(user, "is_authenticated", False):
        return []
    items = [i for i in app.extensions.get("outreach_nav", []) if user.role in i.roles and i.endpoint in app.view_functions]
    current = request.endpoint or ""
    out = []
    for item in sorted(items, key=lambda i: (i.section != "main", _rank(i))):
        active = any(current == a or (a.endswith(".") and current.startswith(a)) for a in item.active_for)
        out.append({"label": item.label, "url": url_for(item.endpoint), "active": active, "section": item.section})
    return out
