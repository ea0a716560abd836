"""school closures: days a school is closed to pupils (walking buses and parent groups skip them)

Revision ID: 0018_closures
Revises: 0017_marks_batch_index
"""
import sqlalchemy as sa
from alembic import op


revision = "0018_closures"
down_revision = "0017_marks_batch_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_school_closures_days")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_school_closures_school_id_schools"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_closures")),
    )
    with op.batch_alter_table("school_closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_closures_school_id"), ["school_id"], unique=False)


def downgrade():
    with op.batch_alter_table("school_closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_closures_school_id"))
    op.drop_table("school_closures")
