"""display transitions, touch, remote actions, screenshots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('display_screenshots',
    sa.Column('display_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('jpeg', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['display_id'], ['displays.id'], name=op.f('fk_display_screenshots_display_id_displays'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('display_id', name=op.f('pk_display_screenshots'))
    )
    with op.batch_alter_table('displays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transition', sa.String(length=8), nullable=False,
                                      server_default='fade'))
        batch_op.add_column(sa.Column('touch', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('action', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('action_id', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('action_at', server.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('displays', schema=None) as batch_op:
        batch_op.drop_column('action_at')
        batch_op.drop_column('action_id')
        batch_op.drop_column('action')
        batch_op.drop_column('touch')
        batch_op.drop_column('transition')

    op.drop_table('display_screenshots')
