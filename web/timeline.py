"""The case timeline as a clerk reads it: what happened, by whom (name and department), and what changed —
each field by its title in the step's form, each value by its option label. Keys and usernames stay in the API.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _, ngettext

from engine.accounts import Person
from handlers import registered_field_titles

from .i18n import english, label, listing, localized, process_name, step_name

VALUE_CHARS = 80
SYSTEM = "system"
FINISHED_KINDS = ("task_completed", "service_task", "script_task", "rule_task")


@dataclass
class Change:
    title: str
    before: str
    after: str


@dataclass
class Entry:
    seq: int
    at: datetime | None
    actor: str
    department: str
    kind: str
    text: str
    changes: list[Change]


def _options(schema: dict[str, Any]) -> dict[Any, str]:
    return {opt.get("const"): localized(opt, "title", str(opt.get("const"))) for opt in schema.get("oneOf") or []
            if isinstance(opt, dict)}


def _short(text: str) -> str:
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def show_value(value: Any, schema: dict[str, Any] | None) -> str:
    """A value as the form offered it: option labels, 是/否, rows counted with their first words."""
    schema = schema if isinstance(schema, dict) else {}
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    options = _options(schema)
    if options and not isinstance(value, (list, dict)):
        return options.get(value, str(value))
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if all(isinstance(v, dict) for v in value):
            words = [str(v.get("description") or next(iter(v.values()), "")) for v in value]
            count = ngettext("%(n)s 条：", "%(n)s 条：", len(value), n=len(value))
            return _short(count + listing((w for w in words if w), "；"))
        labels = _options(items)
        return _short(listing(labels.get(v, str(v)) for v in value))
    if isinstance(value, dict):
        return _short(json.dumps(value, ensure_ascii=False))
    return _short(str(value))


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None, form: dict[str, Any] | None,
             named_only: bool) -> list[Change]:
    """What a step changed, field by field; `named_only` hides bookkeeping keys nobody named."""
    before, after = before or {}, after or {}
    props = (form or {}).get("properties") or {}
    system = registered_field_titles()
    out = []
    for key, new in after.items():
        if before.get(key) == new:
            continue
        if key in props:
            title = localized(props[key], "title", key)
        elif key in system:
            title = system[key][1] if english() else system[key][0]
        elif named_only:
            continue
        else:
            title = key
        out.append(Change(title, show_value(before.get(key), props.get(key)), show_value(new, props.get(key))))
    return out


def _text(kind: str, step: str, after: dict[str, Any], who: dict[str, Person], before: Any = None) -> str:
    if kind == "case_started":
        return _("立项：%(name)s", name=step)
    if kind == "task_ready":
        return _("待办：%(step)s", step=step)
    if kind == "task_completed":
        return _("办理：%(step)s", step=step)
    if kind in ("service_task", "script_task", "rule_task"):
        return _("自动处理：%(step)s", step=step)
    if kind == "task_claimed":
        return _("签收：%(step)s", step=step)
    if kind == "task_released":
        return _("取消签收：%(step)s", step=step)
    if kind == "task_reassigned":
        to = after.get("assignee") or ""
        return _("改派：%(step)s 交 %(to)s 办理", step=step, to=who[to].name if to in who else to)
    if kind == "comment_added":
        return _("发表意见：%(body)s", body=after.get("body") or "")
    if kind == "attachment_added":
        return _("上传附件：%(name)s", name=after.get("filename") or "")
    if kind == "case_completed":
        return _("项目办结")
    if kind == "case_migrated":
        old = before.get("version") if isinstance(before, dict) else None
        return _("迁移至第 %(version)s 版（原第 %(old)s 版）", version=after.get("version") or "?", old=old or "?")
    if kind == "timer_fired":
        return _("定时到期")
    if kind == "reminder_sent":
        return _("催办：%(step)s", step=step)
    if kind == "escalated":
        return _("逾期督办：%(step)s", step=step)
    if kind == "incident":
        return _("系统异常：%(step)s：%(message)s", step=step, message=after.get("message") or "")
    status = {"case_suspended": _("暂停办理"), "case_resumed": _("恢复办理"), "case_terminated": _("终止项目"),
              "case_retried": _("重新执行异常环节")}.get(kind)
    if status:
        return status + (f"：{after['note']}" if after.get("note") else "")
    return step or kind


def timeline(history: list[dict[str, Any]], catalogue: dict[str, Any], who: dict[str, Person],
             process_key: str = "") -> list[Entry]:
    """The case's events, newest last, as the case page shows them (names in the page's language)."""
    entries = []
    for event in history:
        kind, after = event["kind"], event.get("after") or {}
        step_id = event.get("step_id")
        if kind == "case_started":  # the event names the process
            form = (catalogue.get("start") or {}).get("form")
            step = process_name(process_key, event.get("step_name") or "", catalogue)
        else:
            form = ((catalogue.get("steps") or {}).get(step_id or "") or {}).get("form")
            step = step_name(process_key, step_id, event.get("step_name") or step_id or "", catalogue)
        changes = []
        if kind in ("case_started", "task_completed") or kind in FINISHED_KINDS:
            changes = _changes(event.get("before"), after, form, named_only=kind not in ("case_started", "task_completed"))
        actor = event.get("actor") or ""
        person = who.get(actor)
        entries.append(Entry(
            seq=event["seq"], at=datetime.fromisoformat(event["at"].rstrip("Z")) if event.get("at") else None,
            actor=_("系统") if actor == SYSTEM else (person.name if person else actor),
            department=listing(label(d) for d in person.departments) if person else "", kind=kind,
            text=_text(kind, step, after, who, event.get("before")),
            changes=changes))
    return entries


def actors(history: list[dict[str, Any]]) -> set[str]:
    """Usernames the timeline names: who acted, and to whom work was handed."""
    names = {e.get("actor") or "" for e in history}
    names |= {(e.get("after") or {}).get("assignee") or "" for e in history if e["kind"] == "task_reassigned"}
    return {n for n in names if n and n != SYSTEM}
