"""Faults under load on PostgreSQL: web and worker processes SIGKILLed at random, PostgreSQL restarted once.

Run: .venv/bin/python bench/faults.py [--completions 2000] [--clients 8] [--timers 100] [--no-pg-restart]
(prints figures; not part of the test suite; the PostgreSQL restart needs `pg_ctlcluster` and root)

`duban serve --workers 2 --no-worker` (its supervisor restarts a killed web process) and 2 `duban worker`
processes (restarted here) run on a fresh schema. 8 clients, each with cases of its own, read a case and
complete its next work item over HTTP until 2,000 completions were answered 200; a client whose connection
breaks reconnects and tries the same item again (a 409 then means the lost request did commit). Meanwhile a
web process or a worker is SIGKILLed every 1.5-4 s and, half-way, PostgreSQL itself is restarted. 100 cases
wait on timers that fall due during the run. Afterwards: every completion answered 200 has exactly one
`task_completed` event and no work item has two, every timer case fired exactly once and finished,
`duban check` finds no drift, and every answer during the outage was a 503 with `{"code": "unavailable"}`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_load import FACTS, PG_URL, _free_port, _request  # noqa: E402

NETWORK_ERRORS = (ConnectionError, http.client.HTTPException, OSError)


def _client(port: int, token: str, case_ids: list[int], quota: int, out) -> None:
    from engine.forms import example_data

    def connect():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    conn, cases, i = connect(), list(case_ids), 0
    ok: list[int] = []
    statuses: Counter = Counter()
    unavailable_bodies: Counter = Counter()
    item = None
    while len(ok) < quota:
        try:
            if item is None:
                case_id = cases[i % len(cases)]
                status, case = _request(conn, "GET", f"/api/v1/cases/{case_id}", token)
                if status == 503:
                    statuses["503"] += 1
                    unavailable_bodies[(case or {}).get("code", "not json")] += 1
                    time.sleep(0.2)
                    continue
                items = (case or {}).get("work_items") or []
                if status != 200 or not items:
                    status, made = _request(conn, "POST", "/api/v1/cases", token,
                                            {"process_key": "plain_ten", "data": FACTS})
                    if status == 201:
                        cases[i % len(cases)] = made["id"]
                    else:
                        statuses[f"start {status}"] += 1
                        if status == 503:
                            unavailable_bodies[(made or {}).get("code", "not json")] += 1
                            time.sleep(0.2)
                    continue
                item = items[0]
            status, body = _request(conn, "POST", f"/api/v1/tasks/{item['id']}/complete", token,
                                    {"data": example_data(item.get("form"))})
            statuses[str(status)] += 1
            if status == 200:
                ok.append(item["id"])
            elif status == 503:
                unavailable_bodies[(body or {}).get("code", "not json")] += 1
                time.sleep(0.2)
                continue  # the same item again: nothing was done
            item = None  # 200, or 409 (a lost attempt committed, or done already): read the case again
            i += 1
        except NETWORK_ERRORS:
            statuses["connection lost"] += 1
            conn.close()
            time.sleep(0.1)
            conn = connect()
    out.put((ok, dict(statuses), dict(unavailable_bodies)))


class Processes:
    """The server under test: a `duban serve` supervisor and the workers, with their logs in one directory."""

    def __init__(self, url: str, workdir: str, port: int) -> None:
        self.env = {**os.environ, "DUBAN_DATABASE_URL": url, "PYTHONPATH": str(REPO),
                    "DUBAN_TIMER_LEASE_SECONDS": "5"}
        self.workdir, self.port = workdir, port
        self.workers: list[subprocess.Popen] = []
        self.kills: Counter = Counter()
        self.serve = self._spawn("serve", ["serve", "--port", str(port), "--workers", "2", "--no-worker",
                                           "--check-seconds", "0"])
        for _ in range(2):
            self.workers.append(self._spawn("worker", ["worker", "--interval", "0.5"]))

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(Path(self.workdir) / f"{name}.log", "a")
        return subprocess.Popen([sys.executable, "-m", "engine.cli", *args], cwd=self.workdir, env=self.env,
                                stdout=log, stderr=log)

    def web_children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.serve.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def kill_one(self, rng: random.Random) -> None:
        if rng.random() < 0.5:
            web = self.web_children()
            if web:
                os.kill(rng.choice(web), signal.SIGKILL)  # the supervisor starts a new one
                self.kills["web"] += 1
                return
        index = rng.randrange(len(self.workers))
        self.workers[index].kill()
        self.workers[index].wait()
        self.kills["worker"] += 1
        time.sleep(rng.uniform(0.2, 1.0))
        self.workers[index] = self._spawn("worker", ["worker", "--interval", "0.5"])

    def stop(self) -> None:
        for proc in [self.serve, *self.workers]:
            proc.terminate()
        for proc in [self.serve, *self.workers]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_up(port: int) -> None:
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("duban serve did not start")


def _pg_restart() -> float:
    cluster = sorted(os.listdir("/etc/postgresql"))[0]
    started = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True,
                   capture_output=True)
    return time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--timers", type=int, default=100)
    parser.add_argument("--no-pg-restart", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    import psycopg
    from sqlalchemy import func, select

    from bench.http_load import _prepare
    from engine.access import Actor
    from engine.db import Database
    from engine.models import Case, Event
    from engine.runtime import Engine

    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="duban-faults-")
    schema = f"faults_{uuid.uuid4().hex[:8]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    per_client = 4
    token, ids = _prepare(url, "plain_ten", args.clients * per_client)
    engine = Engine(Database(url))
    engine.deploy([str(REPO / "bench" / "faults")])
    actor = Actor("bench", frozenset({"organization"}))
    port = _free_port()
    procs = Processes(url, workdir, port)
    _wait_up(port)
    # Timers that fall due across the run (it takes about 40-60 s).
    timer_cases = [engine.start_case("bench_timer_wait", {"wait_for": f"PT{rng.randint(2, 45)}S"}, actor)
                   for _ in range(args.timers)]
    engine.db.engine.dispose()

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    quota = -(-args.completions // args.clients)
    clients = [ctx.Process(target=_client, args=(port, token, ids[c * per_client:(c + 1) * per_client], quota, out))
               for c in range(args.clients)]
    began = time.time()
    for p in clients:
        p.start()
    done = threading.Event()
    outage: dict = {}

    def chaos() -> None:
        restarted = args.no_pg_restart
        while not done.wait(rng.uniform(1.5, 4.0)):
            procs.kill_one(rng)
            if not restarted and time.time() - began > 20:
                restarted = True
                outage["at_s"] = round(time.time() - began, 1)
                outage["restart_s"] = round(_pg_restart(), 2)

    killer = threading.Thread(target=chaos, daemon=True)
    killer.start()
    results = [out.get(timeout=900) for _ in clients]
    load_s = time.time() - began
    done.set()
    killer.join()
    for p in clients:
        p.join(timeout=30)

    engine = Engine(Database(url))
    deadline = time.time() + 90
    while time.time() < deadline:  # the timers still waiting, by the workers that are up
        with engine.db.reading() as session:
            left = session.scalar(select(func.count()).select_from(Case).where(
                Case.id.in_(timer_cases), Case.status != "completed"))
        if not left:
            break
        time.sleep(1)
    procs.stop()

    answered = [item for ok, _, _ in results for item in ok]
    statuses: Counter = Counter()
    bodies: Counter = Counter()
    for _, st, body in results:
        statuses.update(st)
        bodies.update(body)
    with engine.db.reading() as session:
        completed = Counter(session.scalars(select(Event.work_item_id).where(Event.kind == "task_completed")).all())
        fired = Counter(session.scalars(select(Event.case_id).where(Event.kind == "timer_fired",
                                                                    Event.case_id.in_(timer_cases))).all())
        timer_done = session.scalar(select(func.count()).select_from(Case).where(
            Case.id.in_(timer_cases), Case.status == "completed"))
    missing = [i for i in answered if completed[i] == 0]
    twice = [i for i, n in completed.items() if n > 1]
    check = subprocess.run([sys.executable, "-m", "engine.cli", "check"], cwd=workdir, env=procs.env,
                           capture_output=True, text=True)
    figures = {
        "completions_answered_200": len(answered), "clients": args.clients, "load_seconds": round(load_s, 1),
        "completions_per_s": round(len(answered) / load_s, 1),
        "kills": dict(procs.kills), "pg_restart": outage or None,
        "statuses": dict(statuses), "unavailable_answers": dict(bodies),
        "answered_200_without_event": len(missing), "work_items_completed_twice": len(twice),
        "timer_cases": len(timer_cases), "timer_cases_finished": timer_done,
        "timers_fired_once": sum(1 for c in timer_cases if fired[c] == 1),
        "timers_fired_more_than_once": sum(1 for c in timer_cases if fired[c] > 1),
        "check_exit": check.returncode, "check": check.stdout.strip().splitlines()[-1] if check.stdout else check.stderr,
        "logs": workdir,
    }
    engine.db.engine.dispose()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    ok = (not missing and not twice and check.returncode == 0 and timer_done == len(timer_cases)
          and figures["timers_fired_once"] == len(timer_cases) and set(bodies) <= {"unavailable"})
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
