"""The JSON API /api/v1: a whole joint audit through the API alone, every error code, and the OpenAPI document."""
from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select

from engine.accounts import add_user
from engine.forms import example_data
from engine.models import Attachment, User
from engine.roles import ROLES
from tests.conftest import CASE_FACTS, make_engine

KEY = "joint_audit_xinghua"
OTHER_UNIT = "clerk_shagou"      # organization role, 沙沟镇 only
SECOND_CLERK = "clerk_org2"      # a second organization clerk, all units
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from web import create_app
    from engine.accounts import issue_token

    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 't.db'}"
    engine = make_engine(url)
    with engine.db.transaction() as session:
        add_user(session, OTHER_UNIT, PASSWORD, ["organization"], ["沙沟镇"])
        add_user(session, SECOND_CLERK, PASSWORD, ["organization"])
    tokens = {}
    with engine.db.transaction() as session:
        for username in [*ROLES, OTHER_UNIT, SECOND_CLERK]:
            user = session.scalar(select(User).where(User.username == username))
            tokens[username] = issue_token(session, user, "tests")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    return {"app": app, "engine": engine, "tokens": tokens}


def call(world, username: str | None, method: str, path: str, body: Any = None, **kwargs):
    headers = dict(kwargs.pop("headers", {}))
    if username:
        headers["Authorization"] = f"Bearer {world['tokens'][username]}"
    if body is not None:
        kwargs["json"] = body
    return world["app"].test_client().open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def start(world, username="organization", **facts) -> int:
    response = call(world, username, "POST", "/cases", {"process_key": KEY, "data": {**CASE_FACTS, **facts}})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    assert response.headers["Location"] == f"/api/v1/cases/{case_id}"
    return case_id


def find_item(world, username: str, case_id: int, step_id: str) -> dict[str, Any]:
    """The work item of `step_id` in this user's inbox (tab=available), found through GET /tasks filters."""
    response = call(world, username, "GET", f"/tasks?process={KEY}&step={step_id}&per_page=200")
    assert response.status_code == 200, response.get_json()
    items = [i for i in response.get_json()["items"] if i["case_id"] == case_id]
    assert len(items) == 1, (username, step_id, response.get_json())
    return items[0]


def work(world, username: str, case_id: int, step_id: str, claim: bool = False, **overrides) -> dict[str, Any]:
    """Complete `step_id` as `username`: read the task's form, fill it, optionally claim first."""
    item = find_item(world, username, case_id, step_id)
    task = call(world, username, "GET", f"/tasks/{item['id']}").get_json()
    assert task["role"] == {OTHER_UNIT: "organization", SECOND_CLERK: "organization"}.get(username, username)
    assert task["status"] == "ready" and task["may_work"] is True and task["form"]["type"] == "object"
    if claim:
        assert call(world, username, "POST", f"/tasks/{item['id']}/claim").status_code == 204
        mine = call(world, username, "GET", f"/tasks?tab=mine&step={step_id}").get_json()["items"]
        assert item["id"] in [i["id"] for i in mine]
    response = call(world, username, "POST", f"/tasks/{item['id']}/complete",
                    {"data": example_data(task["form"], **overrides), "expected_version": task["case"]["lock_version"]})
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()
    assert set(summary) == {"id", "status", "current_steps", "lock_version"} and summary["id"] == case_id
    assert summary["lock_version"] == task["case"]["lock_version"] + 1
    return summary


def ready(world, case_id: int) -> list[tuple[str, str]]:
    view = call(world, "supervisor", "GET", f"/cases/{case_id}").get_json()
    return sorted((i["step_id"], i["role"]) for i in view["work_items"])


def to_reviews(world) -> int:
    case_id = start(world)
    work(world, "organization", case_id, "issue_notice")
    for username in ("organization", "staffing", "audit"):  # 会签 by the three departments
        work(world, username, case_id, f"countersign_notice_{username}")
    for step in ("pre_audit_publicity", "implementation_plan", "entry_meeting"):
        work(world, "organization", case_id, step)
    return case_id


# --- the whole process -----------------------------------------------------------------------------
def test_a_joint_audit_runs_end_to_end_through_the_api(world):
    case_id = start(world)
    assert ready(world, case_id) == [("issue_notice", "organization")]
    work(world, "organization", case_id, "issue_notice", claim=True)
    for username in ("organization", "staffing", "audit"):
        work(world, username, case_id, f"countersign_notice_{username}")
    work(world, "organization", case_id, "pre_audit_publicity")
    work(world, "organization", case_id, "implementation_plan")
    work(world, "organization", case_id, "entry_meeting")
    assert ready(world, case_id) == [("review_establishment", "staffing"), ("review_finance", "audit"),
                                     ("review_personnel", "organization")]
    # The three departments review in parallel, each with its own token; only audit finds a problem.
    work(world, "audit", case_id, "review_finance", claim=True,
         finance_findings=[{"description": "公务接待超标准", "severity": "major", "problem_category": "excess_reception",
                            "responsibility_type": "direct", "demerit_points": 1}])
    work(world, "staffing", case_id, "review_establishment")
    summary = work(world, "organization", case_id, "review_personnel")
    assert summary["current_steps"] and summary["status"] == "running"
    work(world, "organization", case_id, "feedback")
    work(world, "unit", case_id, "confirm_feedback")
    work(world, "organization", case_id, "consolidate", rectification_deadline="2099-03-31")
    comment = call(world, "supervisor", "POST", f"/cases/{case_id}/comments", {"body": "请按期整改到位"})
    assert comment.status_code == 201 and comment.get_json()["author"] == "supervisor"
    engine = world["engine"]
    with engine.db.transaction() as session:
        session.add(Attachment(case_id=case_id, filename="佐证.pdf", content_type="application/pdf", size=1,
                               sha256="0" * 64, uploaded_by="unit", uploaded_at=engine.clock()))
        session.flush()
        evidence = session.scalar(select(Attachment.id).where(Attachment.case_id == case_id))

    for closed in ([], [1]):  # two rounds of rectification; the only item is closed on the second visit
        assert ready(world, case_id) == [("report_rectification", "unit")]
        work(world, "unit", case_id, "report_rectification", claim=not closed, reported_item_nos=closed,
             rectification_report_date="2099-01-10")
        work(world, "audit", case_id, "verify_rectification_audit", finance_closed_item_nos=closed,
             finance_visit_date="2099-01-15", finance_visit_note="回访核实", finance_evidence_ids=[evidence] if closed else [])
        if not closed:
            work(world, "organization", case_id, "set_next_round", next_round_deadline="2099-03-31")
    assert ready(world, case_id) == [("issue_report", "organization")]
    work(world, "organization", case_id, "issue_report")
    for username in ("organization", "staffing", "audit"):
        work(world, username, case_id, f"countersign_report_{username}")
    summary = work(world, "supervisor", case_id, "approve_report")
    assert summary["status"] == "completed" and summary["current_steps"] == []

    view = call(world, "organization", "GET", f"/cases/{case_id}").get_json()
    assert view["status"] == "completed" and view["completed_at"] and view["work_items"] == []
    assert view["data"]["rectification_round"] == 2
    kinds = [e["kind"] for e in view["history"]]
    assert kinds[0] == "case_started" and kinds[-1] == "case_completed"
    assert kinds.count("task_completed") == 7 + 3 + 3 + 2 * 2 + 1 + 5
    assert kinds.count("task_claimed") == 3 and "comment_added" in kinds
    assert [e["actor"] for e in view["history"] if e["kind"] == "task_completed" and e["step_id"] == "report_rectification"] == ["unit", "unit"]
    assert [c["body"] for c in view["comments"]] == ["请按期整改到位"]
    assert [e["seq"] for e in view["history"]] == sorted(e["seq"] for e in view["history"])
    # Nothing of the finished case is left in anyone's inbox.
    for username in ("organization", "audit", "unit", "supervisor"):
        items = call(world, username, "GET", "/tasks?tab=all&per_page=200").get_json()["items"]
        assert case_id not in [i["case_id"] for i in items]


def test_inbox_pages_filters_and_counts(world):
    case_id = start(world, unit="临城镇")
    response = call(world, "organization", "GET", "/tasks?unit=临城镇&tab=all&sort=-created&page=1&per_page=1")
    body = response.get_json()
    assert response.status_code == 200 and body["page"] == 1 and body["per_page"] == 1
    assert body["total"] == 1 and body["counts"] == {"mine": 0, "available": 1, "all": 1}
    (item,) = body["items"]
    assert item["case_id"] == case_id and item["step_id"] == "issue_notice" and item["overdue"] is False
    assert set(item) == {"id", "case_id", "case_title", "process_key", "step_id", "step_name", "role", "unit",
                         "assignee", "created_at", "due_at", "overdue"}
    assert call(world, "organization", "GET", "/tasks?unit=临城镇&page=2&per_page=1").get_json()["items"] == []
    assert call(world, "organization", "GET", "/tasks?unit=临城镇&overdue=true").get_json()["total"] == 0
    assert call(world, "organization", "GET", "/tasks?unit=临城镇&due_before=2000-01-01").get_json()["total"] == 0
    assert call(world, "organization", "GET", "/tasks?unit=临城镇&due_before=2999-01-01&overdue=false").get_json()["total"] == 1
    assert call(world, "audit", "GET", "/tasks?unit=临城镇").get_json()["total"] == 0  # not the audit bureau's step
    assert call(world, "organization", "GET", "/tasks?unit=临城镇&tab=mine").get_json()["total"] == 0


# --- errors ----------------------------------------------------------------------------------------
def test_unauthenticated_calls_get_401_json_not_a_redirect(world):
    case_id = start(world)
    for method, path in [("GET", "/tasks"), ("GET", "/tasks/1"), ("GET", f"/cases/{case_id}"),
                         ("POST", "/cases"), ("POST", "/tasks/1/claim"), ("POST", f"/cases/{case_id}/comments")]:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic b3JnOmRlbW8="}):
            response = call(world, None, method, path, {"body": "x"}, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.get_json()["code"] == "unauthorized" and response.get_json()["message"]
    assert call(world, None, "GET", "/openapi.json").status_code == 200  # the document is public


def test_wrong_role_and_other_units_get_403(world):
    case_id = start(world)
    item = find_item(world, "organization", case_id, "issue_notice")
    data = {"data": example_data(call(world, "organization", "GET", f"/tasks/{item['id']}").get_json()["form"])}
    # The audit bureau cannot do the organization department's step.
    for method, path, body in [("POST", f"/tasks/{item['id']}/complete", data), ("GET", f"/tasks/{item['id']}", None),
                               ("POST", f"/tasks/{item['id']}/claim", None)]:
        response = call(world, "audit", method, path, body)
        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["code"] == "forbidden"
    # An organization clerk of 沙沟镇 cannot see or work a 戴窑镇 case.
    for method, path, body in [("GET", f"/cases/{case_id}", None), ("GET", f"/tasks/{item['id']}", None),
                               ("POST", f"/tasks/{item['id']}/complete", data),
                               ("POST", f"/tasks/{item['id']}/claim", None),
                               ("POST", f"/cases/{case_id}/comments", {"body": "越权意见"}),
                               ("POST", "/cases", {"process_key": KEY, "data": dict(CASE_FACTS)})]:
        response = call(world, OTHER_UNIT, method, path, body)
        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["code"] == "forbidden"
    assert case_id not in [i["case_id"] for i in call(world, OTHER_UNIT, "GET", "/tasks?tab=all").get_json()["items"]]
    # ... but can start and work a case of its own unit.
    own = start(world, OTHER_UNIT, unit="沙沟镇")
    work(world, OTHER_UNIT, own, "issue_notice", claim=True)
    assert call(world, "designer", "GET", f"/cases/{case_id}").status_code == 403  # designers edit processes only


def test_unknown_ids_get_404(world):
    for method, path, body in [("GET", "/tasks/999999", None), ("POST", "/tasks/999999/claim", None),
                               ("POST", "/tasks/999999/release", None), ("POST", "/tasks/999999/complete", {"data": {}}),
                               ("GET", "/cases/999999", None), ("POST", "/cases/999999/comments", {"body": "意见"}),
                               ("GET", "/cases/0", None), ("GET", "/cases/99999999999999999999999", None),
                               ("POST", "/cases", {"process_key": "no_such_process", "data": {}}),
                               ("GET", "/no-such-endpoint", None), ("GET", "/tasks/abc", None)]:
        response = call(world, "organization", method, path, body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.get_json()["code"] == "not_found"


def test_conflicts_get_409(world):
    case_id = start(world)
    item = find_item(world, "organization", case_id, "issue_notice")
    form = call(world, "organization", "GET", f"/tasks/{item['id']}").get_json()["form"]
    # Someone else's claim: claiming, completing and releasing it are conflicts.
    assert call(world, "organization", "POST", f"/tasks/{item['id']}/claim").status_code == 204
    assert call(world, "organization", "POST", f"/tasks/{item['id']}/claim").status_code == 204  # idempotent
    for path, body in [("claim", None), ("release", None), ("complete", {"data": example_data(form)})]:
        response = call(world, SECOND_CLERK, "POST", f"/tasks/{item['id']}/{path}", body)
        assert response.status_code == 409, (path, response.get_json())
        assert response.get_json()["code"] == "conflict" and "organization" in response.get_json()["message"]
    available = call(world, SECOND_CLERK, "GET", "/tasks?tab=available&per_page=200").get_json()["items"]
    assert item["id"] not in [i["id"] for i in available]  # a claimed item leaves the others' inboxes
    # The supervisor may take it back; then the second clerk can have it.
    assert call(world, "supervisor", "POST", f"/tasks/{item['id']}/release").status_code == 204
    assert call(world, SECOND_CLERK, "POST", f"/tasks/{item['id']}/claim").status_code == 204
    assert call(world, SECOND_CLERK, "POST", f"/tasks/{item['id']}/release").status_code == 204
    assert call(world, SECOND_CLERK, "POST", f"/tasks/{item['id']}/release").status_code == 204  # nothing to release
    # Completing twice.
    first = call(world, "organization", "POST", f"/tasks/{item['id']}/complete", {"data": example_data(form)})
    assert first.status_code == 200
    for username, path, body in [("organization", "complete", {"data": example_data(form)}),
                                 (SECOND_CLERK, "complete", {"data": example_data(form)}),
                                 ("organization", "claim", None), ("organization", "release", None)]:
        response = call(world, username, "POST", f"/tasks/{item['id']}/{path}", body)
        assert response.status_code == 409, (username, path, response.get_json())
        assert "办结" in response.get_json()["message"]
    task = call(world, "organization", "GET", f"/tasks/{item['id']}").get_json()
    assert task["status"] == "completed" and task["completed_by"] == "organization" and task["may_work"] is False


def test_stale_expected_version_gets_409(world):
    case_id = to_reviews(world)
    personnel = find_item(world, "organization", case_id, "review_personnel")
    seen = call(world, "organization", "GET", f"/tasks/{personnel['id']}").get_json()
    work(world, "audit", case_id, "review_finance")  # the case moves on meanwhile
    response = call(world, "organization", "POST", f"/tasks/{personnel['id']}/complete",
                    {"data": example_data(seen["form"]), "expected_version": seen["case"]["lock_version"]})
    assert response.status_code == 409 and response.get_json()["code"] == "conflict"
    assert "版本" in response.get_json()["message"]
    fresh = call(world, "organization", "GET", f"/tasks/{personnel['id']}").get_json()["case"]["lock_version"]
    assert fresh == seen["case"]["lock_version"] + 1
    response = call(world, "organization", "POST", f"/tasks/{personnel['id']}/complete",
                    {"data": example_data(seen["form"]), "expected_version": fresh})
    assert response.status_code == 200


def test_invalid_form_data_names_the_field(world):
    case_id = to_reviews(world)
    item = find_item(world, "audit", case_id, "review_finance")
    form = call(world, "audit", "GET", f"/tasks/{item['id']}").get_json()["form"]
    for data, field in [(example_data(form, finance_score=101), "finance_score"),
                        ({k: v for k, v in example_data(form).items() if k != "finance_summary"}, "finance_summary"),
                        (example_data(form, finance_findings=[{"description": "x", "severity": "tiny"}]),
                         "finance_findings[0].severity"),
                        (example_data(form, surprise=1), "(表单)")]:
        response = call(world, "audit", "POST", f"/tasks/{item['id']}/complete", {"data": data})
        body = response.get_json()
        assert response.status_code == 400 and body["code"] == "invalid_data", body
        assert field in body["fields"] and all(isinstance(m, str) for m in body["fields"][field]), body
    response = call(world, "organization", "POST", "/cases",
                    {"process_key": KEY, "data": {k: v for k, v in CASE_FACTS.items() if k != "cadre_name"}})
    assert response.status_code == 400 and "cadre_name" in response.get_json()["fields"]
    response = call(world, "organization", "POST", f"/cases/{case_id}/comments", {"body": "   "})
    assert response.status_code == 400 and "body" in response.get_json()["fields"]
    assert call(world, "audit", "GET", f"/tasks/{item['id']}").get_json()["status"] == "ready"  # nothing changed


BAD_BODIES = [
    # (path kind, raw body or JSON value, content type, field named in `fields`)
    ("complete", "not json at all", "text/plain", "(请求体)"),
    ("complete", "{\"data\": ", "application/json", "(请求体)"),
    ("complete", "[1, 2]", "application/json", "(请求体)"),
    ("complete", "\"data\"", "application/json", "(请求体)"),
    ("complete", "null", "application/json", "(请求体)"),
    ("complete", {"data": [1]}, None, "data"),
    ("complete", {"data": "x"}, None, "data"),
    ("complete", {}, None, "data"),
    ("complete", {"data": {}, "expected_version": "3"}, None, "expected_version"),
    ("complete", {"data": {}, "expected_version": True}, None, "expected_version"),
    ("complete", {"data": {}, "expected_version": 1.5}, None, "expected_version"),
    ("complete", {"data": {}, "expected_version": 0}, None, "expected_version"),
    ("complete", {"data": {}, "expected_version": 10**30}, None, "expected_version"),
    ("complete", {"data": {}, "extra": 1}, None, "extra"),
    ("complete", "{\"data\": {\"x\": NaN}}", "application/json", "x"),
    ("complete", "{\"data\": {\"x\": 1e999}}", "application/json", "x"),
    ("complete", {"data": {"x": "a\u0000b"}}, None, "x"),
    ("complete", "{\"data\": {\"x\": \"\\ud800\"}}", "application/json", "x"),
    ("complete", {"data": json.loads("[" * 40 + "]" * 40)}, None, "data"),
    ("start", {"process_key": 7, "data": {}}, None, "process_key"),
    ("start", {"process_key": "", "data": {}}, None, "process_key"),
    ("start", {"process_key": "k" * 201, "data": {}}, None, "process_key"),
    ("start", {"process_key": KEY, "data": None}, None, "data"),
    ("start", {"process_key": KEY}, None, "data"),
    ("start", {"data": {}}, None, "process_key"),
    ("comment", {"body": 5}, None, "body"),
    ("comment", {"body": "意" * 4001}, None, "body"),
    ("comment", {"body": ""}, None, "body"),
    ("comment", {}, None, "body"),
    ("comment", "", "application/json", "(请求体)"),
]


@pytest.mark.parametrize("kind, body, content_type, field", BAD_BODIES)
def test_malformed_bodies_get_400_naming_the_field(world, kind, body, content_type, field):
    case_id = start(world)
    item = find_item(world, "organization", case_id, "issue_notice")
    path = {"complete": f"/tasks/{item['id']}/complete", "start": "/cases", "comment": f"/cases/{case_id}/comments"}[kind]
    if content_type:
        response = call(world, "organization", "POST", path, data=body, content_type=content_type)
    else:
        response = call(world, "organization", "POST", path, body)
    payload = response.get_json()
    assert response.status_code == 400, payload
    assert payload["code"] in ("invalid_data", "invalid_json") and payload["message"]
    assert any(name == field or name.startswith(field + ".") or name.endswith("." + field) or field in name
               for name in payload["fields"]), payload
    assert ready(world, case_id) == [("issue_notice", "organization")]


def test_oversized_bodies_get_413(world):
    response = call(world, "organization", "POST", "/cases", {"process_key": KEY, "data": {"x": "字" * 600_000}})
    assert response.status_code == 413 and response.get_json()["code"] == "too_large"


@pytest.mark.parametrize("query, field", [
    ("page=abc", "page"), ("page=0", "page"), ("page=-1", "page"), ("page=1.5", "page"), ("page=100001", "page"),
    ("per_page=0", "per_page"), ("per_page=201", "per_page"), ("per_page=", "per_page"),
    ("due_before=notadate", "due_before"), ("due_before=2026-13-01", "due_before"), ("due_before=20260101", "due_before"),
    ("tab=xyz", "tab"), ("tab=", "tab"), ("sort=up", "sort"), ("overdue=maybe", "overdue"), ("overdue=1", "overdue"),
    ("process=", "process"), ("step=" + "s" * 201, "step"), ("unit=%00", "unit"),
])
def test_malformed_query_params_get_400(world, query, field):
    response = call(world, "organization", "GET", f"/tasks?{query}")
    body = response.get_json()
    assert response.status_code == 400 and body["code"] == "invalid_data", body
    assert list(body["fields"]) == [field]


def test_session_cookie_writes_need_the_csrf_header(world):
    client = world["app"].test_client()
    assert world["app"].config.get("WTF_CSRF_ENABLED", True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    signed_in = client.post("/login", data={"username": "organization", "password": "demo", "csrf_token": token})
    assert signed_in.status_code == 302
    assert client.get("/api/v1/tasks").status_code == 200  # reads need no token
    body = {"process_key": KEY, "data": dict(CASE_FACTS)}
    response = client.post("/api/v1/cases", json=body)
    assert response.status_code == 400 and response.get_json()["code"] == "csrf"
    response = client.post("/api/v1/cases", json=body, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400 and response.get_json()["code"] == "csrf"
    # Signing in started a new session with a new CSRF token: the one from before is refused.
    response = client.post("/api/v1/cases", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.get_json()["code"] == "csrf"
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    response = client.post("/api/v1/cases", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_json()
    # A bearer token needs no CSRF token (it is not sent by browsers on their own).
    assert call(world, "organization", "POST", "/cases", body).status_code == 201


def test_unsupported_methods_get_405_with_allow(world):
    response = call(world, "organization", "DELETE", "/tasks")
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    response = call(world, "organization", "GET", "/cases")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


# --- the OpenAPI document ----------------------------------------------------------------------------
def _document(world) -> dict[str, Any]:
    response = call(world, None, "GET", "/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_openapi_document_is_a_valid_openapi_3_document(world):
    doc = _document(world)
    assert doc["openapi"].startswith("3.0")
    try:
        from openapi_spec_validator import validate  # not installed here; used when present
    except ImportError:
        # The official OpenAPI 3.0 meta-schema, as shipped with schemathesis.
        from schemathesis.specs.openapi.definitions import OPENAPI_30

        jsonschema.validators.validator_for(OPENAPI_30)(OPENAPI_30).validate(doc)
    else:
        validate(doc)
    # Every $ref resolves; every schema is itself a valid JSON Schema (draft 4 is the 3.0 base).
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft4Validator.check_schema(schema)
    assert set(doc["components"]["securitySchemes"]) >= {"bearerAuth", "cookieAuth"}
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {**doc["components"]["securitySchemes"]["bearerAuth"],
                                                                  "type": "http", "scheme": "bearer"}
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["code"]["type"] == "string" and error["properties"]["message"]["type"] == "string"
    assert error["properties"]["fields"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_every_api_route_is_documented_with_its_methods(world):
    doc = _document(world)
    routes: dict[str, set[str]] = {}
    for rule in world["app"].url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    documented = {path: {m for m in item if m in ("get", "post", "put", "patch", "delete")}
                  for path, item in doc["paths"].items()}
    assert routes == documented
    for path, item in doc["paths"].items():
        path_params = set(re.findall(r"{(\w+)}", path))
        for method in documented[path]:
            operation = item[method]
            params = item.get("parameters", []) + operation.get("parameters", [])
            assert {p["name"] for p in params if p["in"] == "path"} == path_params, path
            responses = operation["responses"]
            if path == "/api/v1/openapi.json":
                assert operation["security"] == [] and set(responses) == {"200"}
                continue
            assert {"401"} <= set(responses) and any(code.startswith("2") for code in responses), path
            for code, response in responses.items():
                if code[0] in "45":
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            if method == "post":
                assert "400" in responses  # CSRF for cookie sessions, or bad bodies
    posts = {path for path, methods in documented.items() if "post" in methods}
    for path in posts:
        if "requestBody" in doc["paths"][path]["post"]:
            assert doc["paths"][path]["post"]["requestBody"]["required"] is True
            assert "413" in doc["paths"][path]["post"]["responses"]
    assert "422" in doc["paths"]["/api/v1/tasks/{item_id}/complete"]["post"]["responses"]
    assert "409" in doc["paths"]["/api/v1/tasks/{item_id}/complete"]["post"]["responses"]
