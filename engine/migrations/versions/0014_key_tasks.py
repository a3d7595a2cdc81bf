"""key tasks (五式履责) and timer start events (issue 9)

The schedule of each timer start event (engine/schedules.py), the four responsibility lists, the units' key
tasks with their progress updates and quarterly lights, and the yearly responsibility reports.

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduled_start',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('start_event_id', sa.String(length=200), nullable=False),
    sa.Column('timer_text', sa.String(length=200), nullable=False),
    sa.Column('anchored_at', sa.DateTime(), nullable=False),
    sa.Column('next_fire_at', sa.DateTime(), nullable=True),
    sa.Column('last_fired_at', sa.DateTime(), nullable=True),
    sa.Column('fired_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_case_id', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), server_default='', nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('process_key', 'start_event_id', name='uq_scheduled_start_event')
    )
    with op.batch_alter_table('scheduled_start', schema=None) as batch_op:
        batch_op.create_index('ix_scheduled_start_next_fire_at', ['next_fire_at'], unique=False)

    op.create_table('responsibility_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=30), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit', 'year', 'subject', 'position', name='uq_responsibility_item')
    )
    op.create_table('key_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('leader', sa.String(length=100), nullable=False),
    sa.Column('lead_office', sa.String(length=200), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('milestones', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closing_comment', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('key_task', schema=None) as batch_op:
        batch_op.create_index('ix_key_task_year_unit', ['year', 'unit'], unique=False)
    op.create_table('key_task_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('attachment_ids', sa.JSON(), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['key_task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('key_task_progress', schema=None) as batch_op:
        batch_op.create_index('ix_key_task_progress_task_id', ['task_id'], unique=False)
    op.create_table('key_task_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('light', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('rated_by', sa.String(length=200), nullable=False),
    sa.Column('rated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['key_task.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'year', 'quarter', name='uq_key_task_rating_quarter')
    )
    with op.batch_alter_table('key_task_rating', schema=None) as batch_op:
        batch_op.create_index('ix_key_task_rating_task_id', ['task_id'], unique=False)
    op.create_table('responsibility_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('written_due', sa.Date(), nullable=False),
    sa.Column('hearing_due', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=True),
    sa.Column('written_late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('face_to_face', sa.Boolean(), nullable=True),
    sa.Column('hearing_on', sa.Date(), nullable=True),
    sa.Column('hearing_record', sa.JSON(), nullable=False),
    sa.Column('hearing_comment', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id'),
    sa.UniqueConstraint('unit', 'year', name='uq_responsibility_report_unit_year')
    )


def downgrade() -> None:
    for table in ('responsibility_report', 'key_task_rating', 'key_task_progress', 'key_task', 'responsibility_item',
                  'scheduled_start'):
        op.drop_table(table)
