"""What the import speed work changed must not weaken integrity or leak connection settings:
pupil weeks (which hold the marks) have no foreign keys, a trigger per row written, but a deleted
pupil still takes their marks; SQLite's bigger page cache lasts only as long as the import."""
from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select, text

from outreach.attendance.models import PupilWeek
from outreach.extensions import db
from outreach.registers.models import Mark
from outreach.registers.services import import_registers
from outreach.schools.models import Pupil
from tests.registers.conftest import UPNS, long_csv, write

A = UPNS[0]
ROWS = [(A, "2024-09-02", "AM", "/"), (A, "2024-09-02", "PM", "N")]


def test_pupil_weeks_have_no_foreign_keys():
    """Marks live in pupil_weeks (0019), whose keys were a trigger per row written: gone; the
    pupil key's cascade is a trigger on pupils (next test)."""
    assert inspect(db.engine).get_foreign_keys("pupil_weeks") == []


def test_pupil_weeks_have_only_the_covering_index_and_marks_is_a_view():
    """Each index is paid on every week an import writes: only the covering (school_id,
    week_start, counts) index that every figure reads; marks is the view unfolding the weeks."""
    inspector = inspect(db.engine)
    indexes = {ix["name"]: ix["column_names"][:2] for ix in inspector.get_indexes("pupil_weeks")}
    assert indexes == {"ix_pupil_weeks_school_week": ["school_id", "week_start"]}
    assert "marks" in inspector.get_view_names() and "marks" not in inspector.get_table_names()


def test_deleting_a_pupil_deletes_their_marks_in_the_database(tmp_path, school):
    """On both engines, by the database itself (a trigger on pupils), whoever deletes the pupil."""
    assert import_registers(school, write(tmp_path, "r.csv", long_csv(ROWS + [(UPNS[1], "2024-09-02", "AM", "/")]))).ok
    pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.upn == A))
    db.session.execute(Pupil.__table__.delete().where(Pupil.__table__.c.id == pupil_id))
    db.session.commit()
    assert db.session.scalars(select(Mark).where(Mark.pupil_id == pupil_id)).all() == []
    assert db.session.scalars(select(PupilWeek).where(PupilWeek.pupil_id == pupil_id)).all() == []
    assert len(db.session.scalars(select(Mark)).all()) == 1  # the other pupil's mark stays


@pytest.fixture()
def cache_at_checkin():
    """PRAGMA cache_size of every SQLite connection as it goes back to the pool."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the page cache setting is SQLite's")
    seen: list[int] = []

    def checkin(dbapi_connection, record):
        seen.append(dbapi_connection.execute("PRAGMA cache_size").fetchone()[0])

    event.listen(db.engine, "checkin", checkin)
    yield seen
    event.remove(db.engine, "checkin", checkin)


@pytest.mark.parametrize("rows, ok", [(ROWS, True), ([(A, "2024-09-02", "AM", "?!")], False)])
def test_sqlite_page_cache_is_put_back_after_the_import(tmp_path, school, cache_at_checkin, rows, ok):
    default = db.session.connection().connection.driver_connection.execute("PRAGMA cache_size").fetchone()[0]
    db.session.commit()
    report = import_registers(school, write(tmp_path, "r.csv", long_csv(rows)))
    assert report.ok is ok
    assert cache_at_checkin and set(cache_at_checkin) == {default}


@pytest.mark.parametrize("rows, ok", [(ROWS, True), ([(A, "2024-09-02", "AM", "?!")], False)])
def test_postgres_work_mem_is_the_import_transaction_s_only(tmp_path, school, rows, ok):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("work_mem is PostgreSQL's")
    show = "SHOW work_mem"
    default = db.session.execute(text(show)).scalar()
    db.session.commit()
    report = import_registers(school, write(tmp_path, "r.csv", long_csv(rows)))
    assert report.ok is ok
    assert db.session.execute(text(show)).scalar() == default != "64MB"
