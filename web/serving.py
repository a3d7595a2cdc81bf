"""`duban serve`: one process, or a supervisor with N web processes and a timer worker on one listening socket.

The socket is bound once, by the supervisor, and inherited by every web process, so a web process that dies
(killed, out of memory) loses only the requests it was answering: connections waiting in the socket's queue
are taken by the others, and the supervisor starts a new process within a second. Nothing a request needs is
kept in a process that another could change (see README, 超出单机): the processes share only the database.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from typing import Callable

log = logging.getLogger("duban.serve")


def startup_check(engine, budget: float, echo: Callable[[str], None]) -> None:
    """Compare the projections with the stored states for at most `budget` seconds; report, do not repair."""
    if budget <= 0:
        return
    from engine import check

    shown = [0]

    def show(drift) -> None:  # the first 20; the summary counts them all
        if shown[0] < 20:
            echo(f"  项目 {drift.case_id}「{drift.title}」：{'；'.join(drift.problems)}")
        shown[0] += 1

    echo("启动检查：" + check.summary(check.run(engine, budget=budget, on_drift=show)))


def _serve_web(sock: socket.socket, threads: int, run_worker: bool) -> None:
    from waitress import serve as waitress_serve

    from web import create_app

    app = create_app()
    if run_worker:
        from engine.worker import start_scheduler

        start_scheduler(app.extensions["duban"])
    waitress_serve(app, sockets=[sock], threads=threads, ident="duban", connection_limit=400)


def _run_worker() -> None:
    from engine.db import Database
    from engine.runtime import Engine
    from engine.worker import start_scheduler

    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    start_scheduler(Engine(Database()), 1.0, blocking=True)


def serve(host: str, port: int, threads: int, processes: int, run_worker: bool,
          echo: Callable[[str], None]) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    sock.set_inheritable(True)
    if processes <= 1:
        echo(f"督办已启动：http://{host}:{port}/login  (Ctrl-C 停止)")
        _serve_web(sock, threads, run_worker)
        return
    Supervisor(sock, threads, processes, run_worker, echo).run()


class Supervisor:
    """Forks the web processes and the worker, restarts any that exits, stops them all on SIGTERM or Ctrl-C."""

    def __init__(self, sock, threads: int, processes: int, run_worker: bool, echo) -> None:
        self.sock, self.threads, self.echo = sock, threads, echo
        self.roles = [f"web-{i + 1}" for i in range(processes)] + (["worker"] if run_worker else [])
        self.children: dict[int, str] = {}
        self.stopping = False

    def _start(self, role: str) -> None:
        # Signals wait while forking: a child must not run the supervisor's handler on its copy of `children`.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        pid = os.fork()
        if pid == 0:  # the child: its own database connections, default signal handling
            _die_with_parent()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
            try:
                if role == "worker":
                    self.sock.close()
                    _run_worker()
                else:
                    _serve_web(self.sock, self.threads, False)
            except BaseException:  # noqa: BLE001 - a child never returns into the supervisor's loop
                logging.exception("%s failed", role)
                os._exit(1)
            os._exit(0)
        self.children[pid] = role
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    def _stop(self, *_) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for role in self.roles:
            self._start(role)
        host, port = self.sock.getsockname()[:2]
        self.echo(f"督办已启动：http://{host}:{port}/login，{len(self.roles)} 个进程 "
                  f"({'、'.join(self.roles)}; 主进程 {os.getpid()})  (Ctrl-C 停止)")
        restarts: list[float] = []
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            role = self.children.pop(pid, None)
            if role is None or self.stopping:
                continue
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < 60] + [now]
            if len(restarts) > 30:  # a process that cannot stay up: stop rather than spin
                self.echo(f"{role} 一分钟内退出超过 30 次，停止服务")
                self._stop()
                continue
            self.echo(f"{role}（进程 {pid}）已退出（{_exit_text(status)}），重新启动")
            time.sleep(0.2)
            if not self.stopping:
                self._start(role)
        sys.exit(0)


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM to this process when the supervisor dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"信号 {os.WTERMSIG(status)}"
    return f"退出码 {os.WEXITSTATUS(status)}"
