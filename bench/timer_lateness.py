"""How late timers fire under normal load: a `duban worker` process, 300 timers due over 30 seconds.

Run: .venv/bin/python bench/timer_lateness.py [--pg]   (prints figures; not part of the test suite)
Lateness = when the timer_fired event was written - when the timer was due. Target: under 2 s.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from engine.accounts import actor_for, create_demo_accounts  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import Event  # noqa: E402
from engine.runtime import Engine  # noqa: E402

TIMERS, SPREAD_S = 300, 30


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def main() -> None:
    tmp = tempfile.mkdtemp()
    url, schema = f"sqlite:///{tmp}/lateness.db", None
    if "--pg" in sys.argv:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    db = Database(url)
    db.upgrade()
    with db.transaction() as session:
        create_demo_accounts(session)
    engine = Engine(db)
    engine.deploy([str(REPO / "tests" / "fixtures" / "timed")])
    with db.reading() as session:
        clerk = actor_for(session, "organization")
    base = _now() + timedelta(seconds=5)
    due: dict[int, datetime] = {}
    for i in range(TIMERS):
        start = base + timedelta(seconds=SPREAD_S * i / TIMERS) - timedelta(hours=1)
        engine.clock = lambda start=start: start
        due[engine.start_case("wait_then_work", {}, clerk)] = start + timedelta(hours=1)
    env = {**os.environ, "DUBAN_DATABASE_URL": url}
    worker = subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "--interval", "1"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SPREAD_S + 60
        while time.monotonic() < deadline:
            with db.reading() as session:
                fired = dict(session.execute(select(Event.case_id, Event.at).where(Event.kind == "timer_fired")).all())
            if len(fired) == TIMERS:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait()
    late = sorted((fired[c] - due[c]).total_seconds() for c in fired)
    q = statistics.quantiles(late, n=20)
    figures = {"backend": db.engine.dialect.name, "timers": TIMERS, "fired": len(fired),
               "lateness_p50_s": round(statistics.median(late), 3), "lateness_p95_s": round(q[18], 3),
               "lateness_max_s": round(late[-1], 3), "early": sum(1 for x in late if x < 0)}
    print(f"{figures['backend']}: {len(fired)}/{TIMERS} timers fired; lateness p50 {figures['lateness_p50_s']} s, "
          f"p95 {figures['lateness_p95_s']} s, max {figures['lateness_max_s']} s (target < 2 s); early: {figures['early']}")
    print(json.dumps(figures))
    db.engine.dispose()
    if schema:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
