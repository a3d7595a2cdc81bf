"""The Hubei provincial 治庸问责 campaign of seed 003, in progress at the moment of seeding.

The provincial plan's windows (宣传发动 8/15–8/31, 自查整改 9/1–10/15, 督查问责 10/16–11/30, 总结提高 12/1–12/15)
are moved as a whole so that the rectification report (10/15) fell due on a working day three to five days ago:
the campaign is in its 督查问责 phase. Six provincial units take part:

- 省审计厅 and 省市场监管局: everything handed in on time and accepted;
- 省人社厅: its problem list sent back once (a hotline complaint left out), revised and accepted;
- 省卫健委: its rectification report in on the deadline day, sent back (no public appraisal results), being
  revised within the five days a send-back gives;
- 省交通运输厅: its rectification report not in — overdue, reminded (催办) and escalated (督办);
- 省高管局: on time, and it launched the campaign to three of its own units with the later windows of the seed's
  大桥局 plan (整改报告 by 10/20, so due in a day or two), reviewed by its own campaign office: 荆州长江大桥管理局's
  report is in, waiting for review.

The office has recorded three open and covert inspections (明查暗访) since 督查问责 began.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from .org import CAMPAIGN_UNITS, GAOGUAN, GAOGUAN_OFFICE, GAOGUAN_UNITS, HUBEI, PROVINCE_OFFICE
from .walker import Walker, at_office, day_start

NAME = "省直机关强力推进治庸问责工作"
OFFICE = "leading_office"  # the provincial office's clerk: the role account, which sees every unit
LATE = "省交通运输厅"
SENT_BACK = "省人社厅"
REVISING = "省卫健委"
SELF_INSPECTION = ("problem_list", "life_meeting", "public_commitment", "typical_examples", "rectification_report")
# The provincial plan (seed 003) and 大桥局's own plan for its launch further down, as (month, day).
PROVINCE = {"publicity": ((8, 15), (8, 31)), "self_inspection": ((9, 1), (10, 15)),
            "supervision": ((10, 16), (11, 30)), "summary": ((12, 1), (12, 15))}
PROVINCE_DUE = {"work_plan": (8, 25), "problem_list": (9, 15), "life_meeting": (9, 30), "public_commitment": (10, 10),
                "typical_examples": (10, 15), "rectification_report": (10, 15), "summary_report": (12, 12)}
BRIDGE = {"publicity": ((8, 26), (9, 5)), "self_inspection": ((9, 6), (10, 20)),
          "supervision": ((10, 21), (11, 30)), "summary": ((12, 1), (12, 15))}
BRIDGE_DUE = {"work_plan": (9, 1), "problem_list": (9, 20), "life_meeting": (10, 5), "public_commitment": (10, 12),
              "typical_examples": (10, 20), "rectification_report": (10, 20), "summary_report": (12, 10)}


def _dates(windows, deadlines, shift: timedelta, year: int, prefix: str = "") -> dict[str, str]:
    out = {}
    for code, (start, end) in windows.items():
        out[f"{prefix}{code}_start"] = (date(year, *start) + shift).isoformat()
        out[f"{prefix}{code}_end"] = (date(year, *end) + shift).isoformat()
    for kind, md in deadlines.items():
        out[f"{prefix}{kind}_due"] = (date(year, *md) + shift).isoformat()
    return out


def plan(walker: Walker, today: date) -> None:
    """Plan the campaign's steps on `walker` (run by the caller with the other parts)."""
    # The rectification report fell due on a working day three to five days ago (four when it can).
    deadline = next(d for d in (today - timedelta(days=n) for n in (4, 3, 5)) if d.weekday() < 5)
    year = deadline.year
    shift = deadline - date(year, 10, 15)
    dates = _dates(PROVINCE, PROVINCE_DUE, shift, year)
    child = _dates(BRIDGE, BRIDGE_DUE, shift, year, prefix="child_")
    day = lambda key: date.fromisoformat(dates[key])  # noqa: E731
    cday = lambda key: date.fromisoformat(child[f"child_{key}"])  # noqa: E731
    rng = walker.rng
    state: dict[str, Any] = {}

    def launch() -> None:
        from handlers.campaign.steps import office_case_title

        data = {"campaign_name": NAME, "unit": PROVINCE_OFFICE, "title": office_case_title(NAME, PROVINCE_OFFICE),
                "year": date.fromisoformat(dates["publicity_start"]).year,
                "participating_units": list(CAMPAIGN_UNITS), **dates}
        state["office_case"] = walker.engine.start_case("accountability_campaign", data, walker.actor(OFFICE))

    walker.plan(at_office(day("publicity_start") - timedelta(days=3), 10, 12), launch)

    def cascade() -> None:
        case = _unit_case(walker, GAOGUAN)
        walker.complete(case, "cascade", {"launch_down": True, "sub_units": GAOGUAN_UNITS[:3], **child},
                        _clerk(GAOGUAN))

    walker.plan(at_office(day("publicity_start") + timedelta(days=5), 15, 20), cascade)

    def no_cascade(unit: str) -> None:  # 省人社厅 runs the campaign in its own offices only
        walker.complete(_unit_case(walker, unit), "cascade", {"launch_down": False, "sub_units": []}, _clerk(unit))

    for unit in CAMPAIGN_UNITS:
        if unit != GAOGUAN and any(u.parent == unit for u in HUBEI):
            walker.plan(at_office(day("publicity_start") + timedelta(days=2), 11, 5), lambda unit=unit: no_cascade(unit))

    for unit in CAMPAIGN_UNITS:
        _deliverables(walker, unit, day, OFFICE, rng, today, late={"rectification_report"} if unit == LATE else set(),
                      sent_back={"problem_list"} if unit == SENT_BACK else set(),
                      revising={"rectification_report"} if unit == REVISING else set())
    for unit in GAOGUAN_UNITS[:3]:
        # 大桥局's plan: the rectification report is due tomorrow; 荆州长江大桥管理局's is in and accepted.
        pending = set() if unit == GAOGUAN_UNITS[0] else {"rectification_report"}
        _deliverables(walker, unit, cday, GAOGUAN_OFFICE[0], rng, today, pending=pending)

    first = day("supervision_start")
    inspections = [
        (first, "covert", LATE, "省政务服务中心交通运输窗口", "暗访发现窗口工作人员上班时间玩手机游戏，群众排队咨询无人接待；"
         "一名工作人员迟到40分钟未请假。", True),
        (first + timedelta(days=1), "open", REVISING, "厅机关医政医管处", "集中检查：整改台账中3项问题未明确责任人和完成时限，"
         "群众评议意见未逐条回复。", False),
        (first + timedelta(days=1), "covert", GAOGUAN, "随岳高速公路管理处京山收费站", "暗访发现收费站夜班人员脱岗，"
         "投诉电话无人接听。", True),
    ]
    for n, (when, mode, unit, place, findings, expose) in enumerate(inspections):
        def inspect(when=when, mode=mode, unit=unit, place=place, findings=findings, expose=expose) -> None:
            walker.complete(state["office_case"], "inspect", {
                "inspected_unit": unit, "inspected_on": when.isoformat(), "inspection_mode": mode,
                "inspection_place": place, "inspection_findings": findings, "inspection_expose": expose,
                "more_inspections": True}, OFFICE)  # the phase goes on: the office keeps inspecting

        moment = at_office(when, 16, 10 + n * 7, not_before=first)
        if moment < walker.now and moment < day_start(today):
            walker.plan(moment, inspect)


def _clerk(unit: str) -> str:
    return next(u.username for u in HUBEI if u.name == unit)


def _unit_case(walker: Walker, unit: str, office: str = PROVINCE_OFFICE) -> int:
    from handlers.campaign.records import Campaign, CampaignUnit

    with walker.engine.db.reading() as session:
        case_id = session.scalar(select(CampaignUnit.case_id).join(Campaign, Campaign.id == CampaignUnit.campaign_id)
                                 .where(Campaign.issuing_office == office, CampaignUnit.unit == unit))
    if case_id is None:
        raise LookupError(f"{unit} has no campaign case under {office}")
    return case_id


def _deliverables(walker: Walker, unit: str, day, reviewer: str, rng, today: date, late=(), sent_back=(),
                  revising=(), pending=()) -> None:
    """The unit hands each deliverable in a few days before its deadline and the office reviews it a day or
    three later; `late` ones are not in, `pending` ones not yet due, `sent_back` ones are sent back once, revised
    and accepted, and `revising` ones (handed in on the deadline day) were sent back and are being revised."""
    office = GAOGUAN if unit in GAOGUAN_UNITS else PROVINCE_OFFICE
    clerk = _clerk(unit)
    for kind in ("work_plan",) + SELF_INSPECTION:
        if kind in late or kind in pending:
            continue
        due = day(f"{kind}_due")
        opens = day("publicity_start" if kind == "work_plan" else "self_inspection_start") + timedelta(days=1)
        first = due if kind in revising else max(opens, min(due - timedelta(days=rng.randint(1, 6)),
                                                            today - timedelta(days=1)))
        accept = {f"{kind}_decision": "accept", f"{kind}_comment": "同意。"}
        # (days after the previous step, submit or review, the form)
        steps = [(0, "submit", _content(kind, unit, first))]
        if kind in sent_back or kind in revising:
            steps.append((rng.randint(1, 2), "review", {f"{kind}_decision": "send_back", f"{kind}_comment": SEND_BACK[kind]}))
        if kind in sent_back:
            steps.append((2, "submit", _content(kind, unit, first, revised=True)))
        if kind not in revising:
            steps.append((rng.randint(1, 3), "review", accept))
        on, last = first, None
        for gap, verb, data in steps:
            on = on + timedelta(days=gap)
            moment = at_office(on, 9 if verb == "submit" else 15, rng.randint(0, 59),
                               not_before=max(opens, last.date() if last else opens))
            if last is not None and moment <= last:
                moment = last + timedelta(hours=1)
            if moment >= walker.now or day_start(today) <= moment:  # not yet: what is open today stays open
                break
            on, last = _local_day(moment), moment
            who = clerk if verb == "submit" else reviewer

            def act(unit=unit, step=f"{verb}_{kind}", data=data, who=who, office=office) -> None:
                walker.complete(_unit_case(walker, unit, office), step, data, who)

            walker.plan(moment, act)


SEND_BACK = {"problem_list": "问题查摆不深入：举报电话、群众评议反映的问题未列入清单，请补充后重新报送。",
             "rectification_report": "整改报告未附群众评议结果，3项问题未明确责任人和整改时限，请补充后重新报送。"}


def _local_day(moment) -> date:
    from .timelines import local_date

    return local_date(moment)


def _content(kind: str, unit: str, on: date, revised: bool = False) -> dict[str, Any]:
    """What the unit hands in, in the seed's words."""
    if kind == "work_plan":
        return {"work_plan_text": f"{unit}关于强力推进治庸问责工作的实施方案：突出抓好宣传发动、自查整改、督查问责、"
                                  "总结提高四个环节，着力解决“庸懒散软”方面的突出问题。",
                "work_plan_team": "组长：主要负责人；副组长：分管负责人；成员：办公室、人事处、机关党委、纪检监察室负责人。"}
    if kind == "problem_list":
        problems = [
            {"source": "self_inspection", "description": "个别处室推诿扯皮，群众办事多头跑。",
             "measure": "推行首问负责制、限时办结制，一次性告知办事要件。", "refer": False},
            {"source": "questionnaire", "description": "部分干部上班时间上网炒股、玩游戏，迟到早退。",
             "measure": "严格考勤，开展作风纪律专项检查，发现一起通报一起。", "refer": False},
        ]
        if revised:
            problems.append({"source": "hotline", "description": "举报电话反映窗口服务态度生硬、办事拖沓。",
                             "measure": "窗口人员集中培训，设立群众评议台，每月通报评议结果。", "refer": False})
        return {"problems": problems}
    if kind == "life_meeting":
        return {"life_meeting_date": (on - timedelta(days=2)).isoformat(),
                "life_meeting_attendees": "领导班子全体成员；列席：纪检监察室、人事处负责人",
                "life_meeting_record": "针对回避矛盾、不敢碰硬、一团和气等问题，班子成员逐一开展批评与自我批评，"
                                       "剖析原因，明确整改措施和责任人。"}
    if kind == "public_commitment":
        return {"commitment_published_on": (on - timedelta(days=1)).isoformat(),
                "commitment_channels": "单位门户网站、党务公开栏、电子显示屏",
                "commitment_text": "公开查找的主要问题及整改措施，承诺办事时限压缩三分之一，接受群众监督。"}
    if kind == "typical_examples":
        return {"positive_examples": "窗口服务标兵：主动延时服务、上门服务，群众满意率98%。",
                "negative_examples": "一名干部上班时间擅自脱岗，给予通报批评、诫勉谈话。"}
    return {"rectification_report_text": f"{unit}自查整改情况报告：共排查“庸懒散软”突出问题，逐项明确整改措施、"
                                         "责任人和时限，已整改到位的销号，未到位的列入督查问责阶段跟踪督办。",
            "problems_rectified": 11, "problems_remaining": 2}
