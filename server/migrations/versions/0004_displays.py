"""displays, pairing, screen version

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    versions = op.create_table('screen_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screen_versions'))
    )
    op.bulk_insert(versions, [{"id": 1, "value": 0}])
    op.create_table('displays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('orientation', sa.String(length=10), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('layout', sa.String(length=16), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('power_on', sa.Time(), nullable=True),
    sa.Column('power_off', sa.Time(), nullable=True),
    sa.Column('off_when_no_school', sa.Boolean(), nullable=False),
    sa.Column('timetable_target', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paired_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_etag', sa.String(length=40), nullable=True),
    sa.Column('client_version', sa.String(length=40), nullable=True),
    sa.Column('uptime', sa.Integer(), nullable=True),
    sa.Column('free_disk', sa.Integer(), nullable=True),
    sa.Column('cache_size', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('dark', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_displays_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_displays')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_displays_token_hash'))
    )
    with op.batch_alter_table('displays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_displays_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_displays_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_displays_status'), ['status'], unique=False)

    op.create_table('pairing_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pairing_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_attempts'))
    )
    with op.batch_alter_table('pairing_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pairing_attempts_user_id'), ['user_id'], unique=False)

    op.create_table('pairing_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('claim_hash', sa.String(length=64), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('display_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['display_id'], ['displays.id'], name=op.f('fk_pairing_requests_display_id_displays'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_requests')),
    sa.UniqueConstraint('claim_hash', name=op.f('uq_pairing_requests_claim_hash'))
    )
    with op.batch_alter_table('pairing_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_requests_address_hash'), ['address_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_pairing_requests_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_pairing_requests_created_at'), ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pairing_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_requests_created_at'))
        batch_op.drop_index(batch_op.f('ix_pairing_requests_code'))
        batch_op.drop_index(batch_op.f('ix_pairing_requests_address_hash'))

    op.drop_table('pairing_requests')
    with op.batch_alter_table('pairing_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_attempts_user_id'))
        batch_op.drop_index(batch_op.f('ix_pairing_attempts_at'))

    op.drop_table('pairing_attempts')
    with op.batch_alter_table('displays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_displays_status'))
        batch_op.drop_index(batch_op.f('ix_displays_org_id'))
        batch_op.drop_index(batch_op.f('ix_displays_last_seen_at'))

    op.drop_table('displays')
    op.drop_table('screen_versions')
