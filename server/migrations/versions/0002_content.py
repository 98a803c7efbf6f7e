"""content items, targets, polls, media assets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_media_assets_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_media_assets_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_assets')),
    sa.UniqueConstraint('org_id', 'sha256', name='org_sha256')
    )
    with op.batch_alter_table('media_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_assets_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_assets_sha256'), ['sha256'], unique=False)

    op.create_table('content_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('weekdays', sa.String(length=7), nullable=False),
    sa.Column('daily_start', sa.Time(), nullable=True),
    sa.Column('daily_end', sa.Time(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('target_mode', sa.String(length=8), nullable=False),
    sa.Column('target_groups', sa.JSON(), nullable=False),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('public_key', sa.String(length=32), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_content_items_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['media_id'], ['media_assets.id'], name=op.f('fk_content_items_media_id_media_assets')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_content_items_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_items')),
    sa.UniqueConstraint('public_key', name=op.f('uq_content_items_public_key'))
    )
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_items_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_items_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_items_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_items_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_items_state'), ['state'], unique=False)

    op.create_table('content_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], name=op.f('fk_content_targets_item_id_content_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_content_targets_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_targets')),
    sa.UniqueConstraint('item_id', 'org_id', name='item_org')
    )
    with op.batch_alter_table('content_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_targets_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_targets_org_id'), ['org_id'], unique=False)

    op.create_table('poll_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], name=op.f('fk_poll_options_item_id_content_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_options'))
    )
    with op.batch_alter_table('poll_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_options_item_id'), ['item_id'], unique=False)

    op.create_table('poll_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=64), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], name=op.f('fk_poll_votes_item_id_content_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['option_id'], ['poll_options.id'], name=op.f('fk_poll_votes_option_id_poll_options'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_votes')),
    sa.UniqueConstraint('item_id', 'voter', name='item_voter')
    )
    with op.batch_alter_table('poll_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_votes_address_hash'), ['address_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_poll_votes_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_review', sa.Boolean(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('requires_review')

    with op.batch_alter_table('poll_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_votes_item_id'))
        batch_op.drop_index(batch_op.f('ix_poll_votes_address_hash'))

    op.drop_table('poll_votes')
    with op.batch_alter_table('poll_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_options_item_id'))

    op.drop_table('poll_options')
    with op.batch_alter_table('content_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_targets_org_id'))
        batch_op.drop_index(batch_op.f('ix_content_targets_item_id'))

    op.drop_table('content_targets')
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_items_state'))
        batch_op.drop_index(batch_op.f('ix_content_items_starts_at'))
        batch_op.drop_index(batch_op.f('ix_content_items_org_id'))
        batch_op.drop_index(batch_op.f('ix_content_items_kind'))
        batch_op.drop_index(batch_op.f('ix_content_items_ends_at'))

    op.drop_table('content_items')
    with op.batch_alter_table('media_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_assets_sha256'))
        batch_op.drop_index(batch_op.f('ix_media_assets_org_id'))

    op.drop_table('media_assets')
