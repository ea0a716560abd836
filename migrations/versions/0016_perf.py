"""marks: drop the school_id and batch_id foreign keys (register import speed on PostgreSQL)

Revision ID: 0016_perf
Revises: 0011_walking_bus

Why: on PostgreSQL every foreign key on ``marks`` is a row-level trigger that runs a
``SELECT ... FOR KEY SHARE`` against the parent table for every inserted row. A school's year is
~750,000 marks, and the first import spent most of its time in those triggers (measured: the
insert of 749,988 staged rows into ``marks`` took 98 s with the three foreign keys and 34 s with
none, same load). Two of the three guard nothing the database needs to guard:

- ``marks.school_id`` duplicates ``pupils.school_id`` (it is kept on ``marks`` for index
  locality: ``ix_marks_school_date``). The only writer of marks is the register importer, which
  sets it from the school it imports into, under that school's import lock; the pupil foreign key
  (kept, ON DELETE CASCADE) already ties every mark to a real pupil of a real school.
- ``marks.batch_id`` is provenance (which import last wrote the mark). The importer sets it to
  the batch row it has just inserted in the same transaction; batches are never deleted.

``marks.pupil_id`` keeps its foreign key (ON DELETE CASCADE): deleting a pupil must take the
marks with it, and that is the one integrity rule the database must enforce. The indexes are
unchanged. SQLite does not enforce foreign keys here (no ``PRAGMA foreign_keys``), so there the
change is schema-only (batch mode rebuilds the table once).
"""
from alembic import op


revision = "0016_perf"
down_revision = "0015_importsweb"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.drop_constraint("fk_marks_school_id_schools", type_="foreignkey")
        batch_op.drop_constraint("fk_marks_batch_id_import_batches", type_="foreignkey")


def downgrade():
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_marks_batch_id_import_batches", "import_batches", ["batch_id"], ["id"])
        batch_op.create_foreign_key("fk_marks_school_id_schools", "schools", ["school_id"], ["id"])
