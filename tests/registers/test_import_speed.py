"""What the import speed work changed must not weaken integrity or leak connection settings:
marks keep the pupil foreign key (a deleted pupil takes their marks) and lose only the two that
cost a trigger per row; SQLite's bigger page cache lasts only as long as the import."""
from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select, text

from outreach.extensions import db
from outreach.registers.models import Mark
from outreach.registers.services import import_registers
from outreach.schools.models import Pupil
from tests.registers.conftest import UPNS, long_csv, write

A = UPNS[0]
ROWS = [(A, "2024-09-02", "AM", "/"), (A, "2024-09-02", "PM", "N")]


def test_marks_keep_only_the_pupil_foreign_key_with_cascade():
    fks = inspect(db.engine).get_foreign_keys("marks")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in fks] == [(["pupil_id"], "pupils")]
    assert (fks[0]["options"].get("ondelete") or "").upper() == "CASCADE"


def test_marks_have_only_the_indexes_queries_read():
    """Each index is paid on every mark an import writes: (school_id, date, ...) serves rollups and
    date ranges, the partial N index the Today page and rules; none on batch_id (0017)."""
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes("marks")}
    assert indexes == {"ix_marks_school_date": ["school_id", "date", "pupil_id", "code"],
                       "ix_marks_school_n": ["school_id", "date", "pupil_id"]}


def test_deleting_a_pupil_deletes_their_marks_in_the_database(tmp_path, school):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite here does not enforce foreign keys (no PRAGMA foreign_keys)")
    assert import_registers(school, write(tmp_path, "r.csv", long_csv(ROWS))).ok
    pupil_id = db.session.scalar(select(Pupil.id).where(Pupil.upn == A))
    db.session.execute(Pupil.__table__.delete().where(Pupil.__table__.c.id == pupil_id))
    db.session.commit()
    assert db.session.scalars(select(Mark).where(Mark.pupil_id == pupil_id)).all() == []


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
