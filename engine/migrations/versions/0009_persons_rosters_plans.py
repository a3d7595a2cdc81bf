"""cadre persons, roster imports, annual audit plans (issue 8)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('post', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('unit_level', sa.String(length=20), nullable=False),
    sa.Column('unit_class', sa.String(length=1), nullable=False),
    sa.Column('in_post_since', sa.Date(), nullable=True),
    sa.Column('leaving_date', sa.Date(), nullable=True),
    sa.Column('leaving_reason', sa.String(length=20), nullable=False),
    sa.Column('last_audit_date', sa.Date(), nullable=True),
    sa.Column('username', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id_number')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_name', ['name'], unique=False)
    op.create_table('cadre_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'person_id', 'relation')
    )
    with op.batch_alter_table('cadre_case', schema=None) as batch_op:
        batch_op.create_index('ix_cadre_case_person', ['person_id'], unique=False)
    # Annual planning (handlers/planning/records.py): the roster files taken in and each year's plan entries.
    op.create_table('roster_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('skipped_rows', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('plan_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('roster_import_id', sa.Integer(), nullable=True),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('years_in_post', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('unit_principal', sa.String(length=50), nullable=False),
    sa.Column('unit_deputy', sa.String(length=50), nullable=False),
    sa.Column('removal_reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('process_key', sa.String(length=100), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('start_problem', sa.Text(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['roster_import_id'], ['roster_import.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'person_id')
    )
    with op.batch_alter_table('plan_entry', schema=None) as batch_op:
        batch_op.create_index('ix_plan_entry_year_status', ['year', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_entry_year_status')
    op.drop_table('plan_entry')
    op.drop_table('roster_import')
    op.drop_table('cadre_case')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name')
    op.drop_table('person')
