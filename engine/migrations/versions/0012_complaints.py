"""org units; complaints and accountability (issue 9)

Revision ID: 0012
Revises: 0011
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- org units (the lead's block: keep it first) ---
    op.create_table(
        'org_unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=30), server_default='unit', nullable=False),
        sa.Column('principal', sa.String(length=100), server_default='', nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_org_unit_parent_id', 'org_unit', ['parent_id'])
    # --- end of org units ---

    # --- complaints and accountability (helper P) ---
    op.create_table(
        'complaint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('unit', sa.String(length=200), nullable=False),
        sa.Column('subject_name', sa.String(length=100), server_default='', nullable=False),
        sa.Column('subject_post', sa.String(length=200), server_default='', nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('clues', sa.Text(), server_default='', nullable=False),
        sa.Column('anonymous', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('origin_case_id', sa.Integer(), nullable=True),
        sa.Column('must_investigate', sa.Boolean(), nullable=True),
        sa.Column('must_reasons', sa.Text(), server_default='[]', nullable=False),
        sa.Column('handling_decision', sa.String(length=20), server_default='', nullable=False),
        sa.Column('routing', sa.String(length=20), server_default='', nullable=False),
        sa.Column('handling_body', sa.String(length=200), server_default='', nullable=False),
        sa.Column('transfer_letter_date', sa.Date(), nullable=True),
        sa.Column('investigation_due', sa.Date(), nullable=True),
        sa.Column('investigated_on', sa.Date(), nullable=True),
        sa.Column('finding', sa.String(length=20), server_default='', nullable=False),
        sa.Column('finding_text', sa.Text(), server_default='', nullable=False),
        sa.Column('assignment_case_id', sa.Integer(), nullable=True),
        sa.Column('reply_due', sa.Date(), nullable=True),
        sa.Column('reply_status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('replied_on', sa.Date(), nullable=True),
        sa.Column('reply_method', sa.String(length=20), server_default='', nullable=False),
        sa.Column('reply_note', sa.Text(), server_default='', nullable=False),
        sa.Column('inquiry_case_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
        sa.Column('created_by', sa.String(length=100), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['origin_case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['assignment_case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['inquiry_case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    op.create_index('ix_complaint_unit', 'complaint', ['unit'])
    op.create_index('ix_complaint_campaign_id', 'complaint', ['campaign_id'])
    op.create_index('ix_complaint_origin_case_id', 'complaint', ['origin_case_id'])
    op.create_table(
        'complaint_informant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), server_default='', nullable=False),
        sa.Column('contact', sa.String(length=200), server_default='', nullable=False),
        sa.Column('recorded_by', sa.String(length=100), server_default='', nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('complaint_id'),
    )
    op.create_table(
        'accountability_decision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('person_name', sa.String(length=100), server_default='', nullable=False),
        sa.Column('role', sa.String(length=20), server_default='subject', nullable=False),
        sa.Column('ground', sa.String(length=40), server_default='', nullable=False),
        sa.Column('severity', sa.String(length=20), server_default='', nullable=False),
        sa.Column('repeat_offence', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('serious_consequences', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('proposed_outcome', sa.String(length=30), server_default='', nullable=False),
        sa.Column('outcome', sa.String(length=30), nullable=False),
        sa.Column('change_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('sanction_id', sa.Integer(), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['sanction_id'], ['sanction.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_accountability_decision_case_id', 'accountability_decision', ['case_id'])
    op.create_index('ix_accountability_decision_complaint_id', 'accountability_decision', ['complaint_id'])
    op.create_index('ix_accountability_decision_person_id', 'accountability_decision', ['person_id'])
    # --- end of complaints and accountability ---


def downgrade() -> None:
    for index, table in (('ix_accountability_decision_person_id', 'accountability_decision'),
                         ('ix_accountability_decision_complaint_id', 'accountability_decision'),
                         ('ix_accountability_decision_case_id', 'accountability_decision')):
        op.drop_index(index, table_name=table)
    op.drop_table('accountability_decision')
    op.drop_table('complaint_informant')
    for index in ('ix_complaint_origin_case_id', 'ix_complaint_campaign_id', 'ix_complaint_unit'):
        op.drop_index(index, table_name='complaint')
    op.drop_table('complaint')
    op.drop_index('ix_org_unit_parent_id', table_name='org_unit')
    op.drop_table('org_unit')
