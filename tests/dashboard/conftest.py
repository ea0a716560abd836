"""Fixtures for the dashboard foundations: a small world of trusts, schools, pupils and one user
per role (tests/dashboard/world.py). Real rows, real sign-in through the login form.
tests/e2e/conftest.py imports these same fixtures."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from flask import Flask

from tests.dashboard.world import World, build_world, fast_password_hashing


@pytest.fixture(scope="session", autouse=True)
def _fast_hashing(app: Flask) -> Iterator[None]:
    with fast_password_hashing(app):
        yield


@pytest.fixture()
def world(db: Any) -> World:
    return build_world()
