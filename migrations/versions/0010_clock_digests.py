"""clock leases (the single active clock on SQLite) and the weekly digest archive

Revision ID: 0010_clock_digests
Revises: 0007_outbox
Create Date: 2026-12-01 20:39:30.771506

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_clock_digests"
down_revision = "0007_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clock_leases',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_clock_leases'))
    )
    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=True),
    sa.Column('sections', sa.JSON(), nullable=True),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('skip_reason', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status in ('pending','sending','sent','failed','skipped')", name=op.f('ck_digests_status')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_digests_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('school_id', 'week', name='uq_digests_school_week')
    )
    op.create_index("ix_digests_status_week", "digests", ["status", "week_start"])


def downgrade():
    op.drop_index("ix_digests_status_week", table_name="digests")
    op.drop_table('digests')
    op.drop_table('clock_leases')
