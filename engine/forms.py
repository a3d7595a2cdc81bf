"""Task forms: JSON Schema checks of submitted data, with Chinese messages per field."""
from __future__ import annotations

from functools import lru_cache
import json
from datetime import date, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .errors import InvalidData

_FORMATS = FormatChecker()


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` is not a usable JSON Schema (empty when it is)."""
    if not isinstance(schema, dict):
        return ["表单定义必须是 JSON 对象 (a JSON Schema object)"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(根)"
        return [f"表单定义不是有效的 JSON Schema: {where}: {err.message}"]
    return []


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
    return out or "(表单)"


def _message(err) -> tuple[str, str]:
    """(field, Chinese message) for one jsonschema error."""
    kw, val, sch = err.validator, err.validator_value, err.schema
    field = _field(err.absolute_path)
    if kw == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return (f"{field}.{missing}" if err.absolute_path else missing) or field, "必填项 (required)"
    if kw == "additionalProperties":
        extra = ", ".join(sorted(set(err.instance) - set(sch.get("properties", {}))))
        return field, f"不允许的字段: {extra}"
    texts = {
        "type": f"类型应为 {val} (expected {val})",
        "minLength": "不能为空" if val == 1 else f"至少 {val} 个字符",
        "maxLength": f"最多 {val} 个字符",
        "minimum": f"不能小于 {val}",
        "maximum": f"不能大于 {val}",
        "exclusiveMinimum": f"必须大于 {val}",
        "exclusiveMaximum": f"必须小于 {val}",
        "enum": "不是可选值之一",
        "const": "不是可选值之一",
        "oneOf": "不是可选值之一",
        "anyOf": "不是可选值之一",
        "uniqueItems": "不能有重复项",
        "minItems": f"至少 {val} 项",
        "maxItems": f"最多 {val} 项",
        "pattern": "格式不正确",
    }
    if kw == "format":
        return field, {"date": "日期格式应为 YYYY-MM-DD", "date-time": "时间格式应为 ISO 8601"}.get(val, f"格式应为 {val}")
    return field, texts.get(kw, err.message)


def form_errors(schema: dict[str, Any] | None, data: Any) -> dict[str, list[str]]:
    """Field -> Chinese messages for `data` against `schema`; empty when valid."""
    if not isinstance(data, dict):
        return {"(表单)": ["提交的数据必须是 JSON 对象"]}
    if not schema:
        return {}
    errors: dict[str, list[str]] = {}
    for err in _validator(schema).iter_errors(data):
        field, msg = _message(err)
        errors.setdefault(field, [])
        if msg not in errors[field]:
            errors[field].append(msg)
    return errors


def check_form(schema: dict[str, Any] | None, data: Any, what: str = "表单") -> None:
    """Raise InvalidData naming every bad field, or return when `data` fits `schema`."""
    errors = form_errors(schema, data)
    if errors:
        raise InvalidData(f"{what}数据不符合要求", details=errors)


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
