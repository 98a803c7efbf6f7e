"""pupils, cards, sync runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('pupil_register_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('patronymic', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('class_name', sa.String(length=16), nullable=False),
    sa.Column('photo', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_cards_school_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('school_id', 'number', name='card_school_number')
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_pupil_register_id'), ['pupil_register_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cards_school_id'), ['school_id'], unique=False)

    op.create_table('pupils',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('register_id', sa.String(length=64), nullable=False),
    sa.Column('surname', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('patronymic', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('class_name', sa.String(length=16), nullable=False),
    sa.Column('school_name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('consent_given', sa.Boolean(), nullable=True),
    sa.Column('consent_on', sa.Date(), nullable=True),
    sa.Column('consent_source', sa.String(length=100), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_pupils_school_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pupils')),
    sa.UniqueConstraint('school_id', 'register_id', name='pupil_school_rid')
    )
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pupils_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pupils_status'), ['status'], unique=False)

    op.create_table('match_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('card_number', sa.String(length=64), nullable=False),
    sa.Column('register_id', sa.String(length=64), nullable=False),
    sa.Column('other_register_id', sa.String(length=64), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_match_decisions_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_match_decisions_school_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_decisions'))
    )
    with op.batch_alter_table('match_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_decisions_school_id'), ['school_id'], unique=False)

    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('confirm_missing', sa.Boolean(), nullable=False),
    sa.Column('applied_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sync_runs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_sync_runs_school_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_runs_school_id'), ['school_id'], unique=False)

    op.create_table('sync_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('pupil_register_id', sa.String(length=64), nullable=True),
    sa.Column('card_number', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('done_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_actions_run_id_sync_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_sync_actions_school_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_actions'))
    )
    with op.batch_alter_table('sync_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_actions_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_actions_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_actions_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_actions_state'), ['state'], unique=False)

    op.create_table('sync_exports',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('changes_csv', sa.LargeBinary(), nullable=False),
    sa.Column('photos_zip', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_exports_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_sync_exports'))
    )
    op.create_table('sync_inputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_inputs_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_inputs'))
    )
    with op.batch_alter_table('sync_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_inputs_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sync_inputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_inputs_run_id'))

    op.drop_table('sync_inputs')
    op.drop_table('sync_exports')
    with op.batch_alter_table('sync_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_actions_state'))
        batch_op.drop_index(batch_op.f('ix_sync_actions_school_id'))
        batch_op.drop_index(batch_op.f('ix_sync_actions_run_id'))
        batch_op.drop_index(batch_op.f('ix_sync_actions_key'))

    op.drop_table('sync_actions')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_school_id'))
        batch_op.drop_index(batch_op.f('ix_sync_runs_created_at'))

    op.drop_table('sync_runs')
    with op.batch_alter_table('match_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_decisions_school_id'))

    op.drop_table('match_decisions')
    with op.batch_alter_table('pupils', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pupils_status'))
        batch_op.drop_index(batch_op.f('ix_pupils_school_id'))

    op.drop_table('pupils')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_school_id'))
        batch_op.drop_index(batch_op.f('ix_cards_pupil_register_id'))

    op.drop_table('cards')
