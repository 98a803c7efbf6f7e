"""pupil match keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('match_key', sa.String(length=250), nullable=True))
        batch_op.create_index('pupil_school_match_key', ['school_id', 'match_key'],
                              unique=False)
        batch_op.create_index('pupil_school_updated', ['school_id', 'updated_at'],
                              unique=False)
        batch_op.create_index('pupil_school_status', ['school_id', 'status'], unique=False)
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index('card_school_pupil', ['school_id', 'pupil_register_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index('card_school_pupil')
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.drop_index('pupil_school_status')
        batch_op.drop_index('pupil_school_updated')
        batch_op.drop_index('pupil_school_match_key')
        batch_op.drop_column('match_key')
        batch_op.drop_column('listed')
