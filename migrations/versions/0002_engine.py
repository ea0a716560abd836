"""attendance read side: indexes for range queries

- marks: (school_id, date, pupil_id, code) in place of (school_id). Rollup refreshes and the
  partial edge weeks of a date range read one school's marks for a few days; with an index on
  school_id alone each of those read every mark the school ever had, and with pupil_id and code
  in the key they never touch the table. The composite index serves school_id-only lookups too,
  so the old index goes.
- pupil_weeks: the (school_id, week_start) index also carries pupil_id and every count, so the
  school and group figures (sums over a range of weeks) are read from the index alone.

Revision ID: 0002_engine
Revises: 0001
Create Date: 2026-11-23 18:44:54.634806

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0002_engine"
down_revision = "0001"
branch_labels = None
depends_on = None

COVERED = ["school_id", "week_start", "pupil_id", "present", "aea", "authorised", "unauthorised", "late",
           "not_counted", "admin", "possible"]


def upgrade():
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.create_index("ix_marks_school_date", ["school_id", "date", "pupil_id", "code"], unique=False)
        batch_op.drop_index(batch_op.f("ix_marks_school_id"))
    with op.batch_alter_table("pupil_weeks", schema=None) as batch_op:
        batch_op.drop_index("ix_pupil_weeks_school_week")
        batch_op.create_index("ix_pupil_weeks_school_week", COVERED, unique=False)


def downgrade():
    with op.batch_alter_table("pupil_weeks", schema=None) as batch_op:
        batch_op.drop_index("ix_pupil_weeks_school_week")
        batch_op.create_index("ix_pupil_weeks_school_week", ["school_id", "week_start"], unique=False)
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_marks_school_id"), ["school_id"], unique=False)
        batch_op.drop_index("ix_marks_school_date")
