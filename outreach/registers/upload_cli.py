"""``outreach imports work``: run the web imports waiting in the queue (uploads people checked
or confirmed on the Imports page). The clock runs the same function every few seconds; this
is for a machine with no clock, cron, or draining the queue by hand."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

imports_cli = AppGroup("imports", help="The web import queue.")


@imports_cli.command("work")
@click.option("--watch", "watch", type=click.FloatRange(min=0.5), default=None, metavar="SECONDS",
              help="Keep running, looking for new work every SECONDS (stop with Ctrl-C).")
def work_command(watch: float | None) -> None:
    """Check and import queued uploads, oldest first; print how many steps ran."""
    from outreach.extensions import db
    from outreach.registers.jobs import run_pending_imports

    while True:
        steps = run_pending_imports()
        db.session.remove()
        if steps or watch is None:
            click.echo(f"{steps} import step{'s' if steps != 1 else ''} run")
        if watch is None:
            return
        time.sleep(watch)
