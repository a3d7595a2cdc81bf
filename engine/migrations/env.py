"""Alembic environment: runs on the connection `engine.db.Database.upgrade` hands over."""
from alembic import context

from engine.models import Base
import handlers.records  # noqa: F401  (registers the domain tables on Base.metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
