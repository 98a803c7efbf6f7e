"""pupils' and cards' rows in the last applied files; what an applied run leaves planned

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_row', sa.Integer(), nullable=True))
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_row', sa.Integer(), nullable=True))
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rest', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('rest')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_column('list_row')
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.drop_column('register_row')
