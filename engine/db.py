"""The one owner of database connections: engine creation, sessions, schema upgrades."""
from __future__ import annotations

import os
import threading
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """DUBAN_DATABASE_URL, else the embedded SQLite file under ./instance/."""
    url = os.environ.get("DUBAN_DATABASE_URL")
    if url:
        return url
    instance = Path.cwd() / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'duban.db'}"


def _normalise(url: str) -> str:
    # psycopg 3 is our PostgreSQL driver; accept the plain scheme people paste.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = _normalise(url or default_url())
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers run during a step; NORMAL is durable enough in WAL mode.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # A step takes the write lock at BEGIN, so two steps never both read and then
            # fail to upgrade their lock; pure reads (inbox, case pages) do not block writers.
            read_only = conn.get_execution_options().get("duban_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class WriterQueue:
    """First come, first served: the writers of one process take SQLite's single write lock in turn.

    SQLite's busy handler lets waiters poll and serves them in no order, so under load a writer
    could wait seconds while later ones went first. Queueing in the process keeps every wait
    about (writers ahead) x (time a write holds the lock). Re-entrant for the thread holding it.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None and not self._waiting:
                self._owner, self._depth = me, 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the writer before us, which handed us the lock
        with self._mutex:
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._waiting:
                self._owner = -1  # reserved for the next in line until it wakes
                self._waiting.popleft().release()

    def __enter__(self) -> "WriterQueue":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class _NoQueue:
    """PostgreSQL writers lock rows, not the database: nothing to queue for."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class Database:
    """An engine plus its session factory; one per process (CLI run, web app, worker)."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(duban_read_only=True), expire_on_commit=False
        )
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.writers = WriterQueue() if self.is_sqlite else _NoQueue()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits whole on success and rolls back whole on any error."""
        with self.writers, self.sessions() as session:
            with session.begin():
                yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries only; it never takes the write lock."""
        with self.read_sessions() as session:
            with session.begin():
                yield session

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            raw = conn.connection.driver_connection if sqlite else None
            if sqlite:
                # SQLite migrations rebuild tables; the pragma only works outside a transaction.
                raw.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            if sqlite:
                problems = raw.execute("PRAGMA foreign_key_check").fetchall()
                raw.execute("PRAGMA foreign_keys=ON")
                if problems:
                    raise RuntimeError(f"migration left broken references: {problems[:5]}")

    def revision(self) -> str | None:
        """The schema's current Alembic revision (None: never initialised)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_current(self) -> bool:
        """Whether the schema is at the newest migration (a stale database gives a clear message, not SQL errors)."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head
