"""`duban serve --workers 2` on PostgreSQL, as an operator runs it: two web processes and a worker under one
supervisor; a web process SIGKILLed is replaced while the other keeps answering; SIGTERM stops them all;
SQLite is refused with the reason."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, make_engine


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def _get(port: int, path: str = "/login") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    status = conn.getresponse().status
    conn.close()
    return status


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds: float = 30.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_killed_web_process_is_replaced_and_sigterm_stops_every_process(pg_url, tmp_path):
    make_engine(pg_url).db.engine.dispose()
    port = _free_port()
    env = {**os.environ, "DUBAN_DATABASE_URL": pg_url, "PYTHONPATH": str(REPO)}
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port), "--workers", "2"],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _get(port) == 200)
        first = _wait(lambda: (c := _children(server.pid)) and len(c) == 3 and c)  # web-1, web-2, worker
        os.kill(first[0], signal.SIGKILL)
        assert all(_get(port) == 200 for _ in range(20))  # the other web process answers meanwhile
        after = _wait(lambda: (c := _children(server.pid)) and len(c) == 3 and c != first and c)
        assert first[0] not in after
        _wait(lambda: all(_get(port) == 200 for _ in range(5)))
        text = Path(tmp_path / "serve.log").read_text(encoding="utf-8")
        assert "3 个进程" in text and f"（进程 {first[0]}）已退出（信号 9），重新启动" in text
        assert "启动检查：已检查" in text
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        assert not any(Path(f"/proc/{pid}").exists() and "engine.cli" in Path(f"/proc/{pid}/cmdline").read_text()
                       for pid in after)
    finally:
        if server.poll() is None:
            server.kill()


def test_several_web_processes_on_sqlite_are_refused_with_the_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    make_engine(url).db.engine.dispose()
    done = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--workers", "2", "--port", str(_free_port())],
                          cwd=tmp_path, env={**os.environ, "DUBAN_DATABASE_URL": url, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "需要 PostgreSQL" in done.stderr and "Traceback" not in done.stderr
