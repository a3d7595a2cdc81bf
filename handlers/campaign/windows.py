"""A campaign's windows: the provincial plan's defaults in the campaign's year, reading edits, checking them, and
drafting a campaign before it is launched (the only time its windows may change)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData

from .. import units as org_units
from .records import (DEFAULT_DEADLINES, DEFAULT_WINDOWS, DELIVERABLES, PHASES, Campaign, CampaignPhase, CampaignUnit)

Windows = dict[str, tuple[date, date]]
Deadlines = dict[str, date]
MAX_UNITS = 1000


def defaults(year: int) -> tuple[Windows, Deadlines]:
    """The Hubei provincial plan (宣传发动 8/15–8/31 … 总结提高 12/1–12/15) in `year`."""
    windows = {code: (date(year, *start), date(year, *end)) for code, (start, end) in DEFAULT_WINDOWS.items()}
    return windows, {kind: date(year, *md) for kind, md in DEFAULT_DEADLINES.items()}


def field_names(prefix: str = "") -> list[str]:
    return [f"{prefix}{code}_{edge}" for code in PHASES for edge in ("start", "end")] + \
           [f"{prefix}{kind}_due" for kind in DELIVERABLES]


def read(values: Mapping[str, Any], windows: Windows, deadlines: Deadlines, prefix: str = "") -> tuple[Windows, Deadlines]:
    """`windows` and `deadlines` with the dates given in `values` (fields `publicity_start`, `work_plan_due`, …,
    each under `prefix`); an empty field keeps the date it had. A date that is not one is refused at its field."""
    problems: dict[str, list[str]] = {}

    def get(name: str, current: date) -> date:
        raw = values.get(prefix + name)
        if raw in (None, ""):
            return current
        try:
            return date.fromisoformat(str(raw)[:10])
        except ValueError:
            problems.setdefault(prefix + name, []).append(f"日期格式应为 年-月-日：{raw}")
            return current

    new_windows = {code: (get(f"{code}_start", start), get(f"{code}_end", end)) for code, (start, end) in windows.items()}
    new_deadlines = {kind: get(f"{kind}_due", due) for kind, due in deadlines.items()}
    if problems:
        raise InvalidData("日期格式不正确", details=problems)
    return new_windows, new_deadlines


def check(windows: Windows, deadlines: Deadlines, prefix: str = "") -> None:
    """Each window starts no later than it ends, and each deliverable is due no earlier than its phase opens
    (inside the phase or after it). Phases may overlap and come in any order: the Wuhan audit bureau's 检查追责
    (4/16–8/31) runs during its 自查整改 (5/1–6/30)."""
    problems: dict[str, list[str]] = {}
    for code, (start, end) in windows.items():
        if start > end:
            problems.setdefault(f"{prefix}{code}_end", []).append(
                f"{PHASES[code][0]}的结束日期 {end} 早于开始日期 {start}")
    for kind, due in deadlines.items():
        zh, _en, phase = DELIVERABLES[kind]
        opens = windows[phase][0]
        if due < opens:
            problems.setdefault(f"{prefix}{kind}_due", []).append(
                f"{zh}的报送时限 {due} 早于{PHASES[phase][0]}阶段开始（{opens}）")
    if problems:
        raise InvalidData("各阶段时间或报送时限有误：" + "；".join(m for ms in problems.values() for m in ms), details=problems)


def check_units(session: Session, office: str, names: list[str], field: str = "participating_units",
                under: str | None = None) -> list[str]:
    """The participating units, each a registered unit other than the office (and below `under` when given)."""
    cleaned = list(dict.fromkeys(str(n).strip() for n in names or [] if str(n).strip()))
    if not cleaned:
        raise InvalidData("请至少选择一个参加单位", details={field: ["至少选择一个参加单位"]})
    if len(cleaned) > MAX_UNITS:
        raise InvalidData(f"参加单位最多 {MAX_UNITS} 个", details={field: [f"最多 {MAX_UNITS} 个"]})
    unknown = [n for n in cleaned if org_units.by_name(session, n) is None]
    if unknown:
        raise InvalidData(f"未登记的单位：{'、'.join(unknown)}", details={field: [f"未登记的单位：{n}" for n in unknown]})
    if office in cleaned:
        raise InvalidData("牵头单位不能同时是参加单位", details={field: [f"{office} 是牵头单位"]})
    if under is not None:
        allowed = set(org_units.names(org_units.children(session, under)))
        outside = [n for n in cleaned if n not in allowed]
        if outside:
            raise InvalidData(f"不是 {under} 的下属单位：{'、'.join(outside)}",
                              details={field: [f"{n} 不是 {under} 的下属单位" for n in outside]})
    return cleaned


def draft(session: Session, *, name: str, office: str, year: int, units: list[str], actor: str, now: datetime,
          windows: Windows | None = None, deadlines: Deadlines | None = None, parent_id: int | None = None,
          under: str | None = None) -> Campaign:
    """A campaign not yet launched, with its phases; the defaults are the provincial plan in `year`."""
    name = (name or "").strip()
    if not name:
        raise InvalidData("请填写活动名称", details={"campaign_name": ["必填"]})
    if not 2000 <= int(year) <= 2100:
        raise InvalidData("年度应在 2000 至 2100 之间", details={"year": [str(year)]})
    if org_units.by_name(session, office) is None:
        raise InvalidData(f"未登记的单位：{office}", details={"unit": [f"未登记的单位：{office}"]})
    base_windows, base_deadlines = defaults(int(year))
    windows, deadlines = windows or base_windows, deadlines or base_deadlines
    check(windows, deadlines)
    names = check_units(session, office, units, under=under)
    campaign = Campaign(name=name[:200], issuing_office=office, year=int(year), parent_id=parent_id, status="draft",
                        deadlines={k: v.isoformat() for k, v in deadlines.items()}, summary="", created_by=actor,
                        created_at=now)
    session.add(campaign)
    session.flush()
    for position, (code, (start, end)) in enumerate(windows.items()):
        session.add(CampaignPhase(campaign_id=campaign.id, code=code, name=PHASES[code][0], starts_on=start, ends_on=end,
                                  position=position))
    for unit in names:
        session.add(CampaignUnit(campaign_id=campaign.id, unit=unit, status="invited"))
    session.flush()
    return campaign


def windows_of(session: Session, campaign_id: int) -> tuple[Windows, Deadlines]:
    phases = session.scalars(select(CampaignPhase).where(CampaignPhase.campaign_id == campaign_id)
                             .order_by(CampaignPhase.position)).all()
    campaign = session.get(Campaign, campaign_id)
    return ({p.code: (p.starts_on, p.ends_on) for p in phases},
            {k: date.fromisoformat(v) for k, v in (campaign.deadlines or {}).items()})


def edit(session: Session, campaign: Campaign, values: Mapping[str, Any], units: list[str] | None = None) -> None:
    """Change a draft's windows (and participating units). A launched campaign's units already work to its dates:
    refused, with the reason."""
    if campaign.status != "draft":
        raise InvalidData("活动已部署，各阶段时间和报送时限不能再修改（各参加单位已按原时限办理）",
                          details={"campaign": ["活动已部署"]})
    windows, deadlines = read(values, *windows_of(session, campaign.id))
    check(windows, deadlines)
    for phase in session.scalars(select(CampaignPhase).where(CampaignPhase.campaign_id == campaign.id)):
        phase.starts_on, phase.ends_on = windows[phase.code]
    campaign.deadlines = {k: v.isoformat() for k, v in deadlines.items()}
    if units is not None:
        parent_office = None
        if campaign.parent_id:
            parent_office = campaign.issuing_office
        names = check_units(session, campaign.issuing_office, units, under=parent_office)
        existing = {u.unit: u for u in session.scalars(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id))}
        for name, row in existing.items():
            if name not in names:
                session.delete(row)
        for name in names:
            if name not in existing:
                session.add(CampaignUnit(campaign_id=campaign.id, unit=name, status="invited"))
    session.flush()


def case_dates(windows: Windows, deadlines: Deadlines) -> dict[str, str]:
    """What the processes' timers and deadlines read: `<phase>_start/_end`, `<kind>_due` and `<kind>_work_due` (the
    open work item's deadline, which a send-back may move later; `<kind>_due` stays the campaign's)."""
    out = {}
    for code, (start, end) in windows.items():
        out[f"{code}_start"], out[f"{code}_end"] = start.isoformat(), end.isoformat()
    for kind, due in deadlines.items():
        out[f"{kind}_due"] = out[f"{kind}_work_due"] = due.isoformat()
    return out
