"""Blueprint registration: each feature adds its blueprints here."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from outreach.core.accounts.roles import Role
    from outreach.core.nav import register_nav
    from outreach.core.web import register_core_web
    from outreach.dashboard.api import bp as dashboard_api
    from outreach.dashboard.routes import bp as dashboard_pages
    from outreach.schools.api import bp as schools_api
    from outreach.schools.routes import bp as schools_pages

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    register_core_web(app)  # sign-in, session rules, security headers, page shell, admin, /api/v1/openapi.json
    app.register_blueprint(schools_pages)
    register_nav(app, "Schools", "schools.index", active_for=["schools."])
    app.register_blueprint(schools_api)
    app.register_blueprint(dashboard_pages)
    register_nav(app, "Today", "dashboard.today", active_for=["dashboard.today"])
    register_nav(app, "Pupils", "dashboard.pupils_home", active_for=["dashboard.pupils", "dashboard.pupil"])
    register_nav(app, "Trust", "dashboard.trust_index", roles=[Role.ADMIN, Role.TRUST_LEAD],
                 active_for=["dashboard.trust"])
    app.register_blueprint(dashboard_api)
