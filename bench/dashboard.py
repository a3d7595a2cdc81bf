"""Dashboard and inbox queries on 100,000 cases: p50/p95 of each, on SQLite and on PostgreSQL.

Builds a fresh database per backend with bulk inserts (100,000 cases, ~500,000 work items, ~500,000 events,
2% of cases in error with an incident, 5% under listed supervision, ~60 units, the two deployed processes),
runs ANALYZE, then times the clerk's inbox first page and every query of engine.supervision (each figure and
the first page of each list) over RUNS runs each. Target: p95 < 50 ms.

Run: .venv/bin/python bench/dashboard.py [--cases N] [--runs N] [--only sqlite|postgresql]
     (prints a table and one JSON line; not part of the test suite)
PostgreSQL: DUBAN_BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test; a fresh schema
is created and dropped; skipped with a message when the server is unreachable.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402

from engine import demo, inbox, supervision  # noqa: E402
from engine.access import Actor  # noqa: E402
from engine.accounts import actor_for, create_demo_accounts  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import Case, ProcessVersion  # noqa: E402
from engine.runtime import Engine  # noqa: E402

PG_URL = os.environ.get("DUBAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_MS = 50.0
PAGE_PREFIX = "(page) "  # a whole page of queries, not one query: not held to TARGET_MS
STATUSES = (("running", 55), ("completed", 33), ("terminated", 5), ("error", 2), ("suspended", 5))
KINDS = ("task_ready", "task_completed", "task_claimed", "comment_added", "service_task", "attachment_added")
STATE_BYTES = 4096  # the serialized workflow of a real case is ~15 KB; 4 KB keeps the build quick but wide


# --- the data ----------------------------------------------------------------------------------
def units() -> list[str]:
    names = demo.XINGHUA_TOWNS + demo.XINGHUA_DEPTS + demo.SUZHOU_MUNICIPAL + demo.SUZHOU_COUNTY
    return names[:60]


def _days(duration: str | None) -> int:
    match = re.fullmatch(r"P(\d+)D", duration or "")
    return int(match.group(1)) if match else 10


def _age_days(rng: random.Random) -> float:
    """How long the open step has been waiting: mostly days, some weeks, a tail of months (整改难)."""
    roll = rng.random()
    if roll < 0.50:
        return rng.uniform(0, 15)
    if roll < 0.80:
        return rng.uniform(15, 60)
    return rng.uniform(60, 300)


def generate(n_cases: int, now: datetime, versions: dict[str, tuple[int, dict[str, Any]]], seed: int = 7):
    """Rows for case, work_item, event and incident as dicts of column values (Python types)."""
    rng = random.Random(seed)
    unit_names = units()
    fillers = [os.urandom(STATE_BYTES // 2).hex() for _ in range(64)]
    statuses, weights = zip(*STATUSES)
    cases, items, events, incidents = [], [], [], []
    item_id = event_id = 0
    keys = sorted(versions)
    for case_id in range(1, n_cases + 1):
        key = keys[0] if rng.random() < 0.55 else keys[-1]
        pv_id, catalogue = versions[key]
        steps = list(catalogue["steps"].items())
        # Work piles up where the seeds say it does: rectification and its follow-up.
        step_weights = [5 if ("rectif" in sid or "follow" in sid) else 1 for sid, _ in steps]
        unit = rng.choice(unit_names)
        status = rng.choices(statuses, weights)[0]
        open_case = status in ("running", "error", "suspended")
        n_items = rng.randint(1, 9)
        n_ready = rng.choices((1, 2, 3), (70, 10, 20))[0] if open_case else 0
        n_done = max(0, n_items - n_ready)
        ready_created = now - timedelta(days=_age_days(rng)) if open_case else None
        started = (ready_created or now - timedelta(days=rng.uniform(30, 700))) - timedelta(days=rng.uniform(1, 200))
        ready_rows = []
        for _ in range(n_ready):
            sid, step = rng.choices(steps, step_weights)[0]
            item_id += 1
            due = ready_created + timedelta(days=_days(step.get("due_in")))
            assignee = step.get("role") if rng.random() < 0.3 else None
            ready_rows.append(dict(
                id=item_id, case_id=case_id, task_id=str(uuid.UUID(int=rng.getrandbits(128))), step_id=sid,
                step_name=step.get("name") or sid, role=step.get("role") or "", unit=unit, assignee=assignee,
                status="ready", created_at=ready_created, due_at=due, completed_at=None, completed_by=None,
                process_key=key, reminded_at=due - timedelta(days=1) if due - timedelta(days=1) < now else None,
                escalated_at=due if due < now else None))
        end = ready_created or min(now, started + timedelta(days=rng.uniform(30, 300)))
        for n in range(n_done):
            sid, step = steps[n % len(steps)]
            item_id += 1
            created = started + (end - started) * (n / max(1, n_done))
            done = started + (end - started) * ((n + 1) / max(1, n_done))
            items.append(dict(
                id=item_id, case_id=case_id, task_id=str(uuid.UUID(int=rng.getrandbits(128))), step_id=sid,
                step_name=step.get("name") or sid, role=step.get("role") or "", unit=unit, assignee=step.get("role"),
                status="cancelled" if status == "terminated" and n == n_done - 1 else "completed",
                created_at=created, due_at=created + timedelta(days=_days(step.get("due_in"))), completed_at=done,
                completed_by=step.get("role"), process_key=key, reminded_at=None, escalated_at=None))
        items.extend(ready_rows)
        if open_case:
            last = min(now, ready_created + timedelta(days=rng.uniform(0, min(10, (now - ready_created).days + 0.01))))
        else:
            last = end
        n_events = rng.randint(1, 9)
        for seq in range(1, n_events + 1):
            event_id += 1
            events.append(dict(
                id=event_id, case_id=case_id, seq=seq, at=started + (last - started) * (seq / n_events),
                actor="organization", kind="case_started" if seq == 1 else rng.choice(KINDS),
                step_id=None, step_name=None, work_item_id=None, data_before=None,
                data_after=json.dumps({"note": "已按要求完成"}, ensure_ascii=False)))
        if status == "error":
            sid = ready_rows[0]["step_id"] if ready_rows else None
            incidents.append(dict(
                id=len(incidents) + 1, case_id=case_id, step_id=sid, step_name=ready_rows[0]["step_name"] if ready_rows else None,
                message="findings.merge: 步骤执行失败, 未做任何更改: KeyError: 'findings'", trace="Traceback ...",
                action=json.dumps({"kind": "timers"}), status="open", created_at=last, resolved_at=None, resolved_by=None))
        name = demo._name(rng)
        cases.append(dict(
            id=case_id, process_version_id=pv_id, process_key=key, title=f"{name} 镇党委书记 ({unit})", unit=unit,
            status=status, current_steps="、".join(dict.fromkeys(r["step_name"] for r in ready_rows)),
            state_json=fillers[case_id % len(fillers)],
            data_json=json.dumps({"cadre_name": name, "unit": unit, "post": "镇党委书记", "audit_type": "leaving"},
                                 ensure_ascii=False),
            lock_version=n_items + 1, event_seq=n_events, started_by="organization", started_at=started,
            last_activity_at=last, completed_at=end if status in ("completed", "terminated") else None,
            next_due_at=min((r["due_at"] for r in ready_rows), default=None), listed=rng.random() < 0.05))
    return {"case": cases, "work_item": items, "event": events, "incident": incidents}


# --- loading -----------------------------------------------------------------------------------
def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's storage format for DateTime on SQLite
    if isinstance(value, bool):
        return int(value)
    return value


def load(db: Database, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Bulk insert: executemany on SQLite, COPY on PostgreSQL (one transaction)."""
    raw = db.engine.raw_connection()
    try:
        sqlite = db.engine.dialect.name == "sqlite"
        cur = raw.cursor()
        if sqlite:
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("BEGIN")
        for table in ("case", "work_item", "event", "incident"):
            rows = tables[table]
            if not rows:
                continue
            columns = list(rows[0])
            quoted = ", ".join(f'"{c}"' for c in columns)
            if sqlite:
                marks = ", ".join("?" for _ in columns)
                cur.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',
                                ([_sqlite_value(r[c]) for c in columns] for r in rows))
            else:
                with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in columns])
                cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))")
        if sqlite:
            cur.execute("COMMIT")
            cur.execute("PRAGMA foreign_keys=ON")
        else:
            raw.commit()
    finally:
        raw.close()


def analyze(db: Database) -> None:
    if db.engine.dialect.name == "sqlite":
        raw = db.engine.raw_connection()
        try:
            raw.cursor().execute("ANALYZE")
        finally:
            raw.close()
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# --- timing ------------------------------------------------------------------------------------
def timed(db: Database, fn: Callable[[Any], Any], runs: int) -> dict[str, float]:
    for _ in range(3):  # warm the caches as a serving process would be
        with db.reading() as session:
            fn(session)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with db.reading() as session:
            fn(session)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50": round(statistics.median(times), 2), "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2)}


def queries(db: Database, now: datetime) -> list[tuple[str, Callable[[Any], Any]]]:
    settings = supervision.Settings()
    boss = Actor("supervisor", frozenset({"supervisor"}))
    with db.reading() as session:
        clerk = actor_for(session, "organization")
        by_unit = supervision.overdue_by_unit(session, boss, now, settings)
        by_role = supervision.overdue_by_role(session, boss, now, settings)
        keys = [key for key, _ in supervision.processes(session)]
        busiest = max(supervision.step_load(session, boss, now, settings, keys[0]).steps, key=lambda g: g.count)
    scoped = Actor("supervisor_east", frozenset({"supervisor"}), frozenset(g.key for g in by_unit[:5]))
    F = supervision.ListFilter
    out: list[tuple[str, Callable[[Any], Any]]] = [
        ("inbox first page (organization, available, due)",
         lambda s: inbox.inbox(s, clerk, inbox.InboxQuery(tab="available", sort="due"), now)),
        ("light counts", lambda s: supervision.light_counts(s, boss, now, settings)),
        ("stalled cases count", lambda s: supervision.stalled_case_count(s, boss, now, settings)),
        ("stalled steps count", lambda s: supervision.stalled_step_count(s, boss, now, settings)),
        ("overdue by role", lambda s: supervision.overdue_by_role(s, boss, now, settings)),
        ("overdue by unit", lambda s: supervision.overdue_by_unit(s, boss, now, settings)),
        ("error + suspended counts", lambda s: supervision.status_counts(s, boss, now, settings)),
        ("listed count", lambda s: supervision.listed_count(s, boss, now, settings)),
        ("aging buckets", lambda s: supervision.aging(s, boss, now, settings)),
    ]
    for key in keys:
        out.append((f"step load {key}", lambda s, key=key: supervision.step_load(s, boss, now, settings, key)))
    lists = [F("light", light="red"), F("light", light="yellow"), F("light", light="green"), F("stalled"),
             F("error"), F("suspended"), F("listed"), F("overdue"), F("overdue", role=by_role[-1].key),
             F("overdue", unit=by_unit[-1].key), F("step_stalled"),
             *[F("age", bucket=b[0]) for b in supervision.AGE_BUCKETS], F("step", process=keys[0], step=busiest.key)]
    for flt in lists:
        label = "list " + " ".join(f"{k}={v}" for k, v in flt.args().items())
        out.append((label, lambda s, flt=flt: supervision.list_page(s, boss, now, flt, settings)))
    out.append(("list kind=light light=red, supervisor of 5 units",
                lambda s: supervision.list_page(s, scoped, now, F("light", light="red"), settings)))
    out.append(("list kind=overdue, supervisor of 5 units",
                lambda s: supervision.list_page(s, scoped, now, F("overdue"), settings)))
    # Whole pages: every figure of the dashboard (about 12 statements); shown, not held to the per-query target.
    out.append((PAGE_PREFIX + "dashboard page, all figures", lambda s: supervision.summary(s, boss, now, settings)))
    out.append((PAGE_PREFIX + "dashboard page, supervisor of 5 units",
                lambda s: supervision.summary(s, scoped, now, settings)))
    return out


def run_backend(name: str, url: str, n_cases: int, runs: int, reuse: bool = False) -> dict[str, Any]:
    t0 = time.perf_counter()
    db = Database(url)
    if reuse:  # --keep with an existing file: time the queries on it as built before
        db.upgrade()
        analyze(db)
        with db.reading() as session:
            now = session.scalar(select(func.max(Case.last_activity_at)))
            counts = {t: session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in ("case", "work_item", "event", "incident")}
        print(f"[{name}] reusing {counts}", flush=True)
        return _measure(name, db, now, runs, counts, 0.0)
    db.upgrade()
    with db.transaction() as session:
        create_demo_accounts(session)
    engine = Engine(db)
    engine.deploy([str(REPO / "processes")])
    with db.reading() as session:
        versions = {pv.process_key: (pv.id, pv.catalogue) for pv in session.scalars(select(ProcessVersion)).all()}
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    tables = generate(n_cases, now, versions)
    t_gen = time.perf_counter()
    load(db, tables)
    t_load = time.perf_counter()
    analyze(db)
    t_analyze = time.perf_counter()
    counts = {table: len(rows) for table, rows in tables.items()}
    del tables
    print(f"[{name}] built {counts} in {t_analyze - t0:.0f} s "
          f"(generate {t_gen - t0:.0f} s, load {t_load - t_gen:.0f} s, analyze {t_analyze - t_load:.0f} s)", flush=True)
    return _measure(name, db, now, runs, counts, t_analyze - t0)


def _measure(name: str, db: Database, now: datetime, runs: int, counts: dict[str, int], build_s: float) -> dict[str, Any]:
    figures = {}
    for label, fn in queries(db, now):
        figures[label] = timed(db, fn, runs)
        print(f"  {label:<58} p50 {figures[label]['p50']:8.2f} ms  p95 {figures[label]['p95']:8.2f} ms", flush=True)
    db.engine.dispose()
    return {"rows": counts, "build_s": round(build_s, 1), "figures": figures}


def pg_schema_url() -> tuple[str | None, str]:
    """A fresh schema's URL, or None and the reason PostgreSQL cannot be used."""
    try:
        import psycopg

        schema = f"duban_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        return f"{PG_URL}?options=-csearch_path%3D{schema}", schema
    except Exception as err:  # any failure to connect: no server for the bench
        return None, f"PostgreSQL not reachable at {PG_URL}: {err}"


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--keep", metavar="DIR", help="build the SQLite file in DIR and keep it; reuse it if there")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.only in (None, "sqlite"):
        if args.keep:
            path = Path(args.keep) / "bench.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            results["sqlite"] = run_backend("sqlite", f"sqlite:///{path}", args.cases, args.runs, reuse=path.exists())
        else:
            with tempfile.TemporaryDirectory(prefix="duban-bench-") as tmp:
                results["sqlite"] = run_backend("sqlite", f"sqlite:///{tmp}/bench.db", args.cases, args.runs)
    if args.only in (None, "postgresql"):
        url, schema = pg_schema_url()
        if url is None:
            print(f"[postgresql] skipped: {schema}")
        else:
            try:
                results["postgresql"] = run_backend("postgresql", url, args.cases, args.runs)
            finally:
                drop_schema(schema)

    backends = list(results)
    labels = list(next(iter(results.values()))["figures"]) if results else []
    print()
    header = f"{'query (ms, ' + str(args.runs) + ' runs)':<58}" + "".join(f" {b[:6] + ' p50':>12} {b[:6] + ' p95':>12}" for b in backends)
    print(header + "   target p95 < 50 ms")
    print("-" * len(header))
    misses = []
    for label in labels:
        cells = ""
        for b in backends:
            f = results[b]["figures"][label]
            cells += f" {f['p50']:12.2f} {f['p95']:12.2f}"
            if f["p95"] >= TARGET_MS and not label.startswith(PAGE_PREFIX):
                misses.append(f"{b}: {label}")
        ok = all(results[b]["figures"][label]["p95"] < TARGET_MS for b in backends)
        verdict = "(page total)" if label.startswith(PAGE_PREFIX) else ("ok" if ok else "MISS")
        print(f"{label:<58}{cells}   {verdict}")
    print(f"misses: {misses or 'none'}")
    print(json.dumps({"bench": "dashboard", "cases": args.cases, "runs": args.runs, "target_p95_ms": TARGET_MS,
                      "misses": misses, **results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
