"""audit log fit for 等保 2.0 (issue 11): hash chain, append-only triggers, disabled accounts

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION duban_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (等保审计日志只能追加)';
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_audit_log_actor_at', ['actor', 'at'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(), nullable=True))

    # Chain the rows written before there was a chain, in id order.
    from engine.audit import chain_hashes

    conn = op.get_bind()
    log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', sa.DateTime), sa.column('actor', sa.String),
                   sa.column('action', sa.String), sa.column('subject', sa.String), sa.column('detail', sa.JSON),
                   sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    rows = [dict(r._mapping) for r in conn.execute(sa.select(log).order_by(log.c.id))]
    # Renumber 1..n so that the chain's ids have no gaps (nothing refers to audit rows by id).
    for new_id, (row, (prev, digest)) in enumerate(
            zip(rows, chain_hashes([{**r, "id": i} for i, r in enumerate(rows, 1)])), 1):
        conn.execute(log.update().where(log.c.id == row["id"]).values(id=new_id, prev_hash=prev, hash=digest))

    if conn.dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION duban_audit_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION duban_audit_append_only()")
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        # From 0016 on ids are given in chain order and the sequence stood still; 0015's code draws from it again.
        op.execute("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                   "FROM audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS duban_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_actor_at')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
