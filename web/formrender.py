"""HTML task forms: posted form fields -> data for `engine.forms.form_errors`, and helpers for the template.

Field names (shared with templates/forms/fields.html):
  - `name`                  strings, dates, numbers, selects; checkbox "true" for booleans
  - `name` (repeated)       multi-select checkbox groups
  - `name` = "1, 3 5"       arrays of numbers, one text input
  - `name[i][prop]`         arrays of objects, one block of fields per row (i may have gaps)
"""
from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

_MISSING: Any = object()
_TRUE = {"true", "on", "1"}
_ROWS_DEFAULT_CAP = 200
# An integer has at most 4000 digits here: int() refuses longer text (CPython's digit limit).
_INT = re.compile(r"[+-]?\d{1,4000}", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# Separators people type between numbers: ASCII and Chinese commas, the enumeration comma 、, semicolons, spaces.
_SEPARATORS = re.compile(r"[\s,,、;;]+")


class FormData(Protocol):
    """What we need from a posted form (werkzeug MultiDict)."""

    def getlist(self, key: str) -> list[Any]: ...

    def keys(self) -> Iterable[str]: ...


def parse_submission(schema: Mapping[str, Any], form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """Posted HTML form fields -> data to check with `form_errors`; unknown keys are ignored, never raises."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return {}
    keys = _keys(form)
    data: dict[str, Any] = {}
    for name, sub in props.items():
        if isinstance(name, str) and isinstance(sub, Mapping):
            value = _convert(sub, name, form, keys)
            if value is not _MISSING:
                data[name] = value
    return data


def errors_for(errors: Mapping[str, list[str]] | None, path: str, items: bool = False,
               row_label: str = "第 {n} 项：{message}") -> list[str]:
    """Messages for field `path`; with items=True also those of its elements (`path[2]` -> "第 3 项：...")."""
    if not errors:
        return []
    found = list(errors.get(path) or [])
    if items:
        element = re.compile(re.escape(path) + r"\[(\d+)\]$")
        for key, messages in errors.items():
            hit = element.match(key) if isinstance(key, str) else None
            if hit:
                found += [row_label.format(n=int(hit.group(1)) + 1, message=msg) for msg in messages or []]
    return found


def initial_values(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Values for a blank form: each property's `default` (copied, so callers may mutate them)."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return {}
    return {name: copy.deepcopy(sub["default"]) for name, sub in props.items()
            if isinstance(sub, Mapping) and "default" in sub}


def _keys(form: Any) -> list[str]:
    try:
        return [k for k in form.keys() if isinstance(k, str)]
    except Exception:  # not a mapping at all: nothing was posted
        return []


def _values(form: Any, key: str) -> list[str]:
    """All posted strings for `key`, accepting a MultiDict or a plain dict."""
    try:
        raw = form.getlist(key) if hasattr(form, "getlist") else form.get(key)
    except Exception:
        return []
    raw = raw if isinstance(raw, list | tuple) else [] if raw is None else [raw]
    return [v for v in raw if isinstance(v, str)]


def _cap(schema: Mapping[str, Any]) -> int:
    # One past maxItems so validation still reports "最多 N 项" rather than items silently vanishing;
    # bounded because uniqueItems checks of mixed-type lists are quadratic.
    most = schema.get("maxItems")
    return min(most + 1, 10_000) if isinstance(most, int) and most >= 0 else _ROWS_DEFAULT_CAP


def _convert(schema: Mapping[str, Any], key: str, form: Any, keys: list[str]) -> Any:
    """The value of one field named `key`, or _MISSING when left empty."""
    kind = schema.get("type")
    if kind == "boolean":
        values = _values(form, key)
        return bool(values) and values[0].strip().lower() in _TRUE
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        if items.get("type") == "object":
            return _rows(schema, items, key, form, keys)
        if items.get("type") in ("integer", "number") and isinstance(items.get("oneOf"), list):
            # checkboxes (choices from the case's records): one posted value per ticked box
            return [_number(items, v) for v in _values(form, key) if v.strip()][: _cap(schema)]
        if items.get("type") in ("integer", "number"):
            text = unicodedata.normalize("NFKC", _first(form, key))
            tokens = [t for t in _SEPARATORS.split(text) if t][: _cap(schema)]
            return [_number(items, t) for t in tokens]
        return [_text(v) for v in _values(form, key) if v.strip()][: _cap(schema)]
    raw = _first(form, key)
    if not raw.strip():
        return _MISSING  # so `required` names the field instead of a minLength/format message
    if kind in ("integer", "number"):
        return _number(schema, raw)
    return _text(raw)


def _first(form: Any, key: str) -> str:
    values = _values(form, key)
    return values[0] if values else ""


def _text(value: str) -> str:
    # Browsers post textarea line breaks as CRLF; store LF so lengths match what the user typed.
    # NUL is dropped because PostgreSQL text/jsonb cannot store it.
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _number(schema: Mapping[str, Any], raw: str) -> Any:
    """int/float from `raw`, or the raw text itself so validation reports a type error."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if _INT.fullmatch(text):
        return int(text)
    if schema.get("type") == "number" and _FLOAT.fullmatch(text):
        value = float(text)
        if value not in (float("inf"), float("-inf")):  # "1e999": not a JSON number
            return value
    return _text(raw)


def _rows(schema: Mapping[str, Any], items: Mapping[str, Any], name: str, form: Any,
          keys: list[str]) -> list[dict[str, Any]]:
    """Rows posted as `name[i][prop]`, in index order, renumbered from 0, all-empty rows dropped."""
    props = items.get("properties") if isinstance(items.get("properties"), Mapping) else {}
    # At most 9 digits: a hostile `a[99999999999999][x]` is ignored, not turned into a huge int.
    pattern = re.compile(re.escape(name) + r"\[(\d{1,9})\]\[([^\[\]]+)\]", re.ASCII)
    indexes = sorted({int(m.group(1)) for m in map(pattern.match, keys) if m and m.group(2) in props})
    rows = []
    for i in indexes:
        row = {}
        for prop, sub in props.items():
            if isinstance(sub, Mapping):
                value = _convert(sub, f"{name}[{i}][{prop}]", form, keys)
                if value is not _MISSING:
                    row[prop] = value
        if any(v is not False and v != [] for v in row.values()):
            rows.append(row)
            if len(rows) >= _cap(schema):
                break
    return rows
