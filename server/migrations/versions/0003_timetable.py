"""timetable: bells, calendar, classes, lessons, changes, events, feeds, undo

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bell_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_bell_schedules_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bell_schedules')),
    sa.UniqueConstraint('org_id', 'key', name='bells_org_key')
    )
    with op.batch_alter_table('bell_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bell_schedules_org_id'), ['org_id'], unique=False)

    op.create_table('calendar_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('first', sa.Date(), nullable=False),
    sa.Column('last', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('bells', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_calendar_entries_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_entries'))
    )
    with op.batch_alter_table('calendar_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_entries_org_id'), ['org_id'], unique=False)

    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['organisations.id'], name=op.f('fk_rooms_building_id_organisations')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_rooms_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('org_id', 'key', name='room_org_key')
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_org_id'), ['org_id'], unique=False)

    op.create_table('school_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_school_events_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_events'))
    )
    with op.batch_alter_table('school_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_events_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_events_starts_at'), ['starts_at'], unique=False)

    op.create_table('school_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_school_groups_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_groups')),
    sa.UniqueConstraint('org_id', 'key', name='group_org_key')
    )
    with op.batch_alter_table('school_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_groups_org_id'), ['org_id'], unique=False)

    op.create_table('subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_subjects_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subjects')),
    sa.UniqueConstraint('org_id', 'name', name='subject_org_name')
    )
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subjects_org_id'), ['org_id'], unique=False)

    op.create_table('teachers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_teachers_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teachers')),
    sa.UniqueConstraint('org_id', 'name', name='teacher_org_name')
    )
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teachers_org_id'), ['org_id'], unique=False)

    op.create_table('timetable_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('school_weekdays', sa.String(length=7), nullable=False),
    sa.Column('week_a', sa.Date(), nullable=True),
    sa.Column('default_bells', sa.String(length=32), nullable=False),
    sa.Column('bells_by_weekday', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_timetable_settings_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timetable_settings')),
    sa.UniqueConstraint('org_id', name=op.f('uq_timetable_settings_org_id'))
    )
    op.create_table('bell_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['bell_schedules.id'], name=op.f('fk_bell_periods_schedule_id_bell_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bell_periods')),
    sa.UniqueConstraint('schedule_id', 'number', name='period_number')
    )
    with op.batch_alter_table('bell_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bell_periods_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target_key', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_calendar_feeds_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_calendar_feeds_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash'))
    )
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feeds_org_id'), ['org_id'], unique=False)

    op.create_table('lessons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=1), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['school_groups.id'], name=op.f('fk_lessons_group_id_school_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_lessons_org_id_organisations')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_lessons_room_id_rooms')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_lessons_subject_id_subjects')),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_lessons_teacher_id_teachers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lessons'))
    )
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lessons_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lessons_org_id'), ['org_id'], unique=False)

    op.create_table('timetable_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('undo', sa.JSON(), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('undone_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_timetable_actions_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_timetable_actions_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timetable_actions'))
    )
    with op.batch_alter_table('timetable_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timetable_actions_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timetable_actions_user_id'), ['user_id'], unique=False)

    op.create_table('timetable_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('new_date', sa.Date(), nullable=True),
    sa.Column('new_period', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_timetable_changes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['school_groups.id'], name=op.f('fk_timetable_changes_group_id_school_groups')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_timetable_changes_lesson_id_lessons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_timetable_changes_org_id_organisations')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_timetable_changes_room_id_rooms')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_timetable_changes_subject_id_subjects')),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_timetable_changes_teacher_id_teachers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timetable_changes'))
    )
    with op.batch_alter_table('timetable_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timetable_changes_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_timetable_changes_lesson_id'), ['lesson_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timetable_changes_new_date'), ['new_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_timetable_changes_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('timetable_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timetable_changes_org_id'))
        batch_op.drop_index(batch_op.f('ix_timetable_changes_new_date'))
        batch_op.drop_index(batch_op.f('ix_timetable_changes_lesson_id'))
        batch_op.drop_index(batch_op.f('ix_timetable_changes_date'))

    op.drop_table('timetable_changes')
    with op.batch_alter_table('timetable_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timetable_actions_user_id'))
        batch_op.drop_index(batch_op.f('ix_timetable_actions_org_id'))

    op.drop_table('timetable_actions')
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lessons_org_id'))
        batch_op.drop_index(batch_op.f('ix_lessons_group_id'))

    op.drop_table('lessons')
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feeds_org_id'))

    op.drop_table('calendar_feeds')
    with op.batch_alter_table('bell_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bell_periods_schedule_id'))

    op.drop_table('bell_periods')
    op.drop_table('timetable_settings')
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teachers_org_id'))

    op.drop_table('teachers')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subjects_org_id'))

    op.drop_table('subjects')
    with op.batch_alter_table('school_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_groups_org_id'))

    op.drop_table('school_groups')
    with op.batch_alter_table('school_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_events_starts_at'))
        batch_op.drop_index(batch_op.f('ix_school_events_org_id'))

    op.drop_table('school_events')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_org_id'))

    op.drop_table('rooms')
    with op.batch_alter_table('calendar_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_entries_org_id'))

    op.drop_table('calendar_entries')
    with op.batch_alter_table('bell_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bell_schedules_org_id'))

    op.drop_table('bell_schedules')
