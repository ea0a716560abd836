"""marks: drop ix_marks_batch_id, an index no query reads (register import speed)

Revision ID: 0017_marks_batch_index
Revises: 0016_perf

Why: every mark written pays one insertion per index on ``marks``, and a first import writes a
school's year (~750,000 marks) at once. ``ix_marks_batch_id`` is not read by anything: no query
selects marks by ``batch_id`` (the pupil timeline's import events join a pupil's own marks to
their batches, found through the primary key's ``pupil_id`` prefix; corrections are found in
``mark_changes``, which keeps its own batch index; batches are never deleted). Measured in the
register import benchmark on the shared development VM: inserting 749,988 marks took 1.89 s with
the index and 1.17 s without it on SQLite (docs/benchmarks.md, "Register import"). The column
stays (provenance, set by the importer).
"""
from alembic import op


revision = "0017_marks_batch_index"
down_revision = "0016_perf"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.drop_index("ix_marks_batch_id")


def downgrade():
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.create_index("ix_marks_batch_id", ["batch_id"], unique=False)
