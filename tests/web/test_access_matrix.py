"""Every role × every page and API route: who may see or change a piece of work, and who gets 403.

One case of 戴窑镇 waits at the organization's first step; a second clerk of the organization
department is scoped to 沙沟镇 only. Each row says which users get in (2xx/3xx) — everyone else
must get 403, never a page showing the work and never a 500.
"""
from __future__ import annotations


import pytest

from engine.accounts import add_user
from engine.casefile import Upload, add_attachment
from engine.roles import ROLES
from tests.conftest import CASE_FACTS, as_user, make_engine

OTHER_UNIT = "clerk_shagou"
USERS = list(ROLES) + [OTHER_UNIT]
CLERKS = set(ROLES) - {"designer"}  # every role that works cases, in all units
ORG = {"organization", "supervisor"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    url = f"sqlite:///{tmp / 'm.db'}"
    engine = make_engine(url)
    with engine.db.transaction() as s:
        add_user(s, OTHER_UNIT, "correct horse battery", ["organization"], ["沙沟镇"])
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    (item,) = engine.tasks(case_id=case_id)
    with engine.db.transaction() as s:
        attachment = add_attachment(s, case_id, Upload("通知.pdf", b"%PDF-1.4 test"), "organization", engine.clock(),
                                    root=tmp / "files").id
    from web import create_app

    import os
    os.environ["DUBAN_ATTACHMENTS"] = str(tmp / "files")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "matrix", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return {"app": app, "engine": engine, "case": case_id, "item": item["id"], "attachment": attachment}


def _client(world, username):
    client = world["app"].test_client()
    password = "correct horse battery" if username == OTHER_UNIT else "demo"
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, (username, response.status_code)
    return client


# (method, path template, users allowed, body) — reads first, then writes that change nothing lasting.
PAGES = [
    ("GET", "/", set(USERS), None),
    ("GET", "/tasks/{item}", ORG, None),
    ("GET", "/cases/", set(USERS), None),
    ("GET", "/cases/{case}", CLERKS, None),
    ("GET", "/cases/{case}/diagram.bpmn", CLERKS, None),
    ("GET", "/cases/attachments/{attachment}", CLERKS, None),
    ("POST", "/cases/{case}/comments", CLERKS, {"body": "请按期整改"}),
    ("POST", "/work-items/{item}/claim", {"organization"}, None),
    ("POST", "/work-items/{item}/release", {"organization", "supervisor"}, None),
]
API = [
    ("GET", "/api/v1/tasks", set(USERS), None),
    ("GET", "/api/v1/tasks/{item}", ORG, None),
    ("GET", "/api/v1/cases/{case}", CLERKS, None),
    ("POST", "/api/v1/cases/{case}/comments", CLERKS, {"body": "请按期整改"}),
    ("POST", "/api/v1/tasks/{item}/claim", {"organization"}, {}),
    ("POST", "/api/v1/tasks/{item}/release", {"organization", "supervisor"}, {}),
]


@pytest.mark.parametrize("username", USERS)
def test_pages_by_role(world, username):
    client = _client(world, username)
    for method, template, allowed, body in PAGES:
        path = template.format(**world)
        response = client.open(path, method=method, data=body or {})
        if username in allowed:
            assert response.status_code < 400, (username, method, path, response.status_code)
        else:
            assert response.status_code == 403, (username, method, path, response.status_code)
            assert "办理" not in response.get_data(as_text=True) or method == "POST"


@pytest.mark.parametrize("username", USERS)
def test_api_by_role(world, username):
    from engine.accounts import issue_token

    engine = world["engine"]
    from sqlalchemy import select
    from engine.models import User

    with engine.db.transaction() as s:
        token = issue_token(s, s.scalar(select(User).where(User.username == username)), "matrix")
    client = world["app"].test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for method, template, allowed, body in API:
        path = template.format(**world)
        response = client.open(path, method=method, json=body, headers=headers)
        if username in allowed:
            assert response.status_code < 400, (username, method, path, response.status_code, response.get_json())
        else:
            assert response.status_code == 403, (username, method, path, response.status_code)
            assert response.get_json()["code"] == "forbidden"


def test_other_units_work_is_invisible_in_lists(world):
    client = _client(world, OTHER_UNIT)
    inbox = client.get("/").get_data(as_text=True)
    assert "戴窑镇" not in inbox and "张伟" not in inbox
    cases = client.get("/cases/").get_data(as_text=True)
    assert "张伟" not in cases
    assert "张伟" in _client(world, "organization").get("/").get_data(as_text=True)


def test_unauthenticated_requests_are_sent_to_sign_in(world):
    client = world["app"].test_client()
    for path in ("/", f"/tasks/{world['item']}", f"/cases/{world['case']}", "/cases/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/tasks").status_code == 401


# --- a supervisor limited to one unit ------------------------------------------------------------------
SCOPED_SUPERVISOR = "sup_shagou"


@pytest.fixture(scope="module")
def two_units(tmp_path_factory):
    """A case of 沙沟镇 (the supervisor's unit) and one of 戴窑镇 (not), each with a claimed item and a file."""
    tmp = tmp_path_factory.mktemp("scope")
    url = f"sqlite:///{tmp / 's.db'}"
    engine = make_engine(url)
    with engine.db.transaction() as s:
        add_user(s, SCOPED_SUPERVISOR, "correct horse battery", ["supervisor"], ["沙沟镇"])
    organization = as_user(engine, "organization")
    world = {}
    for name, unit, cadre in (("own", "沙沟镇", "沈一"), ("other", "戴窑镇", "戴二")):
        case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, unit=unit, cadre_name=cadre), organization)
        (item,) = engine.tasks(case_id=case_id)
        engine.claim(item["id"], organization)
        with engine.db.transaction() as s:
            attachment = add_attachment(s, case_id, Upload("通知.pdf", b"%PDF-1.4 test"), "organization",
                                        engine.clock(), root=tmp / "files").id
        world[name] = {"case": case_id, "item": item["id"], "attachment": attachment}
    import os

    os.environ["DUBAN_ATTACHMENTS"] = str(tmp / "files")
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "scope", "TESTING": True, "WTF_CSRF_ENABLED": False})
    return {"app": app, "engine": engine, **world}


SCOPED_ROUTES = [
    ("GET", "/cases/{case}", None),
    ("GET", "/cases/{case}/diagram.bpmn", None),
    ("GET", "/cases/attachments/{attachment}", None),
    ("GET", "/tasks/{item}", None),
    ("GET", "/api/v1/cases/{case}", None),
    ("GET", "/api/v1/tasks/{item}", None),
    ("POST", "/api/v1/cases/{case}/comments", {"body": "请按期整改"}),
    ("POST", "/work-items/{item}/reassign", {"username": "organization"}),
    ("POST", "/work-items/{item}/release", None),
    ("POST", "/api/v1/tasks/{item}/release", {}),
]


def test_a_supervisor_limited_to_a_unit_sees_and_moves_only_that_units_work(two_units):
    client = two_units["app"].test_client()
    assert client.post("/login", data={"username": SCOPED_SUPERVISOR, "password": "correct horse battery"}
                       ).status_code == 302
    for method, template, body in SCOPED_ROUTES:
        other = template.format(**two_units["other"])
        kwargs = {"json": body} if other.startswith("/api/") else {"data": body or {}}
        response = client.open(other, method=method, **kwargs)
        assert response.status_code == 403, (method, other, response.status_code)
        # The refusal names neither the other unit nor its case (a clerk must not map ids to units).
        page = str(response.get_json()) if response.is_json else response.get_data(as_text=True)
        assert "戴窑镇" not in page and "戴二" not in page, (other, page[:300])
        own = template.format(**two_units["own"])
        response = client.open(own, method=method, **kwargs)
        assert response.status_code < 400, (method, own, response.status_code)
    with two_units["engine"].db.reading() as s:
        from engine.models import WorkItem

        assert s.get(WorkItem, two_units["other"]["item"]).assignee == "organization"  # not released
    inbox = client.get("/?tab=all").get_data(as_text=True)
    assert "沈一" in inbox and "戴二" not in inbox
    listed = client.get("/api/v1/tasks?tab=all").get_json()["items"]
    assert {i["case_id"] for i in listed} == {two_units["own"]["case"]}
    assert "戴二" not in client.get("/cases/").get_data(as_text=True)
