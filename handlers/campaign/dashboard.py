"""What the campaign pages and the dashboard read: per participating unit and phase, deliverables in / late /
missing / sent back; complaints received / answered / overdue (handlers.complaint.complaint_counts); key tasks by
light (handlers.key_tasks.light_counts); inspections. Records only — no workflow is loaded, like /supervise."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.timers import office_date

from .records import DELIVERABLES, PHASES, Campaign, CampaignPhase, CampaignUnit, Deliverable, Inspection


@dataclass
class PhaseCell:
    """One unit's deliverables of one phase: `handed_in` at least once, `late` (handed in after the deadline),
    `missing` (deadline passed, nothing in), `sent_back` (send-backs counted), `accepted`, `total`."""

    total: int = 0
    handed_in: int = 0
    late: int = 0
    missing: int = 0
    sent_back: int = 0
    accepted: int = 0

    @property
    def behind(self) -> bool:
        return bool(self.late or self.missing)


@dataclass
class UnitRow:
    unit: str
    case_id: int | None
    status: str
    child_campaign_id: int | None
    commended: bool
    phases: dict[str, PhaseCell] = field(default_factory=dict)
    inspections: int = 0
    exposed: int = 0
    complaints: dict[str, int] | None = None  # None: complaint handling not installed
    lights: dict[str, int] | None = None  # None: key tasks not installed

    @property
    def behind(self) -> bool:
        return any(c.behind for c in self.phases.values())

    @property
    def late(self) -> int:
        return sum(c.late for c in self.phases.values())

    @property
    def missing(self) -> int:
        return sum(c.missing for c in self.phases.values())


def deliverable_state(d: Deliverable, today) -> str:
    """pending / submitted / sent_back / accepted, or `missing` once the deadline day has passed with nothing in."""
    if d.first_submitted_at is None and today > d.due_on:
        return "missing"
    return d.status


def dashboard_rows(session: Session, campaign_id: int, now: datetime) -> list[UnitRow]:
    """One row per participating unit (by name), with a cell per phase (all four, even one without deliverables)."""
    today = office_date(now)
    units = session.scalars(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign_id)
                            .order_by(CampaignUnit.unit)).all()
    rows = {u.unit: UnitRow(u.unit, u.case_id, u.status, u.child_campaign_id, u.commended,
                            {code: PhaseCell() for code in PHASES}) for u in units}
    for d in session.scalars(select(Deliverable).where(Deliverable.campaign_id == campaign_id)):
        row = rows.get(d.unit)
        if row is None:
            continue
        cell = row.phases[d.phase]
        cell.total += 1
        cell.handed_in += d.first_submitted_at is not None
        cell.late += bool(d.late)
        cell.missing += deliverable_state(d, today) == "missing"
        cell.sent_back += d.send_back_count
        cell.accepted += d.status == "accepted"
    for unit, count, exposed in session.execute(
            select(Inspection.unit, func.count(), func.sum(case((Inspection.expose.is_(True), 1), else_=0)))
            .where(Inspection.campaign_id == campaign_id).group_by(Inspection.unit)):
        if unit in rows:
            rows[unit].inspections, rows[unit].exposed = count, int(exposed or 0)
    names = list(rows)
    complaints = _complaints(session, names, campaign_id, now)
    lights = _lights(session, names, session.scalar(select(Campaign.year).where(Campaign.id == campaign_id)))
    zero_c = {"received": 0, "answered": 0, "overdue": 0, "open": 0}
    zero_l = {"red": 0, "yellow": 0, "green": 0, "unrated": 0, "closed": 0, "total": 0}
    for name, row in rows.items():
        row.complaints = None if complaints is None else complaints.get(name, dict(zero_c))
        row.lights = None if lights is None else lights.get(name, dict(zero_l))
    return list(rows.values())


def _complaints(session: Session, units: list[str], campaign_id: int, now: datetime) -> dict | None:
    try:
        from handlers.complaint import complaint_counts
    except ImportError:
        return None
    return complaint_counts(session, units, campaign_id=campaign_id, now=now)


def _lights(session: Session, units: list[str], year: int | None) -> dict | None:
    try:
        from handlers.key_tasks import light_counts
    except ImportError:
        return None
    return light_counts(session, units, int(year)) if year else None


def phases(session: Session, campaign_id: int) -> list[CampaignPhase]:
    return list(session.scalars(select(CampaignPhase).where(CampaignPhase.campaign_id == campaign_id)
                                .order_by(CampaignPhase.position)))


def unit_page(session: Session, campaign_id: int, unit: str, now: datetime) -> dict[str, Any] | None:
    """The unit's deliverables with their state, its inspections, its case and any campaign it launched below."""
    row = session.scalar(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign_id, CampaignUnit.unit == unit))
    if row is None:
        return None
    today = office_date(now)
    order = list(DELIVERABLES)
    deliverables = sorted(session.scalars(select(Deliverable).where(Deliverable.campaign_id == campaign_id,
                                                                     Deliverable.unit == unit)),
                          key=lambda d: order.index(d.kind) if d.kind in order else 99)
    inspections = list(session.scalars(select(Inspection).where(Inspection.campaign_id == campaign_id,
                                                                Inspection.unit == unit)
                                       .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())))
    return {"participant": row, "deliverables": [(d, deliverable_state(d, today)) for d in deliverables],
            "inspections": inspections}


def export_table(campaign: Campaign, rows: list[UnitRow], phase_names: dict[str, str]) -> tuple[list[str], list[tuple[str, int]], list[list]]:
    """(columns, group headers, rows) of the dashboard's Excel: the same figures as the page."""
    columns = ["单位"]
    groups = [("", 1)]
    for code in PHASES:
        columns += ["已报送", "逾期报送", "逾期未报", "退回修改"]
        groups.append((phase_names.get(code, PHASES[code][0]), 4))
    columns += ["明查暗访", "曝光", "收到投诉", "已回复", "逾期未办", "红灯", "黄灯", "绿灯", "通报表彰"]
    groups += [("明查暗访", 2), ("投诉举报", 3), ("重点任务", 3), ("", 1)]
    out = []
    for row in rows:
        line: list[Any] = [row.unit]
        for code in PHASES:
            cell = row.phases[code]
            line += [f"{cell.handed_in}/{cell.total}", cell.late, cell.missing, cell.sent_back]
        line += [row.inspections, row.exposed]
        c, lights = row.complaints, row.lights
        line += [c["received"], c["answered"], c["overdue"]] if c is not None else ["—"] * 3
        line += [lights["red"], lights["yellow"], lights["green"]] if lights is not None else ["—"] * 3
        line.append("是" if row.commended else "")
        out.append(line)
    return columns, groups, out
