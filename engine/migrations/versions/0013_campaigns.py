"""campaigns (issue 9): 治庸问责 campaigns, their phases, participating units, deliverables and inspections

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaign',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('issuing_office', sa.String(length=200), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('deadlines', sa.JSON(), nullable=False),
        sa.Column('summary', sa.Text(), server_default='', nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('launched_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['parent_id'], ['campaign.id']),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_campaign_issuing_office', 'campaign', ['issuing_office'])
    op.create_index('ix_campaign_parent_id', 'campaign', ['parent_id'])
    op.create_index('ix_campaign_case_id', 'campaign', ['case_id'])
    op.create_table(
        'campaign_phase',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('position', sa.Integer(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'code'),
    )
    op.create_index('ix_campaign_phase_campaign_id', 'campaign_phase', ['campaign_id'])
    op.create_table(
        'campaign_unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=200), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='running', nullable=False),
        sa.Column('child_campaign_id', sa.Integer(), nullable=True),
        sa.Column('commended', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['child_campaign_id'], ['campaign.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'unit'),
    )
    op.create_index('ix_campaign_unit_campaign_id', 'campaign_unit', ['campaign_id'])
    op.create_index('ix_campaign_unit_case_id', 'campaign_unit', ['case_id'])
    op.create_table(
        'campaign_deliverable',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('phase', sa.String(length=30), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('first_submitted_at', sa.DateTime(), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('accepted_at', sa.DateTime(), nullable=True),
        sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('send_back_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('review_comment', sa.Text(), server_default='', nullable=False),
        sa.Column('reviewed_by', sa.String(length=100), server_default='', nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'unit', 'kind'),
    )
    op.create_index('ix_campaign_deliverable_campaign', 'campaign_deliverable', ['campaign_id'])
    op.create_table(
        'campaign_inspection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=200), nullable=False),
        sa.Column('inspected_on', sa.Date(), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('place', sa.String(length=200), server_default='', nullable=False),
        sa.Column('findings', sa.Text(), nullable=False),
        sa.Column('expose', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('recorded_by', sa.String(length=100), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('complaint_case_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['complaint_case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_campaign_inspection_campaign_id', 'campaign_inspection', ['campaign_id'])


def downgrade() -> None:
    for table in ('campaign_inspection', 'campaign_deliverable', 'campaign_unit', 'campaign_phase'):
        op.drop_table(table)
    op.drop_index('ix_campaign_case_id', table_name='campaign')
    op.drop_index('ix_campaign_parent_id', table_name='campaign')
    op.drop_index('ix_campaign_issuing_office', table_name='campaign')
    op.drop_table('campaign')
