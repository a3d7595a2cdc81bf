"""The OpenAPI 3.0.3 document of /api/v1: exactly what web/api.py accepts and returns.

tests/web/test_api.py checks that every route of the blueprint is described here with its methods,
and tests/web/test_api_schemathesis.py fuzzes the live API against this document.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from engine.casefile import MAX_COMMENT_CHARS
from engine.inbox import SORTS, TABS

MAX_TEXT = 200
MAX_PAGE = 100_000
MAX_PER_PAGE = 200
MAX_DB_INT = 2**31 - 1

_DATETIME = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601 (如 2026-11-25T08:00:00Z)"}
_NULLABLE_DATETIME = {**_DATETIME, "nullable": True}
_NULLABLE_TEXT = {"type": "string", "nullable": True}

_CASE_STATUSES = ["running", "completed", "error", "suspended", "terminated"]
# The fields every view of a work item carries (inbox row, task detail, a case's open work).
_ITEM_CORE = {
    "id": {"type": "integer"},
    "case_id": {"type": "integer"},
    "case_title": {"type": "string"},
    "process_key": {"type": "string"},
    "step_id": {"type": "string"},
    "step_name": {"type": "string"},
    "role": {"type": "string"},
    "unit": {"type": "string"},
    "assignee": _NULLABLE_TEXT,
    "created_at": _DATETIME,
    "due_at": _NULLABLE_DATETIME,
}

_JSON_OBJECT = {"type": "object", "additionalProperties": True}

_ERROR_TEXT = {
    400: "请求无效：参数或请求体不符合要求（code=invalid_data, 附 fields）、请求体不是 JSON (code=invalid_json)，"
         "或会话登录的写请求缺少 X-CSRFToken (code=csrf)",
    401: "未登录或 API 令牌无效 (code=unauthorized)",
    403: "没有所需的角色或单位权限 (code=forbidden)",
    404: "对象不存在 (code=not_found)",
    409: "冲突：事项已办结/取消、已由他人签收，或项目版本已变化 (code=conflict)",
    413: "请求体超过 1 MB (code=too_large)",
    422: "引擎执行步骤失败，未做任何更改 (code=step_failed)",
}


def _error(status: int) -> dict[str, Any]:
    return {"description": _ERROR_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, ref: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    out = dict(ok)
    for status in sorted({401, *errors}):
        out[str(status)] = _error(status)
    return out


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1}}


def _body(ref: str, description: str) -> dict[str, Any]:
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_TEXT_FILTER = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": "所有错误的统一格式",
        "required": ["code", "message"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "description": "稳定的错误代码，如 invalid_data、forbidden、not_found、conflict",
                     "example": "invalid_data"},
            "message": {"type": "string", "description": "中文说明"},
            "fields": {"type": "object", "description": "字段 -> 问题列表（仅数据错误时出现）",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
    },
    "InboxItem": {
        "type": "object",
        "description": "待办列表中的一个事项",
        "required": ["id", "case_id", "case_title", "process_key", "step_id", "step_name", "role", "unit",
                     "assignee", "created_at", "due_at", "overdue"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "description": "待办事项 ID"},
            "case_id": {"type": "integer"},
            "case_title": {"type": "string"},
            "process_key": {"type": "string"},
            "step_id": {"type": "string"},
            "step_name": {"type": "string"},
            "role": {"type": "string", "description": "办理此步骤所需的角色"},
            "unit": {"type": "string", "description": "被审单位"},
            "assignee": {**_NULLABLE_TEXT, "description": "签收人; null 表示未签收"},
            "created_at": _DATETIME,
            "due_at": _NULLABLE_DATETIME,
            "overdue": {"type": "boolean"},
        },
    },
    "Inbox": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "counts"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/InboxItem"}},
            "total": {"type": "integer", "minimum": 0, "description": "当前标签页 (tab) 在筛选条件下的事项总数"},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "counts": {
                "type": "object",
                "description": "各标签页在同样筛选条件下的事项数",
                "required": list(TABS),
                "additionalProperties": False,
                "properties": {tab: {"type": "integer", "minimum": 0} for tab in TABS},
            },
        },
    },
    "Task": {
        "type": "object",
        "description": "一个待办事项，含表单定义和办理说明",
        "required": ["id", "case_id", "case_title", "process_key", "step_id", "step_name", "role", "unit",
                     "assignee", "created_at", "due_at", "overdue", "status", "instructions", "form",
                     "may_work", "completed_at", "completed_by", "case"],
        "additionalProperties": False,
        "properties": {
            **_ITEM_CORE,
            "overdue": {"type": "boolean"},
            "status": {"type": "string", "enum": ["ready", "completed", "cancelled"]},
            "instructions": {"type": "string", "description": "办理说明"},
            "form": {**_JSON_OBJECT, "nullable": True,
                     "description": "此步骤表单的 JSON Schema (draft 2020-12); null 表示无表单"},
            "may_work": {"type": "boolean", "description": "当前用户现在能否签收或办理此事项"},
            "completed_at": _NULLABLE_DATETIME,
            "completed_by": _NULLABLE_TEXT,
            "case": {
                "type": "object",
                "description": "事项所属项目的概要",
                "required": ["id", "title", "status", "unit", "lock_version", "data"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string"},
                    "status": {"type": "string", "enum": _CASE_STATUSES},
                    "unit": {"type": "string"},
                    "lock_version": {"type": "integer", "minimum": 1,
                                     "description": "项目当前版本，可作为办理时的 expected_version"},
                    "data": {**_JSON_OBJECT, "description": "项目数据（流程变量）"},
                },
            },
        },
    },
    "CaseWorkItem": {
        "type": "object",
        "required": ["id", "case_id", "case_title", "process_key", "step_id", "step_name", "role", "unit",
                     "assignee", "created_at", "due_at", "instructions", "form"],
        "additionalProperties": False,
        "properties": {
            **_ITEM_CORE,
            "instructions": {"type": "string"},
            "form": {**_JSON_OBJECT, "nullable": True},
        },
    },
    "Event": {
        "type": "object",
        "description": "项目历史中的一条记录",
        "required": ["seq", "at", "actor", "kind", "step_id", "step_name", "work_item_id", "before", "after"],
        "additionalProperties": False,
        "properties": {
            "seq": {"type": "integer"},
            "at": _DATETIME,
            "actor": {"type": "string"},
            "kind": {"type": "string", "description": "如 case_started、task_ready、task_claimed、task_completed、"
                                                      "comment_added、case_completed、case_migrated（迁移至另一版本）"},
            "step_id": _NULLABLE_TEXT,
            "step_name": _NULLABLE_TEXT,
            "work_item_id": {"type": "integer", "nullable": True},
            "before": {**_JSON_OBJECT, "nullable": True},
            "after": {**_JSON_OBJECT, "nullable": True},
        },
    },
    "Comment": {
        "type": "object",
        "required": ["id", "case_id", "author", "body", "at", "work_item_id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "case_id": {"type": "integer"},
            "author": {"type": "string"},
            "body": {"type": "string"},
            "at": _DATETIME,
            "work_item_id": {"type": "integer", "nullable": True},
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["id", "filename", "content_type", "size", "uploaded_by", "uploaded_at", "work_item_id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer", "minimum": 0},
            "uploaded_by": {"type": "string"},
            "uploaded_at": _DATETIME,
            "work_item_id": {"type": "integer", "nullable": True},
        },
    },
    "Case": {
        "type": "object",
        "description": "项目：状态、当前步骤、待办事项、完整历史和案卷",
        "required": ["id", "process_key", "process_name", "version", "title", "unit", "status", "current_steps",
                     "lock_version", "started_by", "started_at", "last_activity_at", "completed_at", "data",
                     "work_items", "history", "comments", "attachments"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "process_key": {"type": "string"},
            "process_name": {"type": "string"},
            "version": {"type": "integer", "description": "流程版本号"},
            "title": {"type": "string"},
            "unit": {"type": "string"},
            "status": {"type": "string", "enum": _CASE_STATUSES},
            "current_steps": {"type": "array", "items": {"type": "string"}},
            "lock_version": {"type": "integer", "minimum": 1},
            "started_by": {"type": "string"},
            "started_at": _DATETIME,
            "last_activity_at": _DATETIME,
            "completed_at": _NULLABLE_DATETIME,
            "data": {**_JSON_OBJECT, "description": "项目数据（流程变量）"},
            "work_items": {"type": "array", "items": {"$ref": "#/components/schemas/CaseWorkItem"}},
            "history": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
            "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
        },
    },
    "CaseSummary": {
        "type": "object",
        "required": ["id", "status", "current_steps", "lock_version"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": _CASE_STATUSES},
            "current_steps": {"type": "array", "items": {"type": "string"}},
            "lock_version": {"type": "integer", "minimum": 1},
        },
    },
    "Created": {
        "type": "object",
        "required": ["id"],
        "additionalProperties": False,
        "properties": {"id": {"type": "integer", "minimum": 1}},
    },
    "CompleteRequest": {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "data": {**_JSON_OBJECT, "description": "表单数据，按事项的 form (JSON Schema) 校验"},
            "expected_version": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT,
                                 "description": "乐观锁：项目版本与此不同时返回 409"},
        },
    },
    "StartCaseRequest": {
        "type": "object",
        "required": ["process_key", "data"],
        "additionalProperties": False,
        "properties": {
            "process_key": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT,
                            "description": "已部署流程的标识，如 joint_audit_xinghua"},
            "data": {**_JSON_OBJECT, "description": "立项数据，按流程的立项表单校验"},
        },
    },
    "CommentRequest": {
        "type": "object",
        "required": ["body"],
        "additionalProperties": False,
        "properties": {
            "body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT_CHARS, "pattern": r"\S",
                     "description": "意见内容（不能只有空白）"},
        },
    },
}

_START_EXAMPLE = {
    "process_key": "joint_audit_xinghua",
    "data": {"cadre_name": "张伟", "post": "镇党委书记", "unit": "戴窑镇", "unit_level": "town",
             "audit_type": "leaving", "leaving_reason": "promoted", "years_in_post": 4,
             "unit_principal": "李强", "unit_deputy": "王芳"},
}

_TASK_ID = _path_id("item_id", "待办事项 ID")
_CASE_ID = _path_id("case_id", "项目 ID")

_PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi_document", "summary": "本接口的 OpenAPI 文档", "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.0.3 文档",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        },
    },
    "/api/v1/tasks": {
        "get": {
            "operationId": "list_tasks", "summary": "我的待办（筛选、排序、分页）", "tags": ["tasks"],
            "parameters": [
                _query("tab", {"type": "string", "enum": list(TABS), "default": "available"},
                       "mine: 我签收的; available: 我签收的和同角色未签收的; all: 可见的全部"),
                _query("process", _TEXT_FILTER, "流程标识"),
                _query("step", _TEXT_FILTER, "步骤 ID"),
                _query("unit", _TEXT_FILTER, "单位"),
                _query("due_before", {"type": "string", "format": "date"}, "截止日期早于 (YYYY-MM-DD)"),
                _query("overdue", {"type": "boolean", "default": False}, "只看已超期的"),
                _query("sort", {"type": "string", "enum": list(SORTS), "default": "due"}, "排序"),
                _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "页码"),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 25},
                       "每页条数"),
            ],
            "responses": _responses({"200": _json("一页待办和各标签页的计数", "Inbox")}, 400),
        },
    },
    "/api/v1/tasks/{item_id}": {
        "parameters": [_TASK_ID],
        "get": {
            "operationId": "get_task", "summary": "一个待办事项（含表单和办理说明；督办人员可查看其单位范围内的全部事项）", "tags": ["tasks"],
            "responses": _responses({"200": _json("待办事项", "Task")}, 403, 404),
        },
    },
    "/api/v1/tasks/{item_id}/claim": {
        "parameters": [_TASK_ID],
        "post": {
            "operationId": "claim_task", "summary": "签收事项（之后只在我的待办中显示）", "tags": ["tasks"],
            "security": [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}],
            "responses": _responses({"204": {"description": "已签收"}}, 400, 403, 404, 409),
        },
    },
    "/api/v1/tasks/{item_id}/release": {
        "parameters": [_TASK_ID],
        "post": {
            "operationId": "release_task", "summary": "取消签收已签收的事项（签收人或其单位范围内的督办人员；未被签收时无操作）",
            "tags": ["tasks"],
            "security": [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}],
            "responses": _responses({"204": {"description": "已取消签收"}}, 400, 403, 404, 409),
        },
    },
    "/api/v1/tasks/{item_id}/complete": {
        "parameters": [_TASK_ID],
        "post": {
            "operationId": "complete_task", "summary": "办理（提交表单并推进流程）", "tags": ["tasks"],
            "security": [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}],
            "requestBody": _body("CompleteRequest", "表单数据和可选的乐观锁版本"),
            "responses": _responses({"200": _json("办理后的项目概要", "CaseSummary")}, 400, 403, 404, 409, 413, 422),
        },
    },
    "/api/v1/cases": {
        "post": {
            "operationId": "start_case", "summary": "立项（按流程的最新版本）", "tags": ["cases"],
            "description": "带 `Idempotency-Key` 请求头时，同一用户以同一键和相同请求体重试（例如响应丢失后） "
                           "得到第一次的 201 响应和同一项目，不会重复立项；键保留 24 小时。",
            "security": [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}],
            "parameters": [{
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "客户端生成的唯一键（如 UUID）, 1 到 200 个可见 ASCII 字符",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
            }],
            "requestBody": {**_body("StartCaseRequest", "流程标识和立项数据"),
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/StartCaseRequest"},
                                "example": _START_EXAMPLE}}},
            "responses": {**_responses({"201": {
                **_json("已立项（或：同一 Idempotency-Key 的重试，返回第一次立的项目）", "Created"),
                "headers": {"Location": {"description": "新项目的地址 /api/v1/cases/{id}", "required": True,
                                         "schema": {"type": "string"}},
                            "Idempotent-Replayed": {"description": "true: 这是同一 Idempotency-Key 的重试",
                                                    "schema": {"type": "string", "enum": ["true"]}}},
            }}, 400, 403, 404, 409, 413, 422),
                "409": {**_error(409), "description": "相同 Idempotency-Key 的请求仍在处理，请稍后重试 "
                                                      "(code=idempotency_in_progress)"},
                "422": {**_error(422), "description": "引擎执行步骤失败，未做任何更改 (code=step_failed)；或 "
                                                      "Idempotency-Key 已用于内容不同的请求 (code=idempotency_key_reused)"}},
        },
    },
    "/api/v1/cases/{case_id}": {
        "parameters": [_CASE_ID],
        "get": {
            "operationId": "get_case", "summary": "项目（状态、当前步骤、待办、历史、案卷）", "tags": ["cases"],
            "responses": _responses({"200": _json("项目", "Case")}, 403, 404),
        },
    },
    "/api/v1/cases/{case_id}/comments": {
        "parameters": [_CASE_ID],
        "post": {
            "operationId": "add_case_comment", "summary": "在项目上留意见", "tags": ["cases"],
            "security": [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}],
            "requestBody": _body("CommentRequest", "意见内容"),
            "responses": _responses({"201": _json("已留意见", "Comment")}, 400, 403, 404, 413),
        },
    },
}


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "督办 duban API",
            "version": "1.0.0",
            "description": "督办系统的 JSON 接口：待办、办理、立项、项目和意见。权限与引擎一致 (角色决定能办哪些步骤，"
                           "单位决定能看哪些项目)。认证：`Authorization: Bearer <令牌>`, 或登录后的会话 Cookie; "
                           "以会话 Cookie 调用写接口时须在 `X-CSRFToken` 请求头中提供 CSRF 令牌 (见页面的 "
                           "`<meta name=\"csrf-token\">`)。所有错误都是 JSON: {code, message, fields?}。",
        },
        "tags": [{"name": "tasks", "description": "待办事项"}, {"name": "cases", "description": "项目"},
                 {"name": "meta", "description": "接口说明"}],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API 令牌（只保存其哈希）"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session", "description": "登录后的会话 Cookie"},
                "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                              "description": "会话 Cookie 调用写接口时必需的 CSRF 令牌"},
            },
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    }


def document() -> dict[str, Any]:
    """A fresh copy of the document (callers may change it freely)."""
    return copy.deepcopy(_document())
