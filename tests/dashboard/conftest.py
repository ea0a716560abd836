"""Fixtures for the dashboard foundations: a small world of trusts, schools, pupils and one user
per role, and clients signed in as each. Real rows, real sign-in through the login form."""
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
