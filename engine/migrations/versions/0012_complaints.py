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


def downgrade() -> None:
    op.drop_index('ix_org_unit_parent_id', table_name='org_unit')
    op.drop_table('org_unit')
