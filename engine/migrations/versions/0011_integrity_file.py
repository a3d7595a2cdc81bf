"""integrity file: demerit points, sanctions and their ban periods (issue 8)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


RECORD_COLUMNS = [
    lambda: sa.Column('person_id', sa.Integer(), nullable=True),
    lambda: sa.Column('personnel_score', sa.Float(), nullable=True),
    lambda: sa.Column('establishment_score', sa.Float(), nullable=True),
    lambda: sa.Column('finance_score', sa.Float(), nullable=True),
    lambda: sa.Column('overall_score', sa.Float(), nullable=True),
    lambda: sa.Column('grade', sa.String(length=10), server_default='', nullable=False),
    lambda: sa.Column('findings_summary', sa.Text(), server_default='', nullable=False),
    lambda: sa.Column('items_closed', sa.Integer(), server_default='0', nullable=False),
    lambda: sa.Column('items_open', sa.Integer(), server_default='0', nullable=False),
    lambda: sa.Column('repeated_count', sa.Integer(), server_default='0', nullable=False),
    lambda: sa.Column('listed_count', sa.Integer(), server_default='0', nullable=False),
]


def upgrade() -> None:
    with op.batch_alter_table('integrity_record', schema=None) as batch_op:
        for column in RECORD_COLUMNS:
            batch_op.add_column(column())
        batch_op.create_index('ix_integrity_record_person_id', ['person_id'], unique=False)
        batch_op.create_foreign_key('fk_integrity_record_person', 'person', ['person_id'], ['id'])
    op.create_table('demerit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('item_no', sa.Integer(), nullable=True),
    sa.Column('responsibility_type', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('demerit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_demerit_entry_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_demerit_entry_case_id', ['case_id'], unique=False)
    op.create_table('sanction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('cadre_name', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('ground', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('ban_kind', sa.String(length=20), nullable=False),
    sa.Column('ban_until', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sanction', schema=None) as batch_op:
        batch_op.create_index('ix_sanction_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_sanction_case_id', ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sanction', schema=None) as batch_op:
        batch_op.drop_index('ix_sanction_case_id')
        batch_op.drop_index('ix_sanction_person_id')
    op.drop_table('sanction')
    with op.batch_alter_table('demerit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_demerit_entry_case_id')
        batch_op.drop_index('ix_demerit_entry_person_id')
    op.drop_table('demerit_entry')
    with op.batch_alter_table('integrity_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_integrity_record_person', type_='foreignkey')
        batch_op.drop_index('ix_integrity_record_person_id')
        for column in reversed(RECORD_COLUMNS):
            batch_op.drop_column(column().name)
