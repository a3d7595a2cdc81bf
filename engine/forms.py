"""Task forms: JSON Schema checks of submitted data, with Chinese messages per field."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Callable

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .errors import InvalidData

_FORMATS = FormatChecker()


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` is not a usable JSON Schema with usable cross-field rules (empty when it is)."""
    if not isinstance(schema, dict):
        return ["表单定义必须是 JSON 对象 (a JSON Schema object)"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(根)"
        return [f"表单定义不是有效的 JSON Schema: {where}: {err.message}"]
    return rule_problems(schema)


@lru_cache(maxsize=256)
def _validator_for_text(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text), format_checker=_FORMATS)


_BY_OBJECT: dict[int, tuple[Any, Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """The validator of a schema; the catalogue's form dicts are reused step after step, so they are looked
    up by identity (the entry keeps the dict alive, so its id cannot be reused) before being serialized."""
    entry = _BY_OBJECT.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    validator = _validator_for_text(json.dumps(schema, sort_keys=True))
    if len(_BY_OBJECT) >= 512:
        _BY_OBJECT.clear()
    _BY_OBJECT[id(schema)] = (schema, validator)
    return validator


def _field(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or FORM_FIELD


FORM_FIELD = "(表单)"
_TYPE_NAMES = {"integer": ("请输入整数", "Enter a whole number"), "number": ("请输入数字", "Enter a number"),
               "string": ("请输入文字", "Enter text"), "boolean": ("请选择是或否", "Choose yes or no"),
               "array": ("格式不正确", "Invalid list"), "object": ("格式不正确", "Invalid entry")}


def _message(err) -> tuple[str, str, str]:
    """(field, Chinese message, English message) for one jsonschema error."""
    kw, val, sch = err.validator, err.validator_value, err.schema
    field = _field(err.absolute_path)
    if kw == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return (f"{field}.{missing}" if err.absolute_path else missing) or field, "必填项", "Required"
    if kw == "additionalProperties":
        extra = "、".join(sorted(set(err.instance) - set(sch.get("properties", {}))))
        return field, f"不允许的字段：{extra}", f"Unknown field: {extra.replace('、', ', ')}"
    if kw == "type":
        kind = val if isinstance(val, str) else (val[0] if val else "")
        return (field, *_TYPE_NAMES.get(kind, ("格式不正确", "Invalid value")))
    if kw == "format":
        zh, en = {"date": ("请输入有效日期（年-月-日）", "Enter a valid date (YYYY-MM-DD)"),
                  "date-time": ("请输入有效时间", "Enter a valid date and time")}.get(val, ("格式不正确", "Invalid format"))
        return field, zh, en
    texts = {
        "minLength": ("不能为空", "Must not be empty") if val == 1 else (f"至少 {val} 个字符", f"At least {val} characters"),
        "maxLength": (f"最多 {val} 个字符", f"At most {val} characters"),
        "minimum": (f"不能小于 {val}", f"Must be at least {val}"),
        "maximum": (f"不能大于 {val}", f"Must be at most {val}"),
        "exclusiveMinimum": (f"必须大于 {val}", f"Must be more than {val}"),
        "exclusiveMaximum": (f"必须小于 {val}", f"Must be less than {val}"),
        "enum": ("请从列表中选择", "Choose one of the listed options"),
        "const": ("请从列表中选择", "Choose one of the listed options"),
        "oneOf": ("请从列表中选择", "Choose one of the listed options"),
        "anyOf": ("请从列表中选择", "Choose one of the listed options"),
        "uniqueItems": ("不能有重复项", "Must not contain duplicates"),
        "minItems": (f"至少 {val} 项", f"At least {val} item{'' if val == 1 else 's'}"),
        "maxItems": (f"最多 {val} 项", f"At most {val} item{'' if val == 1 else 's'}"),
        "pattern": ("格式不正确", "Invalid format"),
    }
    zh, en = texts.get(kw, ("填写的内容不符合要求", "Invalid value"))
    return field, zh, en


@dataclass
class FormErrors:
    """Field -> messages, in Chinese (what the API and the CLI report) and in English (the web's `en`)."""

    zh: dict[str, list[str]] = dataclass_field(default_factory=dict)
    en: dict[str, list[str]] = dataclass_field(default_factory=dict)

    def add(self, field: str, zh: str, en: str) -> None:
        if zh not in self.zh.setdefault(field, []):
            self.zh[field].append(zh)
            self.en.setdefault(field, []).append(en)

    def __bool__(self) -> bool:
        return bool(self.zh)


def validate_form(schema: dict[str, Any] | None, data: Any, context: dict[str, Any] | None = None) -> FormErrors:
    """Every problem of `data` against `schema`: its JSON Schema, then the form's cross-field rules.

    `context` (the case's data) is what cross-field rules may also refer to, e.g. the items a unit
    reported when its follow-up visit closes others."""
    errors = FormErrors()
    if not isinstance(data, dict):
        errors.add(FORM_FIELD, "提交的数据必须是 JSON 对象", "The submitted data must be a JSON object")
        return errors
    if not schema:
        return errors
    for err in _validator(schema).iter_errors(data):
        errors.add(*_message(err))
    _check_rules(schema, data, errors, context)
    return errors


def form_errors(schema: dict[str, Any] | None, data: Any) -> dict[str, list[str]]:
    """Field -> Chinese messages for `data` against `schema`; empty when valid."""
    return validate_form(schema, data).zh


def check_form(schema: dict[str, Any] | None, data: Any, what: str = "表单",
               context: dict[str, Any] | None = None) -> None:
    """Raise InvalidData naming every bad field (in Chinese, and in English as a translation), or return."""
    errors = validate_form(schema, data, context)
    if errors:
        raise InvalidData(f"{what}数据不符合要求", details=errors.zh, translations={"en": errors.en})


# --- choices from the case's records ------------------------------------------------------------------
OPTIONS_KEY = "x-options"


def with_options(schema: dict[str, Any] | None, choices: Callable[[str], list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The form with each `x-options` field's choices filled in (a copy); the form itself when it has none.

    An array field takes them as the choices of its items, any other field as its own, so rendering shows
    them (checkboxes, a select) and validation refuses anything else."""
    props = (schema or {}).get("properties") or {}
    named = {name: sub[OPTIONS_KEY] for name, sub in props.items() if isinstance(sub, dict) and OPTIONS_KEY in sub}
    if not named:
        return schema
    filled = copy.deepcopy(schema)
    for name, source in named.items():
        field = filled["properties"][name]
        target = field.setdefault("items", {}) if field.get("type") == "array" else field
        target["oneOf"] = choices(source)  # none open: an empty list, so nothing can be chosen
    return filled


# --- cross-field rules ---------------------------------------------------------------------------
# A form's JSON Schema may carry "x-rules": [{"check": EXPR, "field": NAME, "message": 中文，"message_en": English,
# "uses": [NAMES], "defaults": {NAME: VALUE}}]. EXPR is a safe expression (engine.expressions, never eval) over the submitted fields and the case data; the
# rule fails when it is false. A rule whose fields are missing or already wrong is not judged: the field's own
# message says what to fix first.
RULES_KEY = "x-rules"


def _check_rules(schema: dict[str, Any], data: dict[str, Any], errors: FormErrors,
                 context: dict[str, Any] | None = None) -> None:
    from . import expressions

    # The form's own fields left empty are None (a rule may ask for one); the case data fills in the rest,
    # and a rule's "defaults" stand for case data not there yet (nothing reported before the first report).
    values = {**(context or {}), **{name: None for name in schema.get("properties") or {}}, **data}
    for rule in schema.get(RULES_KEY) or []:
        field = rule.get("field") or FORM_FIELD
        names = set(rule.get("uses") or []) | {field}
        if any(name in errors.zh for name in names):
            continue
        try:
            ok = expressions.evaluate(rule["check"], {**(rule.get("defaults") or {}), **values})
        except expressions.ExpressionError:
            continue  # a field the rule compares was left empty (None < "2026-…"): `required` speaks for it
        if not ok:
            errors.add(field, rule["message"], rule.get("message_en") or rule["message"])


def rule_problems(schema: dict[str, Any]) -> list[str]:
    """Why the form's choices from records or cross-field rules cannot be used (empty when they can)."""
    from . import expressions

    from handlers import registered_options

    props = schema.get("properties") or {}
    problems = [f"{name}: {OPTIONS_KEY} 的选项来源未注册：{sub[OPTIONS_KEY]}" for name, sub in props.items()
                if isinstance(sub, dict) and OPTIONS_KEY in sub and sub[OPTIONS_KEY] not in registered_options()]
    rules = schema.get(RULES_KEY)
    if rules is None:
        return problems
    if not isinstance(rules, list):
        return problems + [f"{RULES_KEY} 必须是列表"]
    for n, rule in enumerate(rules, 1):
        where = f"{RULES_KEY}[{n}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("check"), str) or not isinstance(rule.get("message"), str):
            problems.append(f"{where}: 需要 check (表达式) 和 message (中文提示)")
            continue
        problems += [f"{where}: {err}" for err in expressions.check_expression(rule["check"])]
        for name in [rule.get("field"), *(rule.get("uses") or [])]:
            if name is not None and name not in props:
                problems.append(f"{where}: 表单中没有字段 {name}")
    return problems


def example_data(schema: dict[str, Any] | None, **overrides: Any) -> dict[str, Any]:
    """Minimal data that satisfies a form (for demos, benchmarks and tests); overrides win."""
    data = _example(schema or {"type": "object"})
    data = data if isinstance(data, dict) else {}
    data.update(overrides)
    return data


def _example(schema: dict[str, Any]) -> Any:
    if "default" in schema:
        return schema["default"]
    choices = schema.get("oneOf") or schema.get("anyOf")
    if choices and "const" in choices[0]:
        return choices[0]["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _example(props[name]) for name in schema.get("required", []) if name in props}
    if kind == "array":
        return [_example(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind in ("number", "integer"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        # A month ahead: a deadline filled in by example data must not already have passed.
        return (date.today() + timedelta(days=30)).isoformat()
    return "示例" * max(1, (schema.get("minLength", 1) + 1) // 2)
