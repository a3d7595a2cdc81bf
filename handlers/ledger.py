"""Read side of rectification: the findings of a case with their item status, and the visit ledger (回访台账).

The rows are written by handlers/rectification.py inside steps; pages only read them here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .findings import DUTY_NAMES
from .records import FollowUpVisit, RectificationItem

SEVERITY_NAMES = {"major": "重大", "general": "一般"}
SEVERITY_NAMES_EN = {"major": "major", "general": "general"}
ITEM_STATUS_NAMES = {"open": "整改中", "closed": "已销号"}
VISIT_RESULT_NAMES = {"closed": "已销号", "open": "未整改到位"}
CONTACT_ROLE_NAMES = {"principal": "主要负责人", "deputy": "分管负责人"}
CLOSER_NAMES = {"organization": "组织部", "staffing": "编办", "audit": "审计局"}
RESPONSIBILITY_NAMES = {"leadership": "领导责任", "direct": "直接责任"}


@dataclass
class FindingRow:
    """One finding of the case data, with its rectification item when one was opened."""

    item_no: int | None
    duty: str
    severity: str
    description: str
    status: str | None = None  # open / closed; None while no rectification item exists
    contact_role: str | None = None
    contact_name: str | None = None
    deadline: date | None = None
    listed_supervision: bool = False
    visits: int = 0
    closed_at: datetime | None = None
    problem_category: str = ""
    responsibility_type: str = ""
    requirement: str = ""
    standard: str = ""
    measures: str = ""
    progress: str = ""
    owner_name: str = ""
    amount: float | None = None
    demerit_points: float | None = None
    listed_deadline: date | None = None
    listed_letter_no: str = ""
    lifted_at: datetime | None = None
    repeated: bool = False
    repeat_of_case_id: int | None = None
    contact_username: str | None = None
    closed_by_role: str | None = None
    evidence: int | None = None

    @property
    def category_name(self) -> str:
        from .rectification import PROBLEM_CATEGORIES

        return PROBLEM_CATEGORIES.get(self.duty, {}).get(self.problem_category, ("", ""))[0]

    @property
    def responsibility_name(self) -> str:
        return RESPONSIBILITY_NAMES.get(self.responsibility_type, "")

    @property
    def closer_name(self) -> str:
        return CLOSER_NAMES.get(self.closed_by_role or "", "")

    @property
    def listing_state(self) -> str:
        """挂牌督办 / 已摘牌 / "" for items never listed."""
        if not self.listed_supervision:
            return ""
        return "已摘牌" if self.lifted_at else "挂牌督办"

    @property
    def duty_name(self) -> str:
        return DUTY_NAMES.get(self.duty, self.duty)

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES.get(self.severity, self.severity)

    @property
    def status_name(self) -> str:
        return ITEM_STATUS_NAMES.get(self.status or "", "")

    @property
    def contact_role_name(self) -> str:
        return CONTACT_ROLE_NAMES.get(self.contact_role or "", self.contact_role or "")


@dataclass
class VisitRow:
    """One line of the visit ledger."""

    round: int
    visit_date: date | None
    item_no: int
    description: str
    result: str
    note: str
    recorded_at: datetime
    duty: str = ""
    visited_by_role: str | None = None
    evidence: str = ""

    @property
    def visitor_name(self) -> str:
        return CLOSER_NAMES.get(self.visited_by_role or "", "")

    @property
    def result_name(self) -> str:
        return VISIT_RESULT_NAMES.get(self.result, self.result)


def rectification_items(session: Session, case_id: int) -> list[RectificationItem]:
    return list(session.scalars(select(RectificationItem).where(RectificationItem.case_id == case_id)
                                .order_by(RectificationItem.item_no)).all())


def _item_no(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def findings(session: Session, case_id: int, case_findings: list[Any] | None) -> list[FindingRow]:
    """The case's merged findings (case data `findings`) joined by item number with their rectification items.

    Items without a finding in the data (data edited since) are listed too, so nothing on the ledger is hidden.
    """
    items = {item.item_no: item for item in rectification_items(session, case_id)}
    rows: list[FindingRow] = []
    for finding in case_findings or []:
        if not isinstance(finding, dict):
            continue
        no = _item_no(finding.get("item_no"))
        row = FindingRow(no, str(finding.get("duty") or ""), str(finding.get("severity") or ""),
                         str(finding.get("description") or ""))
        row.problem_category = str(finding.get("problem_category") or "")
        row.responsibility_type = str(finding.get("responsibility_type") or "")
        row.repeated = bool(finding.get("repeated"))
        row.repeat_of_case_id = finding.get("repeat_of_case_id") if row.repeated else None
        rows.append(_with_item(row, items.pop(no, None)))
    for item in items.values():
        rows.append(_with_item(FindingRow(item.item_no, item.duty, item.severity, item.description), item))
    return rows


def _with_item(row: FindingRow, item: RectificationItem | None) -> FindingRow:
    if item is not None:
        row.status, row.contact_role, row.contact_name = item.status, item.contact_role, item.contact_name
        row.deadline, row.listed_supervision, row.visits = item.deadline, item.listed_supervision, item.visits
        row.closed_at = item.closed_at
        for name in ("problem_category", "responsibility_type", "requirement", "standard", "measures", "progress",
                     "owner_name", "amount", "demerit_points", "listed_deadline", "listed_letter_no", "lifted_at",
                     "repeated", "repeat_of_case_id", "contact_username", "closed_by_role", "evidence"):
            setattr(row, name, getattr(item, name))
    return row


def visit_ledger(session: Session, case_id: int) -> list[VisitRow]:
    """The case's follow-up visits, by round and item number."""
    rows = session.execute(
        select(FollowUpVisit, RectificationItem.item_no, RectificationItem.description, RectificationItem.duty)
        .join(RectificationItem, RectificationItem.id == FollowUpVisit.item_id)
        .where(FollowUpVisit.case_id == case_id)
        .order_by(FollowUpVisit.round, RectificationItem.item_no, FollowUpVisit.id)
    ).all()
    return [VisitRow(v.round, v.visit_date, item_no, description, v.result, v.note or "", v.recorded_at, duty,
                     v.visited_by_role, v.evidence or "")
            for v, item_no, description, duty in rows]


LEDGER_COLUMNS = ["序号", "责任", "问题类别", "问题", "性质", "责任类型", "整改要求", "整改标准", "整改措施", "责任人",
                  "整改联系人", "时限", "督办", "进度", "销号"]
VISIT_COLUMNS = ["轮次", "回访日期", "回访部门", "序号", "问题", "结果", "佐证材料", "回访情况"]


def ledger_rows(rows: list[FindingRow]) -> list[list[Any]]:
    """The rectification ledger (整改台账) as an office prints it: 问题, 整改措施, 责任人, 时限, 进度, 销号."""
    out = []
    for r in rows:
        if r.status is None:
            continue
        listing = r.listing_state + (f"（{r.listed_deadline.isoformat()}前）" if r.listed_deadline and not r.lifted_at else "")
        closed = (f"{r.closed_at.date().isoformat()} {r.closer_name}销号" if r.status == "closed" and r.closed_at else "未销号")
        out.append([r.item_no, r.duty_name, r.category_name, r.description + ("（屡查屡犯）" if r.repeated else ""),
                    r.severity_name, r.responsibility_name, r.requirement, r.standard, r.measures, r.owner_name,
                    f"{r.contact_name or ''}（{r.contact_role_name}）" if r.contact_name else "",
                    r.deadline.isoformat() if r.deadline else "", listing, r.progress or r.status_name, closed])
    return out


def visit_rows(rows: list[VisitRow]) -> list[list[Any]]:
    return [[f"第{v.round}轮", v.visit_date.isoformat() if v.visit_date else "", v.visitor_name, v.item_no, v.description,
             v.result_name, v.evidence, v.note] for v in rows]
