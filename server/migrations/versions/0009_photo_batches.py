"""photo batches

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('photo_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('applied_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_photo_batches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_photo_batches_school_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_batches'))
    )
    with op.batch_alter_table('photo_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_batches_school_id'), ['school_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('photo_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_batches_school_id'))
        batch_op.drop_index(batch_op.f('ix_photo_batches_created_at'))

    op.drop_table('photo_batches')
