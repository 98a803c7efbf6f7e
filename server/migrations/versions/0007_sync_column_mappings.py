"""sync column mappings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_settings',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('register_mapping', sa.JSON(), nullable=False),
    sa.Column('cards_mapping', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_sync_settings_school_id_organisations')),
    sa.PrimaryKeyConstraint('school_id', name=op.f('pk_sync_settings'))
    )


def downgrade() -> None:
    op.drop_table('sync_settings')
