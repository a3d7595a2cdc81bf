"""supervision dashboard indexes: listed supervision, and the figures of a supervisor limited to some units

Revision ID: 0004
Revises: 0003

Matching lines for engine/models.py:
    Case.__table_args__:
        Index("ix_case_listed", "listed", "status", "next_due_at"),
        Index("ix_case_unit_status_due", "unit", "status", "next_due_at"),
    WorkItem.__table_args__:
        Index("ix_work_item_status_unit_created", "status", "unit", "created_at"),
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 挂牌督办: listed open cases, counted and listed most overdue first without reading case rows.
    op.create_index('ix_case_listed', 'case', ['listed', 'status', 'next_due_at'], unique=False)
    # A supervisor limited to some units: lights, error and suspended counts of those units, index only.
    op.create_index('ix_case_unit_status_due', 'case', ['unit', 'status', 'next_due_at'], unique=False)
    # ... and their ready work: aging, waiting too long at one step, open work per step.
    op.create_index('ix_work_item_status_unit_created', 'work_item', ['status', 'unit', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_work_item_status_unit_created', table_name='work_item')
    op.drop_index('ix_case_unit_status_due', table_name='case')
    op.drop_index('ix_case_listed', table_name='case')
