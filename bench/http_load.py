"""Completions over HTTP under concurrency: N clients completing tasks of their own cases against one `duban serve`.

Run: .venv/bin/python bench/http_load.py [--backend sqlite|postgresql|both] [--clients 16] [--seconds 30]
     [--process plain|xinghua] [--threads 8] [--web 1,2,4]
(prints figures; not part of the test suite)

Each client is a process with one keep-alive connection and cases of its own: it reads a case
(GET /api/v1/cases/ID), completes its first open work item (POST /api/v1/tasks/ID/complete, the
timed request) and starts a new case through the API when one is done. Latency is the complete
request alone, measured by the client; the first seconds are warm-up and not counted. `--web 1,2,4` runs
the PostgreSQL figures once per number of web processes (`duban serve --workers N`, timers in one worker).
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PG_URL = os.environ.get("DUBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROCESSES = {"plain": "plain_ten", "xinghua": "joint_audit_xinghua"}
FACTS = {"cadre_name": "周建国", "post": "镇党委书记", "unit": "戴窑镇", "unit_level": "town", "audit_type": "mid_term",
         "unit_principal": "周建国", "unit_deputy": "刘洋"}
WARMUP_S = 3.0


def _prepare(url: str, process_key: str, cases: int) -> tuple[str, list[int]]:
    """Schema, accounts, processes, the starting cases; returns a bench API token and the case ids."""
    from engine.accounts import add_user, create_demo_accounts, issue_token
    from engine.access import Actor
    from engine.db import Database
    from engine.runtime import Engine

    db = Database(url)
    db.upgrade()
    with db.transaction() as session:
        create_demo_accounts(session)
        user = add_user(session, "bench", "bench-password-1", ["organization", "staffing", "audit", "unit"],
                        None, "基准测试")
        token = issue_token(session, user, "bench")
    engine = Engine(db)
    engine.deploy([str(REPO / "processes"), str(REPO / "bench" / "plain")])
    actor = Actor("bench", frozenset({"organization"}))
    ids = [engine.start_case(process_key, dict(FACTS), actor) for _ in range(cases)]
    db.engine.dispose()
    return token, ids


def _request(conn: http.client.HTTPConnection, method: str, path: str, token: str, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    payload = None
    if body is not None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, (json.loads(data) if data and response.getheader("Content-Type", "").startswith("application/json") else None)


def _client(port: int, token: str, process_key: str, case_ids: list[int], start_at: float, stop_at: float, out) -> None:
    from engine.forms import example_data

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, statuses, cases, i = [], {}, list(case_ids), 0
    while time.time() < stop_at:
        case_id = cases[i % len(cases)]
        status, case = _request(conn, "GET", f"/api/v1/cases/{case_id}", token)
        items = (case or {}).get("work_items") or []
        if status != 200 or not items:
            status, made = _request(conn, "POST", "/api/v1/cases", token, {"process_key": process_key, "data": FACTS})
            if status == 201:
                cases[i % len(cases)] = made["id"]
            else:
                statuses[f"start {status}"] = statuses.get(f"start {status}", 0) + 1
            continue
        item = items[0]
        body = {"data": example_data(item.get("form"))}
        t0 = time.time()
        status, _ = _request(conn, "POST", f"/api/v1/tasks/{item['id']}/complete", token, body)
        elapsed = time.time() - t0
        if t0 >= start_at:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
        i += 1
    out.put((latencies, statuses, time.process_time()))


def _serve(url: str, workdir: str, port: int, threads: int, web: int = 1) -> subprocess.Popen:
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port), "--threads", str(threads),
                             "--workers", str(web), "--check-seconds", "0"],
                            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=open(Path(workdir) / "serve.log", "w"))
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"duban serve did not start; see {workdir}/serve.log")


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process that started in between counts from zero."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _tree(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *(p for child in out for p in _tree(int(child)))]


def _postgres_pids() -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(backend: str, clients: int, seconds: float, process: str, threads: int, web: int = 1) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"duban-load-{backend}-")
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir}/load.db"
    else:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    process_key = PROCESSES[process]
    per_client = 4
    token, ids = _prepare(url, process_key, clients * per_client)
    port = _free_port()
    server = _serve(url, workdir, port, threads, web)
    try:
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        begin = time.time() + 2.0  # spawn time
        start_at, stop_at = begin + WARMUP_S, begin + WARMUP_S + seconds
        procs = [ctx.Process(target=_client, args=(port, token, process_key, ids[c * per_client:(c + 1) * per_client],
                                                   start_at, stop_at, out)) for c in range(clients)]
        for p in procs:
            p.start()
        time.sleep(max(0.0, start_at - time.time()))
        web_before, pg_before, t_before = _cpu_seconds(_tree(server.pid)), _cpu_seconds(_postgres_pids()), time.time()
        time.sleep(max(0.0, stop_at - time.time()))
        web_after, pg_after, t_after = _cpu_seconds(_tree(server.pid)), _cpu_seconds(_postgres_pids()), time.time()
        web_cpu, pg_cpu, window = _spent(web_before, web_after), _spent(pg_before, pg_after), t_after - t_before
        results = [out.get(timeout=seconds + 300) for _ in procs]
        for p in procs:
            p.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if schema:
            import psycopg

            with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    latencies = sorted(t for lat, _, _ in results for t in lat)
    statuses: dict = {}
    for _, st, _ in results:
        for k, v in st.items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    ok = statuses.get("200", 0)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"backend": backend, "clients": clients, "process": process, "threads": threads, "web": web, "seconds": seconds,
            "completions": ok, "completions_per_s": round(ok / seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p95_ms": round(pct(0.95), 1), "p99_ms": round(pct(0.99), 1),
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else None, "statuses": statuses,
            # Cores busy during the timed window: the web processes (and their worker), PostgreSQL, and the
            # clients (their whole run, warm-up included, spread over the window: an upper bound).
            "cores_web": round(web_cpu / window, 2), "cores_postgres": round(pg_cpu / window, 2),
            "cores_clients": round(sum(c for _, _, c in results) / (seconds + WARMUP_S), 2),
            "cpu_ms_per_completion_web": round(web_cpu * 1000 / ok, 1) if ok else None,
            "cpu_ms_per_completion_postgres": round(pg_cpu * 1000 / ok, 1) if ok else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--process", choices=tuple(PROCESSES), default="plain")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per web process")
    parser.add_argument("--web", default="1", help="web processes, e.g. 1,2,4 (PostgreSQL only beyond 1)")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    runs = [(b, int(n)) for b in backends for n in args.web.split(",") if b == "postgresql" or n == "1"]
    for backend, web in runs:
        figures = run(backend, args.clients, args.seconds, args.process, args.threads, web)
        print(f"{backend:<10} {web} web, {figures['clients']} clients, {figures['process']}: {figures['completions_per_s']} completions/s; "
              f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, "
              f"max {figures['max_ms']} ms; statuses {figures['statuses']}; cores busy: web {figures['cores_web']}, "
              f"PostgreSQL {figures['cores_postgres']}, clients {figures['cores_clients']}")
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
