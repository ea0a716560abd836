"""The pupil-week store (registers/store.py) against the database: what writing marks reports and
keeps (codes, batches, counts), and the two readers that look inside the weeks' codes."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from outreach.attendance import rollups
from outreach.attendance.models import PupilWeek
from outreach.extensions import db
from outreach.registers import store
from outreach.registers.models import Mark
from tests.factories import make_pupil

MON = date(2024, 8, 12)  # the week before the 2024 code switch


def _week(pupil_id: int, monday: date) -> PupilWeek:
    db.session.expire_all()  # the store writes with SQL: read the row again
    return db.session.scalars(select(PupilWeek).where(PupilWeek.pupil_id == pupil_id,
                                                      PupilWeek.week_start == monday)).one()


def test_apply_reports_added_changed_unchanged_and_keeps_each_session_s_batch(school):
    a, b = make_pupil(school), make_pupil(school)
    first = store.write(db.session, school.id, [(a.id, MON, "AM", "/"), (a.id, MON, "PM", "\\"),
                                                (b.id, MON + timedelta(days=4), "PM", "L")], batch_id=7)
    assert (first.added, first.changed, first.unchanged, first.pupils_in_file) == (3, 0, 0, 2)
    row = _week(a.id, MON)
    assert (row.codes, row.batch_id, row.batches) == ("/ \\ " + " " * 24, 7, "")  # one batch: one integer
    again = store.write(db.session, school.id, [(a.id, MON, "AM", "O"), (a.id, MON, "PM", "\\"),
                                                (a.id, MON + timedelta(days=1), "AM", "/")], batch_id=8)
    assert (again.added, again.changed, again.unchanged, again.pupils_touched) == (1, 1, 1, 1)
    assert again.changes == [(a.id, MON, "AM", "/", "O")]
    row = _week(a.id, MON)
    assert row.batch_id is None and row.batches == "00000008" + "00000007" + "00000008" + " " * 8 * 11
    assert (row.present, row.unauthorised, row.possible) == (2, 1, 3)
    marks = {(m.date, m.session): (m.code, m.batch_id) for m in db.session.scalars(
        select(Mark).where(Mark.pupil_id == a.id))}
    assert marks == {(MON, "AM"): ("O", 8), (MON, "PM"): ("\\", 7), (MON + timedelta(days=1), "AM"): ("/", 8)}
    nothing = store.write(db.session, school.id, [(a.id, MON, "AM", "O")], batch_id=9)
    assert (nothing.added, nothing.changed, nothing.unchanged, nothing.rows_written) == (0, 0, 1, 0)
    assert _week(a.id, MON).batches.startswith("00000008")  # an unchanged mark keeps its batch


def test_counts_follow_the_code_table_of_each_day_across_the_switch(school):
    pupil = make_pupil(school)
    friday, monday = date(2024, 8, 16), date(2024, 8, 19)  # J was AEA before 19 Aug 2024; J1 after is authorised
    store.write(db.session, school.id, [(pupil.id, friday, "AM", "J"), (pupil.id, monday, "AM", "J1"),
                                        (pupil.id, monday, "PM", "Y1"), (pupil.id, monday + timedelta(days=1), "AM", "U")])
    before, after = _week(pupil.id, MON), _week(pupil.id, monday)
    assert (before.aea, before.possible) == (1, 1)
    assert (after.authorised, after.not_counted, after.unauthorised, after.late, after.possible) == (1, 1, 1, 1, 2)
    kept = [(w.week_start, w.present, w.aea, w.authorised, w.unauthorised, w.late, w.not_counted, w.possible)
            for w in db.session.scalars(select(PupilWeek).order_by(PupilWeek.week_start))]
    rollups.rebuild(db.session, school.id)
    db.session.expire_all()
    assert [(w.week_start, w.present, w.aea, w.authorised, w.unauthorised, w.late, w.not_counted, w.possible)
            for w in db.session.scalars(select(PupilWeek).order_by(PupilWeek.week_start))] == kept


def test_has_marks_and_days_with_possible_look_at_the_days_asked_for(school):
    pupil = make_pupil(school)
    wednesday = MON + timedelta(days=2)
    store.write(db.session, school.id, [(pupil.id, wednesday, "PM", "/"), (pupil.id, MON + timedelta(days=3), "AM", "X"),
                                        (pupil.id, MON + timedelta(days=7), "AM", "#")])
    assert store.has_marks(db.session, school.id, wednesday, wednesday)
    assert not store.has_marks(db.session, school.id, MON, MON + timedelta(days=1))
    assert not store.has_marks(db.session, school.id, MON + timedelta(days=4), MON + timedelta(days=6))
    assert store.has_marks(db.session, school.id, MON + timedelta(days=4), MON + timedelta(days=8))  # next week's #
    assert not store.has_marks(db.session, school.id + 1, wednesday, wednesday)  # another school
    # X (not counted) and # (closure) are marks but not school days; the / is.
    assert store.days_with_possible(db.session, school.id, MON, MON + timedelta(days=13)) == [wednesday]
    assert store.days_with_possible(db.session, school.id, MON + timedelta(days=3), MON + timedelta(days=13)) == []
