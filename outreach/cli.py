"""The ``outreach`` console command: a Flask CLI group over ``create_app``.

``outreach db upgrade`` (Flask-Migrate), ``outreach schools add``, ``outreach import ...``,
``outreach report ...``, ``outreach attendance rebuild``, ``outreach demo``, ``outreach sms send``; ``flask --app wsgi``
reaches the same commands. Each feature keeps its commands in its own ``cli.py``.
"""
from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    from outreach.attendance.cli import attendance_cli, report_cli
    from outreach.core.accounts.cli import users_cli
    from outreach.demo.cli import demo_command
    from outreach.digests.cli import digest_cli
    from outreach.interventions.cli import interventions_cli, referrals_cli
    from outreach.messaging.cli import sms_cli
    from outreach.messaging.content_cli import templates_cli
    from outreach.registers.cli import import_cli
    from outreach.registers.upload_cli import imports_cli
    from outreach.schools.cli import schools_cli
    from outreach.parent_groups.cli import parent_groups_cli
    from outreach.walking_bus.cli import walking_bus_cli

    for command in (schools_cli, import_cli, report_cli, attendance_cli, demo_command, templates_cli, users_cli,
                    interventions_cli, referrals_cli, digest_cli, walking_bus_cli, parent_groups_cli,
                    sms_cli, imports_cli):
        app.cli.add_command(command)


def main() -> None:
    from outreach import create_app

    FlaskGroup(create_app=lambda: create_app(), help="outreach: attendance intervention for schools").main()
