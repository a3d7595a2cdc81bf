"""deployed DMN decision tables, versioned like processes

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decision_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('filename', sa.String(length=500), nullable=False),
    sa.Column('dmn_xml', sa.Text(), nullable=False),
    sa.Column('deployed_at', sa.DateTime(), nullable=False),
    sa.Column('deployed_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('content_hash'),
    sa.UniqueConstraint('decision_id', 'version')
    )
    with op.batch_alter_table('decision_version', schema=None) as batch_op:
        batch_op.create_index('ix_decision_version_decision_id', ['decision_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('decision_version', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_version_decision_id')
    op.drop_table('decision_version')
