"""Migration 0019 moves a row-per-mark ``marks`` table into pupil-week rows: every mark (code and
batch) must read back the same through the ``marks`` view, with rollups recounted, and the
downgrade must give the table back. Run on a database of its own (a SQLite file), built by the
real migrations to 0018 and filled as the old importer left it."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from outreach import create_app
from outreach.attendance.codes import lookup
from outreach.extensions import db
from outreach.registers import store
from outreach.registers.models import ImportBatch
from tests.factories import make_pupil, make_school

MONDAY = date(2024, 8, 12)  # the week before the 2024 code switch, and the two after


def _marks() -> list[tuple[int, str, str, str, int | None]]:
    rows = []
    codes = ["/", "\\", "L", "N", "I", "J", "Y", "O", "#", "X"]
    for pupil in (1, 2):
        for i in range(19):
            day = MONDAY + timedelta(days=i)
            if day.weekday() >= 5:
                continue
            for session in ("AM", "PM"):
                code = codes[(i + pupil + (session == "PM")) % len(codes)]
                if day >= date(2024, 8, 19) and code in ("J", "Y"):
                    code = code + "1"
                batch = 1 if day < date(2024, 8, 26) else 2
                if (pupil, i, session) == (2, 1, "PM"):
                    batch = 2  # a correction inside a first-import week: mixed batches in one week
                rows.append((pupil, day.isoformat(), session, code, batch))
    return rows


def test_0019_moves_every_mark_into_weeks_and_back(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"})
    marks = _marks()
    with app.app_context():
        upgrade(revision="0018_closures")
        school = make_school()  # schools, pupils and batches are the same at 0018 and at head
        pupils = [make_pupil(school).id for _ in range(2)]
        batches = [ImportBatch(school_id=school.id, file_name=f"f{n}.csv", format="long", status="completed")
                   for n in (1, 2)]
        db.session.add_all(batches)
        db.session.commit()
        marks = [(pupils[p - 1], d, s, c, batches[b - 1].id) for p, d, s, c, b in marks]
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO marks (pupil_id, date, session, school_id, code, batch_id) "
                              "VALUES (:p, :d, :s, 1, :c, :b)"),
                         [{"p": p, "d": d, "s": s, "c": c, "b": b} for p, d, s, c, b in marks])
        upgrade()
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT pupil_id, date, session, code, batch_id FROM marks "
                                       "ORDER BY pupil_id, date, session")).all()
            weeks = conn.execute(text("SELECT pupil_id, week_start, present, aea, authorised, unauthorised, late, "
                                      "not_counted, admin, possible, batch_id, batches FROM pupil_weeks "
                                      "ORDER BY 1, 2")).all()
        assert [tuple(r) for r in stored] == sorted(marks)
        assert len(weeks) == 6
        mixed = [w for w in weeks if w.batches]
        assert [(w.pupil_id, w.week_start) for w in mixed] == [(pupils[1], MONDAY.isoformat())]
        assert all(w.batch_id is not None for w in weeks if not w.batches)
        store.recount(db.session, school.id)  # the counts the migration wrote are a recount's
        db.session.flush()
        again = db.session.execute(text("SELECT pupil_id, week_start, present, aea, authorised, unauthorised, late, "
                                        "not_counted, admin, possible, batch_id, batches FROM pupil_weeks "
                                        "ORDER BY 1, 2")).all()
        assert again == weeks
        assert sum(w.possible for w in weeks) == sum(
            1 for _p, d, _s, c, _b in marks if lookup(c, date.fromisoformat(d)).category.in_possible)
        db.session.rollback()
        downgrade(revision="0018_closures")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT pupil_id, date, session, code, batch_id FROM marks "
                                     "ORDER BY pupil_id, date, session")).all()
        assert [tuple(r) for r in back] == sorted(marks)
        db.engine.dispose()
