"""JSON API /api/v1: the inbox, work items, cases and comments for scripts and other systems.

Same authorization as the engine (it enforces roles and units; views pass `current_actor()`).
Callers sign in with a session cookie (unsafe methods then need the `X-CSRFToken` header) or with
`Authorization: Bearer <token>` (no CSRF). Every error is JSON: {"code", "message", "fields"?}.
The OpenAPI document describing exactly this lives in web/openapi.py and is served at /api/v1/openapi.json.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import MethodNotAllowed

from engine import idempotency
from engine.access import Actor
from engine.casefile import MAX_COMMENT_CHARS, add_comment, case_file
from engine.errors import Conflict, DubanError, Forbidden, InvalidData, NotFound
from engine.inbox import SORTS, TABS, InboxQuery, inbox
from engine.roles import ROLES
from engine.models import Case, WorkItem

from . import openapi
from .auth import csrf, current_actor, engine

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below, from the X-CSRFToken header, only for session-cookie callers

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_TEXT = 200            # query filters and process keys
MAX_PAGE = 100_000
MAX_PER_PAGE = 200
MAX_DB_INT = 2**31 - 1    # ids and versions beyond this cannot exist
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS = re.compile(r"^\d{1,9}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as the IETF draft's examples
BODY = "(请求体)"


class TooLarge(DubanError):
    code = "too_large"
    http_status = 413


# --- authentication, CSRF, body size ---------------------------------------------------------
@bp.before_request
def _authenticate():
    if request.method == "OPTIONS" or request.endpoint == "api.openapi_document":
        return None
    if not current_user.is_authenticated:
        response = jsonify({"code": "unauthorized", "message": "请先登录或提供有效的 API 令牌（Authorization: Bearer <令牌>）"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="duban"'
        return response
    if request.method not in SAFE_METHODS:
        if not g.get("token_auth") and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()  # CSRFError -> 400 {"code": "csrf"} (web/errors.py)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise TooLarge(f"请求体过大，最多 {MAX_BODY_BYTES // 1024} KB")
    return None


@bp.after_app_request
def _allow_header(response):
    # The JSON error handler drops werkzeug's Allow header; RFC 9110 wants it on every 405.
    error = request.routing_exception
    if (response.status_code == 405 and request.path.startswith(bp.url_prefix + "/")
            and isinstance(error, MethodNotAllowed) and error.valid_methods and "Allow" not in response.headers):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


# --- request checking ----------------------------------------------------------------------------
def _bad(message: str, fields: dict[str, list[str]], code: str | None = None) -> InvalidData:
    return InvalidData(message, code=code, details=fields)


def _check_value(value: Any, where: str, depth: int = 0) -> None:
    """Reject what JSON parsers accept but the database and the engine must never see."""
    if depth > MAX_DEPTH:
        raise _bad("请求数据嵌套过深", {where: [f"嵌套不能超过 {MAX_DEPTH} 层"]})
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad("请求数据包含无效数字", {where: ["数字必须是有限值（不接受 NaN、Infinity）"]})
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_value(item, f"{where}.{key}" if where != BODY else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]", depth + 1)


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise _bad("请求数据包含空字符", {where: ["不能包含空字符 (\\u0000)"]})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad("请求数据包含无效的 Unicode 字符", {where: ["不能包含单独的代理字符"]}) from None


def _json_body(fields: dict[str, str], required: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object, checked: only `fields` (name -> kind), `required` present, sane values."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"请求体过大，最多 {MAX_BODY_BYTES // 1024} KB")
    if not request.is_json:
        raise _bad("请求体必须是 JSON (Content-Type: application/json)", {BODY: ["Content-Type 应为 application/json"]},
                   code="invalid_json")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        payload = None
    if payload is None:
        raise _bad("请求体不是有效的 JSON", {BODY: ["无法解析为 JSON 对象"]}, code="invalid_json")
    if not isinstance(payload, dict):
        raise _bad("请求体必须是 JSON 对象", {BODY: ["应为 JSON 对象 ({...})"]})
    _check_value(payload, BODY)
    errors: dict[str, list[str]] = {}
    for key in payload:
        if key not in fields:
            errors[key] = ["不允许的字段"]
    for key in required:
        if key not in payload:
            errors[key] = ["必填项"]
    for key, kind in fields.items():
        if key not in payload or key in errors:
            continue
        problem = _kind_problem(payload[key], kind)
        if problem:
            errors[key] = [problem]
    if errors:
        raise _bad("请求数据不符合要求", errors)
    return payload


def _kind_problem(value: Any, kind: str) -> str | None:
    if kind == "object":
        return None if isinstance(value, dict) else "类型应为 object (JSON 对象)"
    if kind == "version":
        if isinstance(value, bool) or not isinstance(value, int):
            return "类型应为 integer (整数)"
        return None if 1 <= value <= MAX_DB_INT else f"应在 1 到 {MAX_DB_INT} 之间"
    if kind == "key":
        if not isinstance(value, str):
            return "类型应为 string (字符串)"
        return None if 1 <= len(value) <= MAX_TEXT else f"长度应为 1 到 {MAX_TEXT} 个字符"
    if kind == "comment":
        if not isinstance(value, str):
            return "类型应为 string (字符串)"
        if len(value) > MAX_COMMENT_CHARS:
            return f"最多 {MAX_COMMENT_CHARS} 个字符"
        return None if value.strip() else "不能为空"
    raise AssertionError(kind)


def _inbox_query(args) -> InboxQuery:
    """Strict parsing of the inbox filters: a malformed value is an error, never a silent default."""
    errors: dict[str, list[str]] = {}

    def text(name: str) -> str | None:
        value = args.get(name)
        if value is None:
            return None
        if not 1 <= len(value) <= MAX_TEXT or "\x00" in value:
            errors[name] = [f"长度应为 1 到 {MAX_TEXT} 个字符"]
            return None
        return value

    def choice(name: str, allowed, default: str) -> str:
        value = args.get(name)
        if value is None:
            return default
        if value not in allowed:
            errors[name] = [f"可选值：{', '.join(allowed)}"]
            return default
        return value

    def number(name: str, default: int, high: int) -> int:
        value = args.get(name)
        if value is None:
            return default
        if not _DIGITS.match(value) or not 1 <= int(value) <= high:
            errors[name] = [f"应为 1 到 {high} 之间的整数"]
            return default
        return int(value)

    due_before = None
    if args.get("due_before") is not None:
        value = args["due_before"]
        try:
            due_before = date.fromisoformat(value) if _DATE.match(value) else None
        except ValueError:
            due_before = None
        if due_before is None:
            errors["due_before"] = ["日期格式应为 YYYY-MM-DD"]
    overdue = args.get("overdue")
    if overdue is not None and overdue not in ("true", "false"):
        errors["overdue"] = ["应为 true 或 false"]
    query = InboxQuery(
        tab=choice("tab", TABS, "available"), process_key=text("process"), step_id=text("step"), unit=text("unit"),
        due_before=due_before, overdue_only=overdue == "true", sort=choice("sort", tuple(SORTS), "due"),
        page=number("page", 1, MAX_PAGE), per_page=number("per_page", 25, MAX_PER_PAGE),
    )
    if errors:
        raise _bad("查询参数不符合要求", errors)
    return query


# --- views -------------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/tasks")
def list_tasks():
    query = _inbox_query(request.args)
    with engine().db.reading() as session:
        page = inbox(session, current_actor(), query, engine().clock())
        items = [_inbox_item(row.item, row.case_title, row.process_key, row.overdue) for row in page.rows]
    return jsonify({"items": items, "total": page.total, "page": query.page, "per_page": query.per_page,
                    "counts": {tab: page.counts.get(tab, 0) for tab in TABS}})


@bp.get("/tasks/<int:item_id>")
def get_task(item_id: int):
    if not 1 <= item_id <= MAX_DB_INT:
        raise NotFound(f"待办事项不存在：{item_id}")
    item = engine().work_item(item_id, current_actor())  # 404, or 403 outside the actor's roles and units
    view = {key: item[key] for key in _ITEM_KEYS}
    due_at = _parse_iso(item["due_at"])
    case = item["case"]
    view.update(overdue=item["status"] == "ready" and due_at is not None and due_at < engine().clock(),
                status=item["status"], instructions=item["instructions"] or "", form=item["form"],
                may_work=bool(item["may_work"]), completed_at=item["completed_at"], completed_by=item["completed_by"],
                case={key: case[key] for key in ("id", "title", "status", "unit", "lock_version", "data")})
    return jsonify(view)


@bp.post("/tasks/<int:item_id>/claim")
def claim_task(item_id: int):
    actor = current_actor()
    with engine().db.reading() as session:
        item = _item(session, item_id)
        _require_role_and_unit(actor, item)
        _require_ready(item)
        if item.assignee not in (None, actor.username):
            raise Conflict(f"此事项已由 {item.assignee} 签收")
    engine().claim(item_id, actor)
    return "", 204


@bp.post("/tasks/<int:item_id>/release")
def release_task(item_id: int):
    actor = current_actor()
    with engine().db.reading() as session:
        item = _item(session, item_id)
        actor.require_see_work(item)  # supervisors too: only the work of their units
        _require_ready(item)
        if item.assignee is None:
            return "", 204  # nobody holds it: already released
        if not actor.may_release(item):
            raise Conflict(f"此事项已由 {item.assignee} 签收，只有签收人或督办人员可以取消签收")
    engine().release(item_id, actor)
    return "", 204


@bp.post("/tasks/<int:item_id>/complete")
def complete_task(item_id: int):
    body = _json_body({"data": "object", "expected_version": "version"}, required=("data",))
    actor = current_actor()
    with engine().db.reading() as session:
        item = _item(session, item_id)
        _require_role_and_unit(actor, item)
        _require_ready(item)
        if item.assignee not in (None, actor.username) and not actor.operator:
            raise Conflict(f"此事项已由 {item.assignee} 签收")
    case = engine().complete(item_id, body["data"], actor, expected_version=body.get("expected_version"))
    return jsonify({"id": case.id, "status": case.status, "current_steps": _steps(case.current_steps),
                    "lock_version": case.lock_version})


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    if not 1 <= case_id <= MAX_DB_INT:
        raise NotFound(f"项目不存在：{case_id}")
    full = engine().case(case_id, current_actor())
    view = {key: full[key] for key in _CASE_KEYS}
    view["work_items"] = [{key: item[key] for key in _ITEM_KEYS + ("instructions", "form")}
                          for item in full["work_items"]]
    view["history"] = [{key: event[key] for key in _EVENT_KEYS} for event in full["history"]]
    with engine().db.reading() as session:
        attachments, comments = case_file(session, case_id)
        view["comments"] = [_comment(c) for c in comments]
        view["attachments"] = [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                                "uploaded_by": a.uploaded_by, "uploaded_at": _iso(a.uploaded_at),
                                "work_item_id": a.work_item_id} for a in attachments]
    return jsonify(view)


@bp.post("/cases")
def start_case():
    """Start a case; with an `Idempotency-Key` header a retry of the same request answers with the same case."""
    body = _json_body({"process_key": "key", "data": "object"}, required=("process_key", "data"))
    key, actor, eng = _idempotency_key(), current_actor(), engine()
    if key is None:
        return _created(eng.start_case(body["process_key"], body["data"], actor, by_hand=True))
    earlier = idempotency.reserve(eng.db, actor.username, key, body["process_key"], body["data"], eng.clock())
    if earlier is not None:
        response = _created(earlier)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        case_id = eng.start_case(body["process_key"], body["data"], actor, by_hand=True)
    except Exception:
        idempotency.abandon(eng.db, actor.username, key)  # nothing was started: the key may be used again
        raise
    idempotency.finish(eng.db, actor.username, key, case_id)
    return _created(case_id)


def _idempotency_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not _IDEMPOTENCY_KEY.match(raw):
        raise _bad("Idempotency-Key 请求头无效", {"Idempotency-Key": ["应为 1 到 200 个可见 ASCII 字符"]})
    return raw


def _created(case_id: int):
    response = jsonify({"id": case_id})
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_case", case_id=case_id)
    return response


@bp.post("/cases/<int:case_id>/comments")
def add_case_comment(case_id: int):
    body = _json_body({"body": "comment"}, required=("body",))
    actor = current_actor()
    with engine().db.transaction() as session:
        case = session.get(Case, case_id) if 1 <= case_id <= MAX_DB_INT else None
        if case is None:
            raise NotFound(f"项目不存在：{case_id}")
        actor.require_case(case)
        comment = add_comment(session, case_id, body["body"], actor.username, engine().clock())
        view = _comment(comment)
    response = jsonify(view)
    response.status_code = 201
    return response


# --- helpers -----------------------------------------------------------------------------------
_ITEM_KEYS = ("id", "case_id", "case_title", "process_key", "step_id", "step_name", "role", "unit", "assignee",
              "created_at", "due_at")
_CASE_KEYS = ("id", "process_key", "process_name", "version", "title", "unit", "status", "current_steps",
              "lock_version", "started_by", "started_at", "last_activity_at", "completed_at", "data")
_EVENT_KEYS = ("seq", "at", "actor", "kind", "step_id", "step_name", "work_item_id", "before", "after")


def _item(session, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id) if 1 <= item_id <= MAX_DB_INT else None
    if item is None:
        raise NotFound(f"待办事项不存在：{item_id}")
    return item


def _require_role_and_unit(actor: Actor, item: WorkItem) -> None:
    """Actor.require_work without the claim check: someone else's claim is a conflict, not a refusal."""
    if actor.operator:
        return
    if not actor.in_scope(item.unit):
        raise Forbidden("您无权办理此事项")
    if item.role not in actor.roles:
        raise Forbidden(f"您没有办理此步骤所需的角色：{ROLES.get(item.role, item.role)}")


def _require_ready(item: WorkItem) -> None:
    if item.status != "ready":
        text = {"completed": "办结", "cancelled": "取消"}.get(item.status, item.status)
        raise Conflict(f"待办事项 {item.id} 已{text}" + (f" (由 {item.completed_by})" if item.completed_by else ""))


def _inbox_item(item: WorkItem, case_title: str, process_key: str, overdue: bool) -> dict[str, Any]:
    return {
        "id": item.id, "case_id": item.case_id, "case_title": case_title, "process_key": process_key,
        "step_id": item.step_id, "step_name": item.step_name, "role": item.role, "unit": item.unit,
        "assignee": item.assignee, "created_at": _iso(item.created_at), "due_at": _iso(item.due_at),
        "overdue": overdue,
    }


def _comment(comment) -> dict[str, Any]:
    return {"id": comment.id, "case_id": comment.case_id, "author": comment.author, "body": comment.body,
            "at": _iso(comment.at), "work_item_id": comment.work_item_id}


def _steps(current_steps: str) -> list[str]:
    return [s for s in (current_steps or "").split("、") if s]


def _parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.removesuffix("Z")) if text else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None

