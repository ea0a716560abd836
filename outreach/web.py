"""Blueprint registration: each feature adds its blueprints here."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from outreach.core.accounts.roles import Role
    from outreach.core.nav import register_nav
    from outreach.core.web import register_core_web
    from outreach.dashboard.api import bp as dashboard_api
    from outreach.dashboard.routes import bp as dashboard_pages
    from outreach.digests.routes import bp as digests_pages
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
    app.register_blueprint(digests_pages)  # /schools/<urn>/digests: linked from the school home page
    _register_interventions(app)
    _register_walking_buses(app)
    _register_messaging(app)
    _register_imports(app)


def _register_interventions(app: Flask) -> None:
    from outreach.core.nav import register_nav
    from outreach.interventions.api import bp as interventions_api
    from outreach.interventions.routes import bp as interventions_pages

    app.register_blueprint(interventions_pages)
    app.register_blueprint(interventions_api)
    task_pages = ["interventions.tasks_home", "interventions.tasks", "interventions.task", "interventions.rules"]
    log_pages = ["interventions.log_home", "interventions.log", "interventions.new", "interventions.detail",
                 "interventions.letter_form", "interventions.timeline"]
    referral_pages = ["interventions.referrals_home", "interventions.referrals_list", "interventions.new_referral",
                      "interventions.referral"]
    register_nav(app, "Tasks", "interventions.tasks_home", active_for=task_pages)
    register_nav(app, "Interventions", "interventions.log_home", active_for=log_pages)
    register_nav(app, "Referrals", "interventions.referrals_home", active_for=referral_pages)
    register_nav(app, "What works here", "interventions.impact_home",
                 active_for=["interventions.impact_home", "interventions.impact"])


def _register_walking_buses(app: Flask) -> None:
    from outreach.core.nav import register_nav
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
    import outreach.walking_bus.digest  # noqa: F401 (registers the digest's walking-bus section)

    register_walking_bus_replies()  # ambassadors' replies (CANT MON, DONE, COUNT 7) from the SMS webhook


def _register_messaging(app: Flask) -> None:
    from outreach.messaging.routes import register as register_messaging_pages
    from outreach.messaging.webhooks import bp as twilio_webhooks
    import outreach.messaging.timeline  # noqa: F401 (registers the "messages" and "replies" timeline sources)

    app.register_blueprint(twilio_webhooks)  # signed by Twilio, CSRF-exempt; no page, no nav
    register_messaging_pages(app)  # /messages and /schools/<urn>/messages...; nav "Messages"


def _register_imports(app: Flask) -> None:
    from outreach.core.nav import register_nav
    from outreach.registers.api import bp as imports_api
    from outreach.registers.routes import bp as imports_pages

    app.register_blueprint(imports_pages)
    register_nav(app, "Imports", "imports.index", active_for=["imports."])
    app.register_blueprint(imports_api)
