"""Accounts: creation rules, passwords (argon2, rehash), deactivation, tokens, and the CLI."""
from __future__ import annotations

import pytest
from flask import Flask

from outreach.core.accounts import passwords, services
from outreach.core.accounts.models import ApiToken, User
from outreach.core.accounts.tokens import token_hash
from outreach.core.errors import UserError
from outreach.extensions import db
from tests.dashboard.world import PASSWORD, World, signed_in_client


def test_email_is_unique_whatever_its_case(world: World) -> None:
    with pytest.raises(UserError, match="already exists"):
        services.create_user("OFFICER@Example.org", "attendance_officer", PASSWORD, school_urns=["100001"])
    assert services.get_user_by_email("  Officer@EXAMPLE.org ") is world.users["officer"]


@pytest.mark.parametrize("kwargs, reason", [
    ({"email": "not-an-email"}, "not an email address"),
    ({"password": "short"}, "at least 12 characters"),
    ({"password": "New@Example.org"}, "must not be the email address"),
    ({"school_urns": ["999999"]}, "unknown school URN"),
    ({"role": "head", "school_urns": ["100001", "100002"]}, "cannot create"),
    ({"role": "trust_lead", "school_urns": [], "trust_name": "No Such Trust"}, "no trust called"),
])
def test_create_user_refuses_bad_input_and_changes_nothing(world: World, kwargs: dict, reason: str) -> None:
    args = {"email": "new@example.org", "role": "attendance_officer", "password": PASSWORD, "school_urns": ["100001"]}
    args.update(kwargs)
    before = db.session.query(User).count()
    with pytest.raises(UserError) as info:
        services.create_user(args.pop("email"), args.pop("role"), args.pop("password"), **args)
    assert reason in info.value.message or any(reason in d for d in (info.value.details or []))
    db.session.rollback()
    assert db.session.query(User).count() == before


def test_password_is_an_argon2_hash_and_rehashed_when_parameters_change(app: Flask, world: World) -> None:
    user = world.users["officer"]
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    old_hash = user.password_hash
    app.config["ARGON2_TIME_COST"] = 2
    try:
        result = services.authenticate(user.email, PASSWORD, "127.0.0.1")
        assert result.ok
        db.session.refresh(user)
        assert user.password_hash != old_hash and "t=2" in user.password_hash
        assert passwords.verify_password(user.password_hash, PASSWORD)
    finally:
        app.config["ARGON2_TIME_COST"] = 1


def test_production_parameters_hash_and_verify(app: Flask) -> None:
    with app.test_request_context():
        app.config.update(ARGON2_TIME_COST=3, ARGON2_MEMORY_KIB=65536, ARGON2_PARALLELISM=4)
        try:
            h = passwords.hash_password("a long enough password")
            assert "m=65536,t=3,p=4" in h and passwords.verify_password(h, "a long enough password")
            assert not passwords.verify_password(h, "a long enough passwore")
            assert not passwords.verify_password("not a hash", "x")
        finally:
            app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_KIB=8, ARGON2_PARALLELISM=1)


def test_deactivation_ends_sessions_at_once(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    assert client.get("/schools").status_code == 200
    services.set_active(world.users["officer"], False)
    response = client.get("/schools")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_tokens_are_stored_hashed_and_stop_when_revoked(world: World) -> None:
    token, secret = services.create_token(world.users["officer"], "MIS sync")
    assert secret.startswith("otk_") and len(secret) > 40
    row = db.session.get(ApiToken, token.id)
    assert row.token_hash == token_hash(secret) and secret not in (row.token_hash, row.prefix)
    assert services.user_for_token(secret) is world.users["officer"]
    assert row.last_used_at is not None
    services.revoke_token(row)
    assert services.user_for_token(secret) is None
    assert services.user_for_token("otk_" + "x" * 43) is None
    assert services.user_for_token("") is None


def test_token_of_deactivated_user_stops_working(world: World) -> None:
    _, secret = services.create_token(world.users["head"], "report")
    services.set_active(world.users["head"], False)
    assert services.user_for_token(secret) is None
    with pytest.raises(UserError):
        services.create_token(world.users["head"], "another")


# The command line ----------------------------------------------------------------------------

def test_cli_create_list_deactivate(runner, world: World) -> None:
    result = runner.invoke(args=["users", "create", "--email", "New@Example.org", "--role", "attendance_officer",
                                 "--school", "100001", "--school", "100003", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created new@example.org" in result.output
    user = services.get_user_by_email("new@example.org")
    assert sorted(s.urn for s in user.schools) == ["100001", "100003"]
    assert passwords.verify_password(user.password_hash, PASSWORD)

    listing = runner.invoke(args=["users", "list"])
    assert "new@example.org\tattendance_officer\t100001,100003\tactive\tnever" in listing.output
    assert "lead@north.example.org\ttrust_lead\ttrust:North Trust" in listing.output

    assert runner.invoke(args=["users", "deactivate", "--email", "new@example.org"]).exit_code == 0
    db.session.expire_all()
    assert services.get_user_by_email("new@example.org").active is False


def test_cli_never_takes_a_password_argument(runner, world: World) -> None:
    result = runner.invoke(args=["users", "create", "--email", "x@example.org", "--role", "admin",
                                 "--password", PASSWORD])
    assert result.exit_code != 0 and "No such option" in result.output
    # Without a terminal and without --password-stdin it refuses rather than hang on a prompt.
    result = runner.invoke(args=["users", "create", "--email", "x@example.org", "--role", "admin"], input="")
    assert result.exit_code == 1 and "--password-stdin" in result.output


def test_cli_reports_bad_input_without_a_traceback(runner, world: World) -> None:
    result = runner.invoke(args=["users", "create", "--email", "h@example.org", "--role", "head", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert "a head needs exactly one --school URN" in result.output
    assert "Traceback" not in result.output


def test_cli_tokens(runner, world: World) -> None:
    result = runner.invoke(args=["users", "token", "create", "--email", "officer@example.org", "--name", "sync"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("otk_")
    assert services.user_for_token(secret) is world.users["officer"]
    listing = runner.invoke(args=["users", "token", "list", "--email", "officer@example.org"])
    token_id = int(listing.output.split("\t")[0])
    assert secret not in listing.output and "\tsync\t" in listing.output
    assert runner.invoke(args=["users", "token", "revoke", "--id", str(token_id)]).exit_code == 0
    assert services.user_for_token(secret) is None


def test_cli_set_password_and_unlock(runner, world: World) -> None:
    new = "another long passphrase"
    result = runner.invoke(args=["users", "set-password", "--email", "head@ash.example.org", "--password-stdin"], input=new + "\n")
    assert result.exit_code == 0, result.output
    assert services.authenticate("head@ash.example.org", new, None).ok
    assert runner.invoke(args=["users", "unlock", "--email", "head@ash.example.org"]).exit_code == 0
