"""rectification followed through (issue 8): items, rounds, listing, handover

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


ITEM_COLUMNS = [
    ('requirement', lambda: sa.Column('requirement', sa.Text(), server_default='', nullable=False)),
    ('standard', lambda: sa.Column('standard', sa.Text(), server_default='', nullable=False)),
    ('measures', lambda: sa.Column('measures', sa.Text(), server_default='', nullable=False)),
    ('progress', lambda: sa.Column('progress', sa.Text(), server_default='', nullable=False)),
    ('owner_name', lambda: sa.Column('owner_name', sa.String(length=200), server_default='', nullable=False)),
    ('problem_category', lambda: sa.Column('problem_category', sa.String(length=40), server_default='', nullable=False)),
    ('responsibility_type', lambda: sa.Column('responsibility_type', sa.String(length=20), server_default='', nullable=False)),
    ('amount', lambda: sa.Column('amount', sa.Float(), nullable=True)),
    ('demerit_points', lambda: sa.Column('demerit_points', sa.Float(), nullable=True)),
    ('listed_deadline', lambda: sa.Column('listed_deadline', sa.Date(), nullable=True)),
    ('listed_letter_no', lambda: sa.Column('listed_letter_no', sa.String(length=100), server_default='', nullable=False)),
    ('lifted_at', lambda: sa.Column('lifted_at', sa.DateTime(), nullable=True)),
    ('repeated', lambda: sa.Column('repeated', sa.Boolean(), server_default=sa.false(), nullable=False)),
    ('repeat_of_case_id', lambda: sa.Column('repeat_of_case_id', sa.Integer(), nullable=True)),
    ('contact_username', lambda: sa.Column('contact_username', sa.String(length=100), nullable=True)),
    ('closed_by_role', lambda: sa.Column('closed_by_role', sa.String(length=20), nullable=True)),
    ('evidence', lambda: sa.Column('evidence', sa.Integer(), nullable=True)),
]


def upgrade() -> None:
    with op.batch_alter_table('rectification_item', schema=None) as batch_op:
        for _, column in ITEM_COLUMNS:
            batch_op.add_column(column())
        batch_op.create_index('ix_rectification_item_contact_username', ['contact_username'], unique=False)
        batch_op.create_index('ix_rectification_unit_category', ['unit', 'problem_category'], unique=False)

    with op.batch_alter_table('follow_up_visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visited_by_role', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.String(length=200), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('follow_up_visit', schema=None) as batch_op:
        batch_op.drop_column('evidence')
        batch_op.drop_column('visited_by_role')

    with op.batch_alter_table('rectification_item', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_unit_category')
        batch_op.drop_index('ix_rectification_item_contact_username')
        for name, _ in reversed(ITEM_COLUMNS):
            batch_op.drop_column(name)
