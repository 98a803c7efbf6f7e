"""sync push settings

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('push_url', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('push_auth', sa.String(length=500), server_default='', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('sync_settings', schema=None) as batch_op:
        batch_op.drop_column('push_auth')
        batch_op.drop_column('push_url')

