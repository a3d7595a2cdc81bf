"""Sign-in: hashed passwords, slowed guessing, CSRF on every form, safe redirects, cookie flags."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from engine.models import User
from tests.conftest import make_engine


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    make_engine(url)
    from web import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "auth-tests", "TESTING": True})


def _csrf(client, path="/login"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(client)})


def test_passwords_are_hashed_and_checked(app):
    with app.extensions["duban"].db.reading() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "organization"))
    assert "demo" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    client = app.test_client()
    wrong = _login(client, "organization", "nope")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    ok = _login(client, "organization", "demo")
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    cookie = next(c for c in ok.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_guessing_is_slowed_down_per_user(app):
    client = app.test_client()
    for _ in range(5):
        assert _login(client, "audit", "guess").status_code == 401
    blocked = _login(client, "audit", "demo")  # even the right password waits out the window
    assert blocked.status_code == 429 and "15 分钟" in blocked.get_data(as_text=True)
    assert _login(client, "staffing", "demo").status_code == 302  # other accounts are not locked


def test_every_form_needs_its_csrf_token(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "organization", "password": "demo"}).status_code == 400
    _login(client, "organization", "demo")
    response = client.post("/logout")
    assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True)
    assert client.get("/logout").status_code == 405  # signing out is a POST, never a link a page can trigger


def test_next_only_goes_to_this_site(app):
    client = app.test_client()
    token = _csrf(client)
    response = client.post("/login?next=//evil.example/x", data={"username": "organization", "password": "demo",
                                                                 "csrf_token": token})
    assert response.headers["Location"] == "/"


# --- slowed guessing: per (name, address), with known devices ------------------------------------------
def _from(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_guesser_locks_out_only_itself_not_the_account(app):
    attacker = _from(app.test_client(), "10.0.0.66")
    answers = [_login(attacker, "organization", f"guess{n}").status_code for n in range(20)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    # The locked-out guesser is refused even with the right password: the lock must not confirm a guess.
    refused = _login(attacker, "organization", "demo")
    assert refused.status_code == 429 and "分钟后再试" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    real_user = _from(app.test_client(), "10.0.0.7")
    assert _login(real_user, "organization", "demo").status_code == 302


def test_a_known_device_gets_in_while_the_name_is_guessed_from_everywhere(app):
    from engine.models import SignInAttempt
    from engine.signin import PER_NAME

    office = _from(app.test_client(), "10.0.0.7")
    assert _login(office, "organization", "demo").status_code == 302  # sets the known-device cookie
    office.post("/logout", data={"csrf_token": _csrf(office, "/")})
    engine = app.extensions["duban"]
    with engine.db.transaction() as session:  # a botnet: one guess each from many addresses
        session.add_all(SignInAttempt(username="organization", address=f"203.0.113.{n % 250}/{n}", at=engine.clock())
                        for n in range(PER_NAME))
    stranger = _from(app.test_client(), "10.0.0.8")
    assert _login(stranger, "organization", "demo").status_code == 429  # no known device: wait
    assert _login(office, "organization", "demo").status_code == 302  # the usual browser: in


def test_an_address_spraying_names_is_slowed_down(app):
    sprayer = _from(app.test_client(), "10.0.0.99")
    answers = [_login(sprayer, f"user{n}", "123456").status_code for n in range(25)]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}


def test_unknown_and_known_names_cost_the_same_password_hash(app, monkeypatch):
    import engine.accounts

    hashed = []
    real = engine.accounts.check_password_hash
    monkeypatch.setattr(engine.accounts, "check_password_hash", lambda h, p: hashed.append(h) or real(h, p))
    client = app.test_client()
    assert _login(client, "nobody-here", "demo").status_code == 401
    assert _login(client, "organization", "wrong").status_code == 401
    assert len(hashed) == 2 and hashed[0].split("$")[0] == hashed[1].split("$")[0]  # same method and cost


# --- sessions end at sign-out; sign-in starts a fresh one -----------------------------------------------
def test_a_session_cookie_copied_before_sign_out_is_dead_after_it(app):
    client = app.test_client()
    assert _login(client, "organization", "demo").status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": _csrf(client, "/")}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert replay.get("/api/v1/tasks").status_code == 401
    assert _login(client, "organization", "demo").status_code == 302  # signing in again works


def test_signing_in_replaces_the_csrf_token(app):
    client = app.test_client()
    before = _csrf(client)
    client.post("/login", data={"username": "organization", "password": "demo", "csrf_token": before})
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400  # the old token is gone
    assert client.post("/logout", data={"csrf_token": _csrf(client, "/")}).status_code == 302


@pytest.mark.parametrize("target", ["/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example",
                                    "https://evil.example/", "/%2F/evil.example", "/%252F%252Fevil.example",
                                    "javascript:alert(1)", "/\r\nLocation: https://evil.example"])
def test_next_never_leaves_the_site(app, target):
    client = app.test_client()
    _login(client, "organization", "demo")
    engine = app.extensions["duban"]
    from tests.conftest import CASE_FACTS, as_user

    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    (item,) = engine.tasks(case_id=case_id)
    token = _csrf(client, "/")
    for path in (f"/work-items/{item['id']}/claim", f"/work-items/{item['id']}/release"):
        response = client.post(path, data={"csrf_token": token, "next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/", (path, response.headers)
    response = client.post(f"/cases/{case_id}/comments", data={"csrf_token": token, "next": target, "body": "好"})
    assert response.headers["Location"].startswith(f"/cases/{case_id}"), response.headers["Location"]
    fresh = app.test_client()
    response = fresh.post(f"/login?next={quote(target, safe='')}", data={"username": "audit", "password": "demo",
                                                                          "csrf_token": _csrf(fresh)})
    assert response.headers["Location"] == "/"


def _parallel_guesses(app, n=12):
    import threading

    barrier, answers = threading.Barrier(n), []

    def guess(k):
        client = _from(app.test_client(), "10.0.0.66")
        token = _csrf(client)
        barrier.wait()
        answers.append(client.post("/login", data={"username": "organization", "password": f"guess{k}",
                                                   "csrf_token": token}).status_code)

    threads = [threading.Thread(target=guess, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_parallel_guesses_are_all_counted(app):
    """A failure is counted before the password is hashed: firing guesses at once gives no extra tries."""
    from engine.signin import PER_PAIR

    answers = _parallel_guesses(app)
    assert answers.count(401) == PER_PAIR and answers.count(429) == len(answers) - PER_PAIR, answers


def test_parallel_guesses_are_all_counted_on_postgres(pg_url):
    make_engine(pg_url)
    from engine.signin import PER_PAIR
    from web import create_app

    app = create_app({"DATABASE_URL": pg_url, "SECRET_KEY": "auth-tests", "TESTING": True})
    answers = _parallel_guesses(app)
    assert answers.count(401) == PER_PAIR and answers.count(429) == len(answers) - PER_PAIR, answers
