"""The records of a 治庸问责 campaign (seed 003): the campaign with its phases' windows and deliverable deadlines,
each participating unit (with the case that carries its side and any child campaign it launched further down),
each unit's deliverables as the leading office received and reviewed them, and the office's open and covert
inspections (明查暗访).

The dashboard and the unit pages read these rows only (never a workflow's state), like /supervise.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base

# The four phases of the provincial plan, in the plan's order (phases may overlap: never assume they follow).
PHASES: dict[str, tuple[str, str]] = {
    "publicity": ("宣传发动", "Publicity and mobilization"),
    "self_inspection": ("自查整改", "Self-inspection and rectification"),
    "supervision": ("督查问责", "Supervision and accountability"),
    "summary": ("总结提高", "Summary and improvement"),
}
# What each unit hands in to the leading office, and in which phase: {kind: (Chinese, English, phase)}.
DELIVERABLES: dict[str, tuple[str, str, str]] = {
    "work_plan": ("工作方案", "Work plan", "publicity"),
    "problem_list": ("问题清单", "Problem list", "self_inspection"),
    "life_meeting": ("专题民主生活会记录", "Special democratic-life meeting record", "self_inspection"),
    "public_commitment": ("公开承诺", "Public commitment", "self_inspection"),
    "typical_examples": ("正反典型材料", "Positive and negative examples", "self_inspection"),
    "rectification_report": ("整改报告", "Rectification report", "self_inspection"),
    "summary_report": ("总结报告", "Summary report", "summary"),
}
# The Hubei provincial plan (省直机关治庸问责工作领导小组, 2011-8-26) as (month, day) in the campaign's year.
# The seed dates the work plan (8/25), the rectification report (10/15) and the summary (12/12); it gives no date
# for the problem list, the democratic-life meeting, the public commitment or the examples: ours are spread
# through 自查整改 in the seed's order, and every one is editable per campaign before launch.
DEFAULT_WINDOWS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "publicity": ((8, 15), (8, 31)),
    "self_inspection": ((9, 1), (10, 15)),
    "supervision": ((10, 16), (11, 30)),
    "summary": ((12, 1), (12, 15)),
}
DEFAULT_DEADLINES: dict[str, tuple[int, int]] = {
    "work_plan": (8, 25),
    "problem_list": (9, 15),
    "life_meeting": (9, 30),
    "public_commitment": (10, 10),
    "typical_examples": (10, 15),
    "rectification_report": (10, 15),
    "summary_report": (12, 12),
}
CAMPAIGN_STATUSES = {"draft": ("待部署", "Draft"), "running": ("进行中", "Running"), "closed": ("已结束", "Closed")}
DELIVERABLE_STATUSES = {
    "pending": ("待报送", "Not yet in"),
    "submitted": ("待审核", "Under review"),
    "sent_back": ("退回修改", "Sent back"),
    "accepted": ("已通过", "Accepted"),
}
INSPECTION_MODES = {"open": ("明查", "Open inspection"), "covert": ("暗访", "Covert visit")}


class Campaign(Base):
    """One campaign as its leading office runs it; a child campaign (parent_id) is a unit's own launch of it to its
    sub-units, led by that unit."""

    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuing_office: Mapped[str] = mapped_column(String(200), index=True)  # an org unit's name
    year: Mapped[int]
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaign.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"), index=True)  # the office's case
    deadlines: Mapped[dict[str, Any]]  # {deliverable kind: "YYYY-MM-DD"}
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    launched_at: Mapped[Optional[datetime]]
    closed_at: Mapped[Optional[datetime]]


class CampaignPhase(Base):
    """A phase's window; the name is the campaign's own (the Wuhan audit bureau calls 督查问责 检查追责)."""

    __tablename__ = "campaign_phase"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(50))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)


class CampaignUnit(Base):
    """A participating unit: the case carrying its side, and the campaign it launched to its own sub-units."""

    __tablename__ = "campaign_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running", server_default="running")
    child_campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaign.id"))
    commended: Mapped[bool] = mapped_column(default=False, server_default=false())
    __table_args__ = (UniqueConstraint("campaign_id", "unit"),)


class Deliverable(Base):
    """One unit's deliverable of a campaign: its deadline, what was handed in, and the office's review."""

    __tablename__ = "campaign_deliverable"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    phase: Mapped[str] = mapped_column(String(30))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    first_submitted_at: Mapped[Optional[datetime]]
    submitted_at: Mapped[Optional[datetime]]  # the latest submission
    accepted_at: Mapped[Optional[datetime]]
    late: Mapped[bool] = mapped_column(default=False, server_default=false())  # first handed in after its deadline
    send_back_count: Mapped[int] = mapped_column(default=0, server_default="0")
    content: Mapped[dict[str, Any]]  # the unit's form as last submitted
    review_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviewed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    __table_args__ = (UniqueConstraint("campaign_id", "unit", "kind"), Index("ix_campaign_deliverable_campaign", "campaign_id"))


class Inspection(Base):
    """An open inspection or covert visit (明查暗访) of a unit by the leading office, and whether it is exposed."""

    __tablename__ = "campaign_inspection"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit: Mapped[str] = mapped_column(String(200))
    inspected_on: Mapped[date]
    mode: Mapped[str] = mapped_column(String(10))  # open / covert
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    findings: Mapped[str] = mapped_column(Text)
    expose: Mapped[bool] = mapped_column(default=False, server_default=false())  # 曝光
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))  # the office case it was recorded in
    complaint_case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case.id"))  # passed on for investigation
