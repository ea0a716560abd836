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

    from outreach.registers.api import bp as imports_api
    from outreach.registers.routes import bp as imports_pages

    app.register_blueprint(imports_pages)
    register_nav(app, "Imports", "imports.index", active_for=["imports."])
    app.register_blueprint(imports_api)
