"""Blueprint registration: each feature adds its blueprints here."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from outreach.core.nav import register_nav
    from outreach.core.web import register_core_web
    from outreach.schools.api import bp as schools_api
    from outreach.schools.routes import bp as schools_pages

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    register_core_web(app)  # sign-in, session rules, security headers, page shell, admin, /api/v1/openapi.json
    app.register_blueprint(schools_pages)
    register_nav(app, "Schools", "schools.index", active_for=["schools."])
    app.register_blueprint(schools_api)

    from outreach.parent_groups.api import bp as parent_groups_api
    from outreach.parent_groups.routes import bp as parent_groups_pages
    from outreach.walking_bus.api import bp as walking_bus_api
    from outreach.walking_bus.replies import register as register_walking_bus_replies
    from outreach.walking_bus.routes import bp as walking_bus_pages

    app.register_blueprint(walking_bus_pages)
    register_nav(app, "Walking buses", "walking_bus.index", active_for=["walking_bus."])
    app.register_blueprint(walking_bus_api)
    app.register_blueprint(parent_groups_pages)
    register_nav(app, "Parent groups", "parent_groups.index", active_for=["parent_groups."])
    app.register_blueprint(parent_groups_api)
    register_walking_bus_replies()  # ambassadors' replies (CANT MON, DONE, COUNT 7) from the SMS webhook
