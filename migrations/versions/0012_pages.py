"""dashboard: figure versions per school (bumped with every rollup write), partial index on N marks

Revision ID: 0012_pages
Revises: 0007_outbox
Create Date: 2026-12-01 20:52:09.595228

"""
from alembic import op
import sqlalchemy as sa


revision = "0012_pages"
down_revision = "0010_clock_digests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "figure_versions",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_figure_versions_school_id_schools"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_figure_versions")),
    )
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.create_index("ix_marks_school_n", ["school_id", "date", "pupil_id"], unique=False,
                              postgresql_where=sa.text("code = 'N'"), sqlite_where=sa.text("code = 'N'"))


def downgrade():
    with op.batch_alter_table("marks", schema=None) as batch_op:
        batch_op.drop_index("ix_marks_school_n", postgresql_where=sa.text("code = 'N'"), sqlite_where=sa.text("code = 'N'"))
    op.drop_table("figure_versions")
