"""Register-import test helpers: a school with pupils, files written as MIS exports write them,
and a snapshot of every table's row count (to prove a refused import changed nothing)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.registers.models import Mark
from outreach.schools.models import School
from outreach.schools.upn import make_upn
from tests.factories import make_pupil, make_school

UPNS = [make_upn(823, 2001, 24, n) for n in (1, 2, 3)]


@pytest.fixture()
def school() -> School:
    school = make_school(urn="100001")
    for i, upn in enumerate(UPNS):
        make_pupil(school, upn=upn, forename=f"Child{i}", surname="Test")
    db.session.commit()
    return school


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False, crlf: bool = False,
          encoding: str = "utf-8") -> Path:
    """A file as an export writes it: optional byte-order mark and Windows line ends."""
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / name
    path.write_bytes(data)
    return path


def table_counts() -> dict[str, int]:
    db.session.rollback()
    counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    counts["marks"] = db.session.scalar(select(func.count()).select_from(Mark))  # the view over pupil_weeks
    return counts


def long_csv(rows: list[tuple[str, str, str, str]], header: str = "UPN,Date,Session,Mark") -> str:
    return header + "\n" + "".join(f"{u},{d},{s},{c}\n" for u, d, s, c in rows)
