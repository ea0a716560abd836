"""``outreach sms ...``: run the sender by hand or as a worker, and see the outbox's state."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.messaging.gateways import gateway_for
from outreach.messaging.models import OutboxMessage
from outreach.messaging.sender import Sender, SenderSettings


@click.group("sms", help="The SMS outbox: send due messages, show counts by status.")
def sms_cli() -> None:
    pass


@sms_cli.command("send")
@click.option("--max-seconds", type=float, default=50.0, show_default=True,
              help="Stop a pass after this long (the clock runs one pass a minute).")
@click.option("--forever", is_flag=True, help="Keep sending as rows fall due (a dedicated worker); Ctrl-C stops.")
@click.option("--idle-sleep", type=float, default=1.0, show_default=True, help="With --forever: pause when nothing is due.")
@with_appcontext
def send_command(max_seconds: float, forever: bool, idle_sleep: float) -> None:
    """Send the due messages now (reconciling any a crashed sender left queued)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    gateway = gateway_for(app)
    sender = Sender(gateway, SenderSettings.from_app(app))
    click.echo(f"sender {sender.identity}: gateway {gateway.name}, "
               f"{app.config.get('SMS_RATE_PER_SECOND')} per second", err=True)
    while True:
        report = sender.run(max_seconds=max_seconds)
        if report.claimed or not forever:
            click.echo(" ".join(f"{k}={v}" for k, v in report.as_dict().items()), err=True)
        if not forever:
            return
        if not report.claimed:
            db.session.remove()
            time.sleep(idle_sleep)


@sms_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Count outbox rows by status."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                              .order_by(OutboxMessage.status)).all()
    if not rows:
        click.echo("the outbox is empty")
    for status, count in rows:
        click.echo(f"{status:12} {count}")
