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
        rows.append(_with_item(FindingRow(no, str(finding.get("duty") or ""), str(finding.get("severity") or ""),
                                          str(finding.get("description") or "")), items.pop(no, None)))
    for item in items.values():
        rows.append(_with_item(FindingRow(item.item_no, item.duty, item.severity, item.description), item))
    return rows


def _with_item(row: FindingRow, item: RectificationItem | None) -> FindingRow:
    if item is not None:
        row.status, row.contact_role, row.contact_name = item.status, item.contact_role, item.contact_name
        row.deadline, row.listed_supervision, row.visits = item.deadline, item.listed_supervision, item.visits
        row.closed_at = item.closed_at
    return row


def visit_ledger(session: Session, case_id: int) -> list[VisitRow]:
    """The case's follow-up visits, by round and item number."""
    rows = session.execute(
        select(FollowUpVisit, RectificationItem.item_no, RectificationItem.description)
        .join(RectificationItem, RectificationItem.id == FollowUpVisit.item_id)
        .where(FollowUpVisit.case_id == case_id)
        .order_by(FollowUpVisit.round, RectificationItem.item_no, FollowUpVisit.id)
    ).all()
    return [VisitRow(v.round, v.visit_date, item_no, description, v.result, v.note or "", v.recorded_at)
            for v, item_no, description in rows]
