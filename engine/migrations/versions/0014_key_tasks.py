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


def downgrade() -> None:
    op.drop_table('scheduled_start')
