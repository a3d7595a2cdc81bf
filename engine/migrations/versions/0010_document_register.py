"""document numbering register and generated documents (issue 8)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'official_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('agency_code', sa.String(length=20), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('serial', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('attachment_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('issued_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agency_code', 'year', 'serial', name='uq_official_document_number'),
    )
    with op.batch_alter_table('official_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_document_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('official_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_document_case_id'))
    op.drop_table('official_document')
