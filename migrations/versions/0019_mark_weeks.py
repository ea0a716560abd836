"""marks stored a pupil-week per row in pupil_weeks; marks becomes a view

Revision ID: 0019_mark_weeks
Revises: 0018_closures

Why: a row per mark made a large school's first import ~20x a bare ``COPY`` of the file on
PostgreSQL (each of ~750,000 rows paid its heap tuple, three B-trees, WAL and the pupil foreign
key; docs/benchmarks.md "Register import"). A pupil's week is now one row of ``pupil_weeks``,
holding the week's fourteen sessions (``codes``: two characters each; ``batch_id`` when one
import batch wrote them all, else ``batches``: eight digits a session) beside the counts derived
from them; the importer writes both together (``outreach/registers/store.py``). ``marks`` stays
readable, as a view unfolding each row into its sessions, with ``week_start`` and ``week_codes``
for readers to narrow the weeks by index or content first.

``pupil_weeks`` loses both foreign keys: on PostgreSQL each is a trigger per row written, and
together they were a third of a large school's first import (the pupil key alone 0.23 s of
0.50 s for a year's 75,034 rows, measured by COPY with and without it). The store, the only
writer, takes pupil ids from the school's roster inside the import's transaction. What the pupil
key did that matters, deleting a pupil's weeks with the pupil, is an ``AFTER DELETE`` trigger on
``pupils`` (both engines; SQLite here never enforced the key). A later migration that rebuilds
``pupils`` with SQLite batch mode must create ``pupils_delete_weeks`` again, and one that
rebuilds ``pupil_weeks`` that way must drop the ``marks`` view first and create it again after
(``unfolded`` below gives its query).

Data: every existing mark is moved into its week's row and every row recounted from its codes
(the code table is the application's, ``outreach.attendance.codes``).
"""
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op


revision = "0019_mark_weeks"
down_revision = "0018_closures"
branch_labels = None
depends_on = None

SLOTS = 14
EMPTY_CODES = " " * 28
EMPTY_BATCH = " " * 8


def unfolded(dialect: str) -> str:
    """Each filled slot of each pupil-week as (pupil_id, date, session, code, school_id,
    batch_id, week_start, week_codes): the ``marks`` view's query (and the downgrade's).
    ``week_start`` and ``week_codes`` (the row's codes) let a reader narrow the weeks by index or
    by content (``week_codes LIKE '%N%'``) before they are unfolded."""
    slots = " UNION ALL ".join(
        f"SELECT {slot // 2} AS day, '{('AM', 'PM')[slot % 2]}' AS session, {slot * 2 + 1} AS pos, "
        f"{slot * 8 + 1} AS bpos" for slot in range(SLOTS))
    day = "w.week_start + s.day" if dialect == "postgresql" else "date(w.week_start, '+' || s.day || ' days')"
    return (
        f"SELECT w.pupil_id, {day} AS date, s.session, rtrim(substr(w.codes, s.pos, 2)) AS code, w.school_id, "
        "CASE WHEN w.batches = '' THEN w.batch_id "
        "ELSE CAST(NULLIF(substr(w.batches, s.bpos, 8), '        ') AS integer) END AS batch_id, w.week_start, "
        f"w.codes AS week_codes FROM pupil_weeks w CROSS JOIN ({slots}) s WHERE substr(w.codes, s.pos, 1) <> ' '"
    )


TRIGGER_POSTGRES = (
    "CREATE FUNCTION pupil_weeks_follow_pupils() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN DELETE FROM pupil_weeks WHERE pupil_id = OLD.id; RETURN OLD; END $$",
    "CREATE TRIGGER pupils_delete_weeks AFTER DELETE ON pupils FOR EACH ROW "
    "EXECUTE FUNCTION pupil_weeks_follow_pupils()",
)
TRIGGER_SQLITE = ("CREATE TRIGGER pupils_delete_weeks AFTER DELETE ON pupils "
                  "BEGIN DELETE FROM pupil_weeks WHERE pupil_id = OLD.id; END",)


def _batch_columns(batches: list[int | None]) -> tuple[int | None, str]:
    """(batch_id, batches) for a week's fourteen slots' batches (None: no mark or no batch)."""
    filled = {b for b in batches if b is not None}
    if len(filled) <= 1:
        return (filled.pop() if filled else None), ""
    return None, "".join(EMPTY_BATCH if b is None else f"{b:08d}" for b in batches)


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    with op.batch_alter_table("pupil_weeks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("codes", sa.String(length=28), nullable=False, server_default=EMPTY_CODES))
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("batches", sa.String(length=112), nullable=False, server_default=""))
        batch_op.drop_constraint("fk_pupil_weeks_school_id_schools", type_="foreignkey")
        batch_op.drop_constraint("fk_pupil_weeks_pupil_id_pupils", type_="foreignkey")

    # Move the marks into their weeks, a school at a time (bounded memory), then recount.
    counts = ("present", "aea", "authorised", "unauthorised", "late", "not_counted", "admin", "possible")
    weeks_table = sa.table("pupil_weeks", sa.column("pupil_id"), sa.column("week_start"), sa.column("school_id"),
                           sa.column("codes"), sa.column("batch_id"), sa.column("batches"),
                           *(sa.column(c) for c in counts))
    schools = [sid for (sid,) in bind.execute(sa.text("SELECT DISTINCT school_id FROM marks"))]
    for school_id in schools:
        weeks: dict[tuple[int, date], tuple[list[str], list[int | None]]] = {}
        for pupil_id, day, session, code, batch_id in bind.execute(sa.text(
                "SELECT pupil_id, date, session, code, batch_id FROM marks WHERE school_id = :s"), {"s": school_id}):
            day = date.fromisoformat(day) if isinstance(day, str) else day
            monday = day - timedelta(days=day.weekday())
            codes, batches = weeks.setdefault((pupil_id, monday), ([" "] * 28, [None] * SLOTS))
            slot = day.weekday() * 2 + (1 if session == "PM" else 0)
            codes[slot * 2:slot * 2 + 2] = list(code.ljust(2))
            batches[slot] = batch_id
        bind.execute(sa.text("DELETE FROM pupil_weeks WHERE school_id = :s"), {"s": school_id})
        rows = []
        for (p, w), (c, b) in weeks.items():
            one, each = _batch_columns(b)
            rows.append({"pupil_id": p, "week_start": w, "school_id": school_id, "codes": "".join(c),
                         "batch_id": one, "batches": each, **dict.fromkeys(counts, 0)})  # recounted below
        for i in range(0, len(rows), 5000):
            op.bulk_insert(weeks_table, rows[i:i + 5000])
    op.drop_table("marks")
    op.execute(f"CREATE VIEW marks AS {unfolded(dialect)}")
    for statement in TRIGGER_POSTGRES if dialect == "postgresql" else TRIGGER_SQLITE:
        op.execute(statement)
    if schools:
        from sqlalchemy.orm import Session

        from outreach.registers.store import recount

        session = Session(bind=bind)
        for school_id in schools:
            recount(session, school_id)
        session.flush()


def downgrade():
    bind = op.get_bind()
    op.execute("DROP TRIGGER pupils_delete_weeks" + (" ON pupils" if bind.dialect.name == "postgresql" else ""))
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION pupil_weeks_follow_pupils()")
    op.execute("DROP VIEW marks")
    op.create_table(
        "marks",
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=2), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("session in ('AM','PM')", name=op.f("ck_marks_session")),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"], name=op.f("fk_marks_pupil_id_pupils"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pupil_id", "date", "session", name=op.f("pk_marks")),
    )
    op.create_index("ix_marks_school_date", "marks", ["school_id", "date", "pupil_id", "code"], unique=False)
    op.create_index("ix_marks_school_n", "marks", ["school_id", "date", "pupil_id"], unique=False,
                    postgresql_where=sa.text("code = 'N'"), sqlite_where=sa.text("code = 'N'"))
    op.execute("INSERT INTO marks (pupil_id, date, session, code, school_id, batch_id) "
               f"SELECT pupil_id, date, session, code, school_id, batch_id FROM ({unfolded(op.get_bind().dialect.name)}) u")
    op.execute("DELETE FROM pupil_weeks WHERE pupil_id NOT IN (SELECT id FROM pupils)")
    with op.batch_alter_table("pupil_weeks", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_pupil_weeks_school_id_schools", "schools", ["school_id"], ["id"])
        batch_op.create_foreign_key("fk_pupil_weeks_pupil_id_pupils", "pupils", ["pupil_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.drop_column("batches")
        batch_op.drop_column("batch_id")
        batch_op.drop_column("codes")
