"""What a document says about its case, read once: the cadre, the unit, the steps' dates, findings and scores."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.vocabulary import GRADE_NAMES
from engine.models import Case, Event, ProcessVersion
from engine.vocabulary import AUDIT_TYPES, UNIT_LEVELS

from .. import ledger
from ..ledger import FindingRow
from ..findings import DUTIES, DUTY_NAMES

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
SCORE_FIELDS = (("personnel", "personnel_score"), ("establishment", "establishment_score"), ("finance", "finance_score"))


def local_date(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(OFFICE_TZ).date()


def parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


@dataclass
class CaseFacts:
    case_id: int
    process_key: str
    status: str
    data: dict[str, Any]
    step_days: dict[str, date]  # step id → the day it was first completed
    findings: list[FindingRow]
    option_titles: dict[str, dict[Any, str]] = field(default_factory=dict)  # field → {value: 中文}

    # --- who and where -------------------------------------------------------------------
    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        return str(value).strip() if value not in (None, "") else default

    @property
    def cadre(self) -> str:
        return self.text("cadre_name", "（联审对象）")

    @property
    def post(self) -> str:
        return self.text("post")

    @property
    def unit(self) -> str:
        return self.text("unit", "（被审单位）")

    @property
    def unit_level(self) -> str:
        return UNIT_LEVELS.get(self.text("unit_level"), self.text("unit_level"))

    @property
    def audit_type(self) -> str:
        """离任 / 届中（任中）, as the notice names the kind of audit."""
        return AUDIT_TYPES.get(self.text("audit_type"), self.text("audit_type"))

    @property
    def leaving(self) -> bool:
        return self.text("audit_type") == "leaving"

    def title_of(self, field_name: str, value: Any) -> str:
        return self.option_titles.get(field_name, {}).get(value, str(value))

    def titles_of(self, field_name: str) -> list[str]:
        return [self.title_of(field_name, v) for v in self.data.get(field_name) or [] if v not in (None, "")]

    # --- when ---------------------------------------------------------------------------
    def day(self, *fields_or_steps: str) -> date | None:
        """The first of: a date the forms recorded (notice_date …), else the day a step was completed."""
        for name in fields_or_steps:
            if name in self.step_days:
                return self.step_days[name]
            parsed = parse_day(self.data.get(name))
            if parsed:
                return parsed
        return None

    def completed(self, step_id: str) -> bool:
        return step_id in self.step_days

    # --- findings and scores -----------------------------------------------------------
    @property
    def merged(self) -> bool:
        """The three departments' findings are merged into one numbered list (汇总问题清单 ran)."""
        return isinstance(self.data.get("findings"), list)

    @property
    def consolidated(self) -> bool:
        """情况汇总 is done: scores, grade and the list as the report states them."""
        return self.completed("consolidate")

    def findings_of(self, duty: str) -> list[FindingRow]:
        return [f for f in self.findings if f.duty == duty]

    def score(self, duty: str) -> float | None:
        value = self.data.get(dict(SCORE_FIELDS)[duty])
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def overall_score(self) -> float | None:
        value = self.data.get("overall_score")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def grade(self) -> str:
        value = self.text("evaluation_grade")
        return GRADE_NAMES.get(value, value)


def _option_titles(catalogue: dict[str, Any]) -> dict[str, dict[Any, str]]:
    """Every choice field's 中文 option titles, from the forms of the process version the case runs on."""
    out: dict[str, dict[Any, str]] = {}

    def walk(props: dict[str, Any]) -> None:
        for name, schema in (props or {}).items():
            if not isinstance(schema, dict):
                continue
            options = schema.get("oneOf") or (schema.get("items") or {}).get("oneOf") or []
            for option in options:
                if isinstance(option, dict) and "const" in option and option.get("title"):
                    out.setdefault(name, {})[option["const"]] = option["title"]
            item_props = (schema.get("items") or {}).get("properties")
            if item_props:
                walk(item_props)

    for step in [catalogue.get("start") or {}, *(catalogue.get("steps") or {}).values()]:
        walk(((step or {}).get("form") or {}).get("properties") or {})
    return out


def case_facts(session: Session, case_id: int) -> CaseFacts:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"项目不存在：{case_id}")
    data = json.loads(case.data_json or "{}")
    step_days: dict[str, date] = {}
    for step_id, at in session.execute(select(Event.step_id, Event.at).where(
            Event.case_id == case_id, Event.kind == "task_completed", Event.step_id.is_not(None)).order_by(Event.seq)):
        step_days.setdefault(step_id, local_date(at))
    catalogue = session.scalar(select(ProcessVersion.catalogue).where(ProcessVersion.id == case.process_version_id)) or {}
    rows = ledger.findings(session, case_id, data.get("findings"))
    by_no = {f.get("item_no"): f for f in data.get("findings") or [] if isinstance(f, dict)}
    for row in rows:  # what the departments wrote on the finding, where no rectification item holds it yet
        raw = by_no.get(row.item_no) or {}
        for name in ("requirement", "standard"):
            if not getattr(row, name) and raw.get(name):
                setattr(row, name, str(raw[name]))
        if row.amount is None and isinstance(raw.get("amount"), (int, float)):
            row.amount = float(raw["amount"])
        if row.deadline is None:
            row.deadline = parse_day(raw.get("deadline"))
    rows.sort(key=lambda r: (DUTIES.index(r.duty) if r.duty in DUTIES else 9, r.item_no or 0))
    return CaseFacts(case_id, case.process_key, case.status, data, step_days, rows, _option_titles(catalogue))


__all__ = ["CaseFacts", "case_facts", "DUTY_NAMES", "DUTIES", "local_date"]
