"""The form editor: a task form's JSON Schema (forms/<name>.json in a draft) edited as a list of fields or as JSON,
with a live preview the server renders from templates/forms/fields.html — the macro the task page uses — so the
designer sees exactly what the clerk will see. Problems of the schema are listed with the field they concern in
Chinese (not a traceback); saving writes the file into the draft through engine.drafts.save_draft, which
validates the whole draft on the server.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from jsonschema import Draft202012Validator

from engine.errors import Conflict, InvalidData, NotFound
from engine.forms import OPTIONS_KEY, RULES_KEY, rule_problems, with_options
from web.formrender import initial_values

from ..auth import current_actor, engine
from ..i18n import N_
from . import bp, require_designer
from .decisions import draft_url, problem_dicts

FORM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,150}\.json")
FIELD_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")  # what expressions and rules can name
MAX_TEXT = 2_000_000

# Where a field's choices come from at run time (handlers' @form_options), as the designer reads them.
SOURCE_NAMES = {
    "units.children_of_case_unit": N_("本单位的下级单位"), "units.all": N_("全部单位"),
    "campaign.units": N_("本次活动的参与单位"), "campaign.commendable": N_("可表彰的单位"),
    "findings.all": N_("本项目发现的全部问题"), "findings.disputed_personnel": N_("有异议的用人问题"),
    "findings.disputed_establishment": N_("有异议的用编问题"), "findings.disputed_finance": N_("有异议的用财问题"),
    "rectification.listed_items": N_("挂牌督办的问题"), "rectification.liftable_items": N_("可摘牌的问题"),
    "rectification.open_items": N_("未销号的整改问题"), "rectification.closed_items": N_("已销号的整改问题"),
    "rectification.open_personnel_items": N_("未销号的用人问题"),
    "rectification.open_establishment_items": N_("未销号的用编问题"),
    "rectification.open_finance_items": N_("未销号的用财问题"),
    "rectification.case_attachments": N_("本项目已上传的附件（佐证材料）"),
}

# JSON Schema keywords named for the designer, in the path of a problem.
KEYWORDS = {
    "type": N_("类型"), "title": N_("标题"), "title_en": N_("英文标题"), "description": N_("说明"), "description_en": N_("英文说明"),
    "format": N_("格式"), "maxLength": N_("最多字数"), "minLength": N_("最少字数"), "minimum": N_("最小值"), "maximum": N_("最大值"),
    "exclusiveMinimum": N_("下限"), "exclusiveMaximum": N_("上限"), "oneOf": N_("选项"), "anyOf": N_("选项"), "enum": N_("选项"),
    "const": N_("代码"), "default": N_("默认值"), "required": N_("必填项"), "minItems": N_("最少项数"), "maxItems": N_("最多项数"),
    "uniqueItems": N_("不可重复"), "additionalProperties": N_("其他字段"), "pattern": N_("格式"), "items": N_("每一项"),
    "properties": N_("字段"), RULES_KEY: N_("校验规则"), OPTIONS_KEY: N_("选项来源"),
}
_JSON_ERRORS = {
    "Expecting ',' delimiter": N_("缺少逗号"), "Expecting ':' delimiter": N_("缺少冒号"),
    "Expecting property name enclosed in double quotes": N_("属性名必须用双引号括起来（或多了一个逗号）"),
    "Expecting value": N_("缺少值（或多了一个逗号）"), "Extra data": N_("JSON 结束后还有多余的内容"),
    "Unterminated string starting at": N_("字符串没有结束的引号"), "Invalid control character at": N_("字符串中有换行等控制字符"),
    "Invalid \\escape": N_("无效的转义字符"), "Invalid \\uXXXX escape": N_("无效的 \\u 转义"),
}
TYPE_NAMES = "string、integer、number、boolean、array、object"


def minimal_schema(title: str) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
            "properties": {}, "required": [], "additionalProperties": False}


def form_text(schema: Any) -> str:
    """A form file's text as the editor writes it: two-space indent, Chinese as is, keys in the designer's order."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


# --- problems, each with the field it concerns in Chinese ---------------------------------------------
def parse(text: str) -> tuple[Any, list[str]]:
    """(schema, []) or (None, [the JSON syntax error with its line and column, in Chinese])."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError as err:
        reason = next((_(zh) for en, zh in _JSON_ERRORS.items() if err.msg.startswith(en)), err.msg)
        return None, [_("JSON 格式错误：第 %(line)s 行第 %(col)s 列：%(reason)s", line=err.lineno, col=err.colno,
                        reason=reason)]
    except (ValueError, RecursionError):
        return None, [_("JSON 格式错误：无法读取（嵌套过深或数字过大）")]


def where(schema: Any, path: list[Any]) -> str:
    """`properties/findings/items/properties/severity/oneOf/1/title` → 字段「发现的问题」(findings) › 每一行 ›
    字段「问题性质」(severity) › 第 2 个选项 › 标题"""
    out: list[str] = []
    node: Any = schema
    parts = list(path)
    i = 0
    while i < len(parts):
        part = parts[i]
        child = node.get(part) if isinstance(node, dict) else None
        if part == "properties" and i + 1 < len(parts) and isinstance(child, dict):
            key = parts[i + 1]
            sub = child.get(key)
            title = sub.get("title") if isinstance(sub, dict) and isinstance(sub.get("title"), str) else ""
            out.append(_("字段「%(title)s」(%(key)s)", title=title, key=key) if title else _("字段 %(key)s", key=key))
            node, i = sub, i + 2
            continue
        if part == "items" and isinstance(node, dict):
            out.append(_("每一行") if isinstance(child, dict) and child.get("type") == "object" else _("每一项"))
        elif isinstance(part, int):
            out.append(_("第 %(n)s 个选项", n=part + 1) if parts[i - 1:i] in (["oneOf"], ["anyOf"], ["enum"])
                       else _("第 %(n)s 条", n=part + 1))
            child = node[part] if isinstance(node, list) and part < len(node) else None
        elif part in ("oneOf", "anyOf", "enum") and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            pass  # named by the next part: 第 2 个选项
        else:
            out.append(_(KEYWORDS[part]) if part in KEYWORDS else str(part))
        node, i = child, i + 1
    return " › ".join(out) or _("表单（整体）")


def _meta_message(err) -> str:
    kw, path = err.validator, list(err.absolute_path)
    last = path[-1] if path else None
    if last == "type" or (kw in ("anyOf", "enum") and "type" in path[-1:]):
        return _("%(value)s 不是有效的类型，可用：%(names)s", value=json.dumps(err.instance, ensure_ascii=False), names=TYPE_NAMES)
    if kw == "type":
        expected = err.validator_value if isinstance(err.validator_value, str) else "、".join(err.validator_value)
        named = {"string": _("文字"), "object": _("JSON 对象 {…}"), "array": _("列表 […]"), "boolean": _("true 或 false"),
                 "integer": _("整数"), "number": _("数字")}
        return _("应为%(kind)s", kind=named.get(expected, expected))
    if kw == "minimum":
        return _("不能小于 %(n)s", n=err.validator_value)
    if kw == "uniqueItems":
        return _("不能有重复项")
    if kw == "required":
        return _("缺少 %(what)s", what=err.message.split("'")[1] if "'" in err.message else err.message)
    return err.message


def problems_of(schema: Any) -> list[dict[str, str]]:
    """Every problem of a form file: the JSON Schema meta-schema's, then the dialect's (choices from records,
    cross-field rules, required fields that the form lacks). {"where": 中文路径, "message": …}."""
    if not isinstance(schema, dict):
        return [{"where": _("表单（整体）"), "message": _("表单定义必须是 JSON 对象 {…}")}]
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    try:
        errors = sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path])
    except RecursionError:
        return [{"where": _("表单（整体）"), "message": _("嵌套过深")}]
    found = [{"where": where(schema, list(e.absolute_path)), "message": _meta_message(e)} for e in errors]
    if found:
        return found
    if schema.get("type") not in (None, "object"):
        found.append({"where": where(schema, ["type"]), "message": _("任务表单的类型必须是 object")})
    props = schema.get("properties") or {}
    found += _field_problems(schema, [], props, schema.get("required") or [])
    try:
        dialect = rule_problems(schema)
    except Exception:  # a rule of the wrong shape ("uses": 5): the deploy check refuses it too
        dialect = [f"{RULES_KEY}[?]: " + _("校验规则的格式不正确：需要 check、message，uses 为字段名列表")]
    for problem in dialect:
        name, _sep, message = problem.partition(": ")
        if name in props:
            found.append({"where": where(schema, ["properties", name]), "message": message})
        elif name.startswith(RULES_KEY + "["):
            n = name[len(RULES_KEY) + 1:-1]
            found.append({"where": _("第 %(n)s 条校验规则", n=n), "message": message})
        else:
            found.append({"where": _("表单（整体）"), "message": problem})
    return found


def _field_problems(schema: dict, base: list[Any], props: dict, required: list) -> list[dict[str, str]]:
    found = []
    for name in required:
        if name not in props:
            found.append({"where": where(schema, base + ["required"]),
                          "message": _("%(name)s 不是表单中的字段", name=name)})
    for name, sub in props.items():
        at = base + ["properties", name]
        if not FIELD_KEY.fullmatch(name):
            found.append({"where": where(schema, at), "message": _("字段名只能用英文字母、数字和下划线，且不以数字开头")})
        if not isinstance(sub, dict):
            found.append({"where": where(schema, at), "message": _("字段定义必须是 JSON 对象 {…}（类型、标题……）")})
            continue
        if not sub.get("title"):
            found.append({"where": where(schema, at), "message": _("缺少标题：办理人会看到字段名")})
        holder = sub.get("items") if sub.get("type") == "array" and isinstance(sub.get("items"), dict) else sub
        for n, option in enumerate(holder.get("oneOf") or []):
            if isinstance(option, dict) and "const" not in option:
                found.append({"where": where(schema, at + ([] if holder is sub else ["items"]) + ["oneOf", n]),
                              "message": _("选项缺少代码 (const)")})
            elif isinstance(option, dict) and not option.get("title"):
                found.append({"where": where(schema, at + ([] if holder is sub else ["items"]) + ["oneOf", n]),
                              "message": _("选项缺少显示名称：办理人会看到代码 %(code)s", code=option.get("const"))})
        if holder is not sub and holder.get("type") == "object":
            found += _field_problems(schema, at + ["items"], holder.get("properties") or {}, holder.get("required") or [])
    return found


def placeholder_options(schema: dict[str, Any]) -> dict[str, Any]:
    """The form with each `x-options` field given one explanatory choice: its real ones come from the case."""
    def choices(source: Any) -> list[dict[str, Any]]:
        label = _(SOURCE_NAMES[source]) if source in SOURCE_NAMES else str(source)
        return [{"const": "__preview__", "title": _("（示例）办理时从本项目的记录中列出：%(what)s", what=label)}]

    return with_options(schema, choices)


# --- pages -----------------------------------------------------------------------------------------
def _draft(draft_id: int):
    from engine import drafts

    with engine().db.reading() as session:
        draft = drafts.get_draft(session, draft_id)
        session.expunge(draft)
    return draft


def _form_path(name: str) -> str:
    if not FORM_NAME.fullmatch(name):
        raise NotFound(_("表单文件名无效：%(name)s", name=name))
    return f"forms/{name}"


def _draft_form(draft_id: int, name: str) -> tuple[Any, str]:
    path = _form_path(name)
    draft = _draft(draft_id)
    text = (draft.files or {}).get(path)
    if text is None:
        raise NotFound(_("草稿中没有表单 %(path)s", path=path))
    return draft, text


def concerns(problem: dict[str, Any], name: str) -> bool:
    """Whether a draft problem is about form `name`: on its file, or (as `duban validate` reports a form) on the
    user task that uses it, "表单 <name>…"."""
    return problem["file"] == f"forms/{name}" or f"表单 {name}" in (problem["message"] or "")


def _form_names(draft) -> list[str]:
    return sorted(p[len("forms/"):] for p in (draft.files or {}) if p.startswith("forms/"))


@bp.route("/drafts/<int:draft_id>/forms/")
def form_index(draft_id: int):
    require_designer()
    draft = _draft(draft_id)
    return render_template("designer/form_index.html", draft=draft, names=_form_names(draft), back=draft_url(draft_id))


@bp.route("/drafts/<int:draft_id>/forms/<name>")
def form_edit(draft_id: int, name: str):
    require_designer()
    draft, text = _draft_form(draft_id, name)
    path = f"forms/{name}"
    problems = [p for p in problem_dicts(draft.problems) if concerns(p, name)]
    sources = [{"name": n, "label": _(SOURCE_NAMES[n]) if n in SOURCE_NAMES else n} for n in _option_sources()]
    return render_template("designer/form_edit.html", draft=draft, name=name, path=path, text=text,
                           problems=problems, names=_form_names(draft), back=draft_url(draft_id),
                           sources=json.dumps(sources, ensure_ascii=False))


def _option_sources() -> list[str]:
    from handlers import registered_options

    return sorted(registered_options())


def _posted_text() -> str:
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        text = body.get("text") if isinstance(body, dict) else None
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        text = request.form.get("text")
    else:
        text = request.get_data(as_text=True)
    if not isinstance(text, str):
        raise InvalidData(_("没有收到表单定义"), details={"text": [_("必填项")]})
    if len(text) > MAX_TEXT:
        raise InvalidData(_("表单定义过长"), details={"text": [_("最多 %(n)s 个字符", n=MAX_TEXT)]})
    return text


@bp.route("/drafts/<int:draft_id>/forms/<name>/preview", methods=["POST"])
def form_preview(draft_id: int, name: str):
    """The posted schema as the clerk's task page renders it (HTML fragment), or its problems; always 200."""
    require_designer()
    _form_path(name)
    schema, problems = parse(_posted_text())
    listed = [{"where": _("JSON"), "message": p} for p in problems] if problems else problems_of(schema)
    html, failed = "", None
    if not problems and not _meta_invalid(schema):  # drawn also with dialect problems: they are listed above it
        try:
            shown = placeholder_options(schema)
            html = render_template("designer/form_preview.html", schema=shown, values=initial_values(shown))
        except Exception as err:  # a schema the macro cannot draw (it passed the meta-schema): say so, not a 500
            failed = f"{type(err).__name__}: {err}"
    return render_template("designer/form_preview_frame.html", html=html, problems=listed, failed=failed)


def _meta_invalid(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return True
    try:
        return next(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema), None) is not None
    except RecursionError:
        return True


@bp.route("/drafts/<int:draft_id>/forms/<name>", methods=["POST"])
def form_save(draft_id: int, name: str):
    """The editor's text into the draft: re-indented when it is JSON (keys as the designer ordered them), kept
    as typed when it is not, so nothing is lost; answers the draft's problems (JSON for fetch, a page otherwise)."""
    require_designer()
    from engine import drafts

    path = _form_path(name)
    _draft_form(draft_id, name)
    text = _posted_text()
    schema, _syntax = parse(text)
    if schema is not None:
        text = form_text(schema)
    eng = engine()
    with eng.db.transaction() as session:
        problems = drafts.save_draft(session, draft_id, {path: text}, current_actor(), eng.clock())
    listed = problem_dicts(problems)
    mine = [p for p in listed if concerns(p, name)]
    if request.mimetype == "application/json" or request.accept_mimetypes.best == "application/json":
        return jsonify({"saved": True, "text": text, "problems": listed, "mine": mine})
    flash(_("已保存到草稿：%(path)s", path=path) + ("" if not mine else _("；有 %(n)s 个问题", n=len(mine))))
    return redirect(url_for("designer.form_edit", draft_id=draft_id, name=name))


@bp.route("/drafts/<int:draft_id>/forms/", methods=["POST"])
def form_create(draft_id: int):
    """A new form file in the draft, from a minimal schema; then its editor."""
    require_designer()
    from engine import drafts

    raw = (request.form.get("name") or "").strip()
    name = raw if raw.endswith(".json") else f"{raw}.json"
    if not FORM_NAME.fullmatch(name):
        raise InvalidData(_("表单文件名只能用英文字母、数字、下划线和连字符"), details={"name": [_("例如 approve_plan")]})
    path = f"forms/{name}"
    draft = _draft(draft_id)
    if path in (draft.files or {}):
        raise Conflict(_("草稿中已有表单 %(path)s", path=path))
    title = (request.form.get("title") or "").strip()[:200] or name[:-len(".json")]
    eng = engine()
    with eng.db.transaction() as session:
        drafts.save_draft(session, draft_id, {path: form_text(minimal_schema(title))}, current_actor(), eng.clock())
    flash(_("已新建表单 %(path)s：在流程图中把用户任务的表单设为它，才会在办理时使用", path=path))
    return redirect(url_for("designer.form_edit", draft_id=draft_id, name=name))
