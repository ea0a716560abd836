"""Test fixtures (the flaskr shape: ``app``, ``client``, ``runner``).

The database is real: a SQLite file by default, PostgreSQL when ``OUTREACH_TEST_DATABASE_URL``
is set (CI sets it). The schema is built by running the Alembic migrations, so a migration that
drifts from the models fails here. Each test starts from empty tables: services commit for real,
and browser and clock tests use other processes, so rows are deleted after each test rather than
rolled back.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from outreach import create_app
from outreach.extensions import db as _db


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("OUTREACH_TEST_DATABASE_URL")
    if url:
        return url
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"sqlite:///{tmp_root / f'test-{worker}.db'}"


def _reset_postgres_schema(app: Flask) -> None:
    with _db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from flask_migrate import upgrade

    tmp_root = tmp_path_factory.mktemp("outreach")
    os.environ.setdefault("SECRET_KEY", "test-secret")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_root).replace("postgresql://", "postgresql+psycopg://"),
        "WTF_CSRF_ENABLED": True,
    })
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            _reset_postgres_schema(app)
        else:
            db_file = Path(_db.engine.url.database or "")
            if db_file.exists():
                db_file.unlink()
        upgrade()
    yield app


def _clear_tables() -> None:
    _db.session.rollback()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(autouse=True)
def db(app: Flask) -> Iterator[object]:
    """An app context and empty tables for every test."""
    with app.app_context():
        yield _db
        _db.session.remove()
        _clear_tables()


@pytest.fixture()
def client(app: Flask):
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):
    return app.test_cli_runner()
