"""Today, school overview, pupils (with CSV export), pupil and trust pages on a constructed
register (tests/dashboard/registers.py): content, filters, sorting, scoping and audit."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from tests.dashboard.registers import build_registers
from tests.dashboard.world import World, signed_in_client


@pytest.fixture()
def reg(world: World) -> dict[str, Any]:
    return build_registers(world)


def text(response: Any) -> str:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[-1500:])
    return response.get_data(as_text=True)


def section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def test_smoke(app: Flask, world: World, reg: dict[str, Any]) -> None:
    client = signed_in_client(app, world.email("officer"))
    for path in ("/today?school=100001", "/schools/100001/overview", "/schools/100001/pupils",
                 f"/schools/100001/pupils/{reg['newly'].id}", "/schools/100001/pupils.csv"):
        text(client.get(path))
    lead = signed_in_client(app, world.email("trust_lead"))
    assert lead.get("/trust").status_code == 302
    text(lead.get(lead.get("/trust").headers["Location"]))
