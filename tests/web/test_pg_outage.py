"""PostgreSQL goes away in the middle of load and comes back: every answer meanwhile is a clear 503 (JSON for the
API, a page for the browser), never a 500 or a traceback, and the same app serves again without a restart.

The outage is real: the app talks to PostgreSQL through a TCP relay that the test cuts (every open connection
reset, new ones refused, as while the server restarts) and then opens again."""
from __future__ import annotations

import socket
import threading
import time
from collections import Counter

import pytest

from engine.accounts import add_user, issue_token
from engine.forms import example_data
from tests.conftest import CASE_FACTS, as_user, make_engine
from tests.web.test_errors import _is_unavailable_page


class Relay:
    """127.0.0.1:<port> → PostgreSQL; `cut()` resets every connection and refuses new ones until `restore()`."""

    def __init__(self, target=("127.0.0.1", 5432)) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # a reset: what a client sees while the server is down
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def cut(self) -> None:
        self.up = False
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, server in pairs:
            for s in (client, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def restore(self) -> None:
        self.up = True


@pytest.fixture
def world(pg_url):
    engine = make_engine(pg_url)
    with engine.db.transaction() as s:
        token = issue_token(s, add_user(s, "load_clerk", "load-password-1", ["organization", "staffing", "audit", "unit", "supervisor", "discipline"]), "load")
    organization = as_user(engine, "organization")
    cases = [engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, cadre_name=f"干部{i}"), organization)
             for i in range(6)]
    relay = Relay()
    host_part = pg_url.split("@", 1)[1].split("/", 1)[0]
    from web import create_app

    app = create_app({"DATABASE_URL": pg_url.replace(host_part, f"127.0.0.1:{relay.port}"), "SECRET_KEY": "outage",
                      "TESTING": True, "WTF_CSRF_ENABLED": False})
    yield {"app": app, "relay": relay, "token": token, "cases": cases, "engine": engine}
    relay.listener.close()
    app.extensions["duban"].db.engine.dispose()


def _complete_all(world, answers: Counter, stop: threading.Event) -> None:
    """A clerk's client: read a case, complete its first work item; every answer counted by status and code."""
    client = world["app"].test_client()
    headers = {"Authorization": f"Bearer {world['token']}"}
    while not stop.is_set():
        for case_id in world["cases"]:
            got = client.get(f"/api/v1/cases/{case_id}", headers=headers)
            answers[(got.status_code, (got.get_json(silent=True) or {}).get("code"))] += 1
            items = (got.get_json(silent=True) or {}).get("work_items") or [] if got.status_code == 200 else []
            if items:
                done = client.post(f"/api/v1/tasks/{items[0]['id']}/complete", headers=headers,
                                   json={"data": example_data(items[0].get("form"))})
                answers[(done.status_code, (done.get_json(silent=True) or {}).get("code"))] += 1


def test_requests_answer_503_while_postgresql_is_down_and_succeed_again_without_a_restart(world):
    app, relay = world["app"], world["relay"]
    browser = app.test_client()
    assert browser.post("/login", data={"username": "organization", "password": "demo"}).status_code == 302
    assert browser.get("/").status_code == 200

    answers: Counter = Counter()
    stop = threading.Event()
    clients = [threading.Thread(target=_complete_all, args=(world, answers, stop)) for _ in range(3)]
    for t in clients:
        t.start()
    time.sleep(1.5)
    before = sum(n for (status, _), n in answers.items() if status == 200)
    relay.cut()  # PostgreSQL restarts: open connections reset, new ones refused
    time.sleep(2.0)
    _is_unavailable_page(browser.get("/"))
    down = browser.get(f"/cases/{world['cases'][0]}")
    _is_unavailable_page(down)
    relay.restore()
    time.sleep(2.0)
    stop.set()
    for t in clients:
        t.join(30)

    assert before > 0
    statuses = {status for status, _ in answers}
    assert statuses <= {200, 409, 503}, answers  # never a 500
    assert all(code == "unavailable" for (status, code), _ in answers.items() if status == 503), answers
    assert answers[(503, "unavailable")] > 0, answers
    # Back without a restart: the same app object answers, signed-in session and all.
    assert browser.get("/").status_code == 200
    after = app.test_client().get(f"/api/v1/cases/{world['cases'][0]}",
                                  headers={"Authorization": f"Bearer {world['token']}"})
    assert after.status_code == 200 and after.get_json()["id"] == world["cases"][0]
