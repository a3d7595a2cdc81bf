"""A handful of complaints (信访举报, seeds 002 and 003) in the states a discipline body's desk shows, one per
routing: handled directly (直办) and substantiated, its accountability outcome in the cadre's integrity file;
assigned down (交办) to 戴窑镇, whose clerk (the `unit` account) is investigating; transferred (转办) and
waiting for the competent body's result; supervised (督办) with a follow-up done and the next one set; one
investigated whose reply to the informant is overdue (escalated); and one anonymous letter from the report box,
outside the four musts, filed with no reply possible.

Complaints are registered as the intake page registers them (the complaint row with its informant, then the
case) and walked by the discipline body's and the unit's own accounts.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from .org import GAOGUAN
from .places import UNIT_ACCOUNT_UNIT
from .walker import Walker, at_office

DISCIPLINE = "discipline"


def id_number(base17: str) -> str:
    """A resident ID number with its check digit (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(base17, weights))
    return base17 + "10X98765432"[total % 11]


def _register(walker: Walker, received_on: date, flags: dict[str, bool], **fields: str) -> int:
    from handlers import complaint as records
    from handlers.campaign.records import Campaign, CampaignUnit

    actor = walker.actor(DISCIPLINE)
    with walker.engine.db.transaction() as session:
        # a complaint about a unit of the running campaign is one of the campaign's (调查核实, seed 003)
        campaign_id = session.scalar(select(Campaign.id).join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id)
                                     .where(Campaign.status == "running", Campaign.parent_id.is_(None),
                                            CampaignUnit.unit == fields["unit"]))
        row = records.new_complaint(session, actor=actor.username, now=walker.clock.now, received_on=received_on,
                                    campaign_id=campaign_id, **fields)
        data = records.start_data(row, specific_clues=flags.get("clues"),
                                  about_principal_conduct=flags.get("principal", False),
                                  found_in_check=flags.get("check", False), against_unit=flags.get("unit", False))
    return walker.engine.start_case("complaint", data, actor)


def plan(walker: Walker, today: date) -> None:
    rng = walker.rng
    d = lambda n: today - timedelta(days=n)  # noqa: E731
    iso = lambda n: d(n).isoformat()  # noqa: E731
    cases: dict[str, int] = {}

    def register(key: str, days_ago: int, flags: dict[str, bool], **fields: str) -> None:
        def run() -> None:
            cases[key] = _register(walker, d(days_ago), flags, **fields)

        walker.plan(at_office(d(days_ago), 9, rng.randint(0, 50)), run)

    def step(key: str, days_ago: int, step_id: str, data: dict[str, Any], who: str = DISCIPLINE, hour: int = 14) -> None:
        walker.plan(at_office(d(days_ago), hour, rng.randint(0, 50), not_before=d(days_ago + 1)),
                    lambda: walker.complete(cases[key], step_id, data, who))

    # 直办: the hotline, real name, about the window the covert inspection found; substantiated, replied,
    # 通报批评 in the integrity file.
    register("direct", 26, {"clues": True}, source="hotline", unit="省交通运输厅",
             summary="省政务服务中心交通运输窗口工作人员上班时间玩手机游戏，群众排队无人接待，多次投诉无果。",
             subject_name="郑凯文", subject_post="窗口服务科科长", clues="10月以来每周二、周四上午均有此现象，有现场照片。",
             informant_name="刘建伟", informant_contact="139 7120 4418")
    step("direct", 25, "route", {"routing": "direct", "investigation_deadline": iso(12), "reply_deadline": iso(9),
                                 "routing_note": "由省纪委监委派驻纪检监察组直接调查核实。"})
    step("direct", 15, "investigate", {"finding": "substantiated", "investigated_on": iso(15),
                                       "finding_text": "经调取监控、询问当事人，反映问题属实：窗口科长郑凯文对工作人员上班时间玩手机游戏长期失管失察。"})
    step("direct", 14, "reply_informant", {"reply_status": "sent", "replied_on": iso(14), "reply_method": "phone",
                                           "reply_note": "已电话告知举报人调查结果及处理意见，举报人表示满意。"})
    step("direct", 12, "assess_accountability", {"ground": "management_duty", "severity": "minor",
                                                 "repeat_offence": False, "serious_consequences": False,
                                                 "assessment_note": "失管失察，情节较轻，首次被问责。"})

    # 交办: the mailbox, with a contact, about 戴窑镇; the town's clerk investigates (due in ten days).
    register("assign", 9, {"clues": True}, source="mailbox", unit=UNIT_ACCOUNT_UNIT,
             summary="镇村建办审批农房翻建手续拖沓，群众往返五六次仍未办结，工作人员推诿。",
             clues="涉及东风村、戴窑村两户农房翻建申请，9月提交至今未批。", informant_name="",
             informant_contact="dy_jubao@163.com")
    step("assign", 8, "route", {"routing": "assign", "investigation_deadline": (today + timedelta(days=10)).isoformat(),
                                "reply_deadline": (today + timedelta(days=15)).isoformat(),
                                "routing_note": "交戴窑镇党委调查处理，按期报送调查结果。"})

    # 转办: a letter about the city's housing bureau, passed to the competent body; its result is due soon.
    register("transfer", 18, {"clues": True}, source="letter", unit="兴化市住建局",
             summary="反映兴化市住建局某科室在老旧小区改造项目验收中把关不严、验收走过场。",
             subject_name="", clues="涉及昭阳街道两个小区的改造工程。", informant_name="周桂兰",
             informant_contact="兴化市昭阳街道英武路")
    step("transfer", 17, "route", {"routing": "transfer", "investigation_deadline": (today + timedelta(days=4)).isoformat(),
                                   "reply_deadline": (today + timedelta(days=9)).isoformat(),
                                   "handling_body": "兴化市纪委监委派驻第三纪检监察组", "transfer_letter_date": iso(17),
                                   "routing_note": "属驻在部门职责范围，转派驻纪检监察组办理并报结果。"})

    # 督办: the hotline about 省高管局's toll station, handled by the bureau's own discipline office under supervision.
    register("supervise", 16, {"clues": True, "check": True}, source="inspection", unit=GAOGUAN,
             summary="明查暗访发现随岳高速公路管理处京山收费站夜班人员脱岗，投诉电话无人接听。",
             subject_name="", clues="暗访组11月夜间两次暗访记录。", informant_name="", informant_contact="")
    step("supervise", 15, "route", {"routing": "supervise", "investigation_deadline": (today + timedelta(days=14)).isoformat(),
                                    "reply_deadline": (today + timedelta(days=20)).isoformat(),
                                    "handling_body": "省高管局纪检监察室", "first_follow_up": iso(4),
                                    "routing_note": "由省高管局纪检监察室查处，省纪委监委督办。"})
    step("supervise", 4, "supervise_follow_up", {"result_in": False, "next_follow_up": (today + timedelta(days=5)).isoformat(),
                                                 "follow_up_note": "已询问当班人员6名，调取考勤和监控，正在核实脱岗时长。"})

    # Investigated, not substantiated; the reply to the informant was due three days ago.
    register("reply_due", 20, {"clues": True}, source="questionnaire", unit="省市场监管局",
             summary="问卷反映登记注册窗口办理营业执照变更超过承诺时限。", subject_name="",
             clues="9月下旬两件变更登记。", informant_name="何丽娟", informant_contact="027-8761 2093")
    step("reply_due", 19, "route", {"routing": "direct", "investigation_deadline": iso(6), "reply_deadline": iso(3),
                                    "routing_note": "派驻纪检监察组核查。"})
    step("reply_due", 7, "investigate", {"finding": "not_substantiated", "investigated_on": iso(7),
                                         "finding_text": "两件变更登记均因材料不全退回补正，补正后当日办结，未超承诺时限。"})

    # Anonymous, from the report box, nothing specific: outside the four musts, filed; no reply possible.
    register("anonymous", 11, {}, source="report_box", unit="省人社厅", summary="反映机关个别干部工作作风漂浮。",
             informant_name="", informant_contact="")
    step("anonymous", 10, "decide_handling", {"handling_decision": "file", "reply_deadline": iso(1),
                                              "handling_reason": "匿名，无具体人和事，存档备查，纳入作风建设专项检查参考。"})
    step("anonymous", 10, "reply_informant", {"reply_status": "impossible",
                                              "impossible_reason": "匿名举报，未留联系方式。"}, hour=16)

    # 直办's decision: the accountability_level table's proposal, confirmed.
    def decide() -> None:
        case = walker.engine.case(cases["direct"])
        proposed = case["data"].get("proposed_outcome") or "circulated_criticism"
        walker.complete(cases["direct"], "decide_accountability", {
            "accountability_outcome": proposed, "accountability_reason": "对窗口工作人员上班时间玩手机游戏长期失管失察，群众反映强烈。",
            "accountability_decided_on": iso(9), "accountable_name": "郑凯文",
            "cadre_id_number": id_number("42010619790512" + "283")}, DISCIPLINE)

    walker.plan(at_office(d(9), 15, 30, not_before=d(10)), decide)


