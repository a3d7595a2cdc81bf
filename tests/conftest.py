"""Shared fixtures: a fresh database with the process library deployed and demo accounts."""
from __future__ import annotations

import os
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.access import Actor  # noqa: E402
from engine.accounts import actor_for, create_demo_accounts  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.forms import example_data  # noqa: E402
from engine.runtime import Engine  # noqa: E402

PROCESSES = REPO / "processes"
PG_URL = os.environ.get("DUBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

CASE_FACTS = {
    "cadre_name": "张伟", "post": "镇党委书记", "unit": "戴窑镇", "unit_level": "town",
    "audit_type": "leaving", "leaving_reason": "promoted", "years_in_post": 4,
    "unit_principal": "李强", "unit_deputy": "王芳",
}


class Clock:
    """A clock tests move by hand: engine.clock = Clock(start); clock.advance(days=1)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _fresh(url: str) -> Engine:
    db = Database(url)
    db.upgrade()
    with db.transaction() as session:
        create_demo_accounts(session)
    engine = Engine(db)
    engine.deploy([str(PROCESSES)])
    return engine


_TEMPLATE: dict[str, Path] = {}


def make_engine(url: str) -> Engine:
    """A database with the schema, the demo accounts and the process library deployed.

    A new SQLite file is a copy (sqlite3's backup API) of one built once per test run: migrating, hashing the
    demo passwords and deploying every process took most of a second per test, the copy takes milliseconds,
    and what it holds is the same."""
    prefix = "sqlite:///"
    target = Path(url[len(prefix):]) if url.startswith(prefix) else None
    if target is None or target.exists():
        return _fresh(url)
    if "file" not in _TEMPLATE:
        import tempfile

        template = Path(tempfile.mkdtemp(prefix="duban-template-")) / "duban.db"
        _fresh(f"{prefix}{template}").db.engine.dispose()
        _TEMPLATE["file"] = template
    import sqlite3

    with sqlite3.connect(_TEMPLATE["file"]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return Engine(Database(url))


@pytest.fixture
def engine(tmp_path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'duban.db'}")


def pg_available() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as err:  # any failure to connect means: no server for these tests
        return f"PostgreSQL not reachable at {PG_URL}: {err}"


@pytest.fixture
def pg_url() -> str:
    """A fresh schema in the test PostgreSQL database; mandatory when CI=true."""
    reason = pg_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    import psycopg

    schema = f"duban_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def as_user(engine: Engine, username: str) -> Actor:
    with engine.db.reading() as session:
        return actor_for(session, username)


def complete_step(engine: Engine, case_id: int, step_id: str, **data: Any):
    """Complete the ready work item of `step_id` as its role's demo user, with valid form data."""
    items = [i for i in engine.tasks(case_id=case_id) if i["step_id"] == step_id]
    assert items, f"step {step_id} is not ready; ready: {[i['step_id'] for i in engine.tasks(case_id=case_id)]}"
    item = items[0]
    return engine.complete(item["id"], example_data(item["form"], **data), as_user(engine, item["role"]))


def ready_steps(engine: Engine, case_id: int) -> list[str]:
    return sorted(i["step_id"] for i in engine.tasks(case_id=case_id))
