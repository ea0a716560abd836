"""Property: whatever registers are imported, in whatever order, the stored marks are the last
file's code for each session and the rollups equal a rebuild from marks."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, select

from outreach.attendance import rollups
from outreach.attendance.codes import codes_in_force
from outreach.attendance.models import PupilWeek
from outreach.extensions import db
from outreach.registers.models import ImportBatch, Mark, MarkChange
from outreach.registers.services import import_registers
from outreach.schools.models import Pupil
from tests.registers.conftest import UPNS, long_csv

START = date(2024, 8, 12)  # the weeks either side of the 19 Aug 2024 code switch
DAYS = [START + timedelta(days=i) for i in range(21)]


@st.composite
def registers(draw):
    sessions = draw(st.lists(st.tuples(st.sampled_from(UPNS), st.sampled_from(DAYS), st.sampled_from(["AM", "PM"])),
                             min_size=1, max_size=40, unique=True))
    return [(u, d, s, draw(st.sampled_from(codes_in_force(d) + ["-"]))) for u, d, s in sessions]


def _weeks():
    return sorted((w.pupil_id, w.week_start, w.present, w.aea, w.authorised, w.unauthorised, w.late, w.not_counted,
                   w.admin, w.possible) for w in db.session.scalars(select(PupilWeek)))


@pytest.mark.parametrize("streaming", [False, True], ids=["column-wise", "streaming"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(registers(), min_size=1, max_size=3))
def test_imports_keep_marks_and_rollups_equal_to_a_rebuild(school, tmp_path, streaming, files):
    db.session.execute(delete(MarkChange))
    db.session.execute(delete(PupilWeek))
    db.session.execute(delete(ImportBatch))
    db.session.commit()
    ids = dict(db.session.execute(select(Pupil.upn, Pupil.id)).all())
    expected: dict[tuple[int, date, str], str] = {}
    for n, rows in enumerate(files):
        path = tmp_path / f"r{n}.csv"
        uk = n % 2 == 1  # alternate ISO and UK dates
        text = long_csv([(u, d.strftime("%d/%m/%Y") if uk else d.isoformat(), s, c) for u, d, s, c in rows])
        path.write_text(text + ("\n" if streaming else ""))  # a blank line: the streaming path reads it
        report = import_registers(school, path)
        assert report.ok, report.errors
        changed = sum(1 for u, d, s, c in rows if c != "-" and expected.get((ids[u], d, s), c) != c)
        added = sum(1 for u, d, s, c in rows if c != "-" and (ids[u], d, s) not in expected)
        assert (report.added, report.changed) == (added, changed)
        assert report.not_taken == sum(1 for *_, c in rows if c == "-")
        for u, d, s, c in rows:
            if c != "-":
                expected[(ids[u], d, s)] = c
    stored = {(m.pupil_id, m.date, m.session): m.code for m in db.session.scalars(select(Mark))}
    assert stored == expected
    after_imports = _weeks()
    rollups.rebuild(db.session, school.id)
    db.session.flush()
    assert _weeks() == after_imports
    db.session.rollback()
