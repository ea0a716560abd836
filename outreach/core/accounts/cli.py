"""``outreach users ...``: accounts and API tokens from the command line.

Passwords never go on the command line (shell history, ``ps``): they are prompted for, or read
from standard input with ``--password-stdin``.
"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from outreach.core.accounts import services
from outreach.core.accounts.roles import ROLES, role_label
from outreach.core.cli_util import user_errors
from outreach.core.errors import UserError
from outreach.core.timeutil import to_london

users_cli = AppGroup("users", help="Staff accounts, roles and API tokens.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UserError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise UserError("standard input is not a terminal: pass the password with --password-stdin")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--school", "schools", multiple=True, metavar="URN",
              help="A school the user is assigned (repeat for several; heads have exactly one).")
@click.option("--trust", "trust_name", default=None, metavar="NAME", help="The trust a trust lead sees.")
@click.option("--name", default=None, help="The person's name, for display.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create_command(email: str, role: str, schools: tuple[str, ...], trust_name: str | None, name: str | None,
                   password_stdin: bool) -> None:
    """Create an account."""
    with user_errors():
        password = _read_password(password_stdin)
        user = services.create_user(email, role, password, school_urns=schools, trust_name=trust_name, name=name)
    where = ", ".join(s.urn for s in user.schools) or (user.trust.name if user.trust else "all schools")
    click.echo(f"created {user.email} ({role_label(user.role)}; {where})")


@users_cli.command("list")
def list_command() -> None:
    """List accounts: email, role, schools or trust, state, last sign-in (UK time)."""
    for user in services.list_users():
        where = ",".join(s.urn for s in user.schools) or (f"trust:{user.trust.name}" if user.trust else "-")
        last = to_london(user.last_login_at).strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.email}\t{user.role}\t{where}\t{state}\t{last}")


def _set_active(email: str, active: bool) -> None:
    with user_errors():
        user = services.set_active(services.require_user(email), active)
    click.echo(f"{'activated' if active else 'deactivated'} {user.email}")


@users_cli.command("deactivate")
@click.option("--email", required=True)
def deactivate_command(email: str) -> None:
    """Deactivate an account: its sessions end and its API tokens stop working at once."""
    _set_active(email, False)


@users_cli.command("activate")
@click.option("--email", required=True)
def activate_command(email: str) -> None:
    """Re-activate a deactivated account."""
    _set_active(email, True)


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set a new password (ends the user's other sessions)."""
    with user_errors():
        user = services.require_user(email)
        services.set_password(user, _read_password(password_stdin))
    click.echo(f"password changed for {user.email}")


@users_cli.command("unlock")
@click.option("--email", required=True)
def unlock_command(email: str) -> None:
    """Clear failed sign-ins for an account (lifts a lockout)."""
    with user_errors():
        services.unlock(email)
    click.echo(f"unlocked {services.normalise_email(email)}")


token_cli = AppGroup("token", help="API tokens (shown once, stored hashed).")
users_cli.add_command(token_cli)


@token_cli.command("create")
@click.option("--email", required=True, help="Whose access the token carries.")
@click.option("--name", default="api", show_default=True, help="What will use the token.")
def token_create_command(email: str, name: str) -> None:
    """Create a token and print it once: it cannot be shown again."""
    with user_errors():
        token, secret = services.create_token(services.require_user(email), name)
    click.echo(secret)
    click.echo(f"token {token.id} ({token.prefix}...) for {token.user.email}: store it now, it is not shown again", err=True)


@token_cli.command("list")
@click.option("--email", default=None, help="Only this user's tokens.")
def token_list_command(email: str | None) -> None:
    """List tokens: id, prefix, user, name, created, last used, state."""
    with user_errors():
        users = [services.require_user(email)] if email else services.list_users()
    for user in users:
        for t in user.tokens:
            used = to_london(t.last_used_at).strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
            state = "revoked" if t.revoked_at else "active"
            click.echo(f"{t.id}\t{t.prefix}...\t{user.email}\t{t.name}\t{to_london(t.created_at):%Y-%m-%d}\t{used}\t{state}")


@token_cli.command("revoke")
@click.option("--id", "token_id", required=True, type=int)
def token_revoke_command(token_id: int) -> None:
    """Revoke a token: it stops working at once."""
    with user_errors():
        token = services.revoke_token(services.get_token(token_id))
    click.echo(f"revoked token {token.id} ({token.prefix}...)")
