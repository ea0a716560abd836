"""outreach: attendance intervention for schools in England.

``create_app`` is the only way an app is made: the web (``wsgi:app``), the CLI (``outreach``),
the clock (``python -m jobs.clock``) and the tests all go through it.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from config.settings import PROJECT_ROOT, load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(Path(load_instance_path()).resolve()),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "outreach" / "static"),
    )
    app.config.from_mapping(load_settings(instance_path=Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_logging(app)
    register_extensions(app)
    register_models()
    register_blueprints(app)
    register_cli(app)
    register_errors(app)
    register_import_hooks()
    return app


def load_instance_path() -> str:
    import os

    return os.environ.get("OUTREACH_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))


def register_logging(app: Flask) -> None:
    # Log lines carry ids and counts only: never names, UPNs or phone numbers.
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic announces every plugin it loads at INFO on import; that is noise on every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from outreach.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)


def register_models() -> None:
    """Import every models module so metadata (and Alembic autogenerate) sees all tables."""
    from outreach import models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from outreach.web import register_web

    register_web(app)


def register_cli(app: Flask) -> None:
    from outreach.cli import register_commands

    register_commands(app)


def register_import_hooks() -> None:
    """Features that react to new marks hook into the importer here, so registers never import
    them: rules are evaluated after every completed register import."""
    from outreach.interventions.jobs import evaluate_after_import
    from outreach.registers.hooks import register_after_import

    register_after_import(evaluate_after_import)


def register_errors(app: Flask) -> None:
    from outreach.core.errors import register_error_handlers

    register_error_handlers(app)
