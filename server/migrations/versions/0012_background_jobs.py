"""background jobs

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_states',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=120), server_default='', nullable=False),
    sa.Column('lease_until', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_due_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_started_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=10), server_default='', nullable=False),
    sa.Column('last_message', sa.Text(), server_default='', nullable=False),
    sa.Column('last_node', sa.String(length=120), server_default='', nullable=False),
    sa.Column('runs', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_states'))
    )


def downgrade() -> None:
    op.drop_table('job_states')
