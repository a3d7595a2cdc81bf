"""五式履责 (seed 004): this year's key tasks (党风廉政建设重点任务) of three of Xinghua's units and two of the
campaign's, each entered in February with its responsible leader, lead office, target, measures and milestones,
progress reported by the unit's clerk, and lit red / yellow / green each quarter by the discipline body once the quarter is over; one
task closed (销号) in the third quarter after review. The year is the one whose third quarter is over (at New
Year's the year just ended, its fourth quarter still to be rated).
"""
from __future__ import annotations

from datetime import date, timedelta

from .places import UNIT_ACCOUNT_UNIT
from .walker import Walker, at_office

DISCIPLINE = "discipline"
# (unit, clerk, title, leader, lead office, target, measures, lights per quarter, closed in the third quarter)
TASKS = [
    (UNIT_ACCOUNT_UNIT, "unit", "村级“三资”管理专项整治", "镇党委副书记 王志刚", "党政办、农经中心",
     "全镇村级集体资金、资产、资源全部纳入平台监管，清理不规范合同", "逐村清查“三资”台账；规范合同签订和公开；建立季度通报制度",
     ("green", "yellow", "green"), False),
    (UNIT_ACCOUNT_UNIT, "unit", "惠民惠农资金“一卡通”专项治理", "镇纪委书记 陈晓燕", "财政所、民政办",
     "补贴资金发放全部通过“一卡通”，群众反映问题件件有回音", "逐户核对发放名册；公开举报电话；对冒领、截留问题立查立改",
     ("green", "green"), True),
    ("兴化市财政局", "unit_xh_czj", "政府采购领域廉政风险防控", "党组成员、副局长 孙立新", "政府采购管理科",
     "政府采购项目全流程电子化，廉政风险点全部建立防控措施", "梳理采购环节风险点；推行电子卖场；开展供应商评价",
     ("green", "red", "yellow"), False),
    ("省交通运输厅", "unit_hb_jtt", "窗口单位作风效能专项整治", "党组成员、副厅长 程国强", "办公室、政务服务处",
     "政务服务窗口群众满意率达到95%以上，“庸懒散软”问题件件整改", "推行首问负责、限时办结；明查暗访常态化；问题曝光通报",
     ("green", "yellow", "red"), False),
    ("省审计厅", "unit_hb_sjt", "审计项目廉政纪律执行", "党组成员、副厅长 邓亚军", "法规处、机关纪委",
     "审计组执行“八不准”纪律零违规", "审计项目廉政回访全覆盖；审计组廉政监督员制度",
     ("green", "green", "green"), False),
    ("安丰镇", "unit_anfeng", "征地拆迁补偿资金监管", "镇党委副书记 吴海涛", "党政办、财政所",
     "补偿资金专户管理、直达农户，杜绝挤占挪用", "补偿方案公示；资金专户封闭运行；纪委全程监督发放",
     ("yellow", "red", "red"), False),
]
PROGRESS = {"green": "按计划推进", "yellow": "个别节点滞后，正在追赶", "red": "节点未按期完成，部分措施尚未落实"}
REASONS = {"red": "未按时间节点完成，整改推进缓慢", "yellow": "部分节点滞后，需加快推进", "green": ""}


# 戴窑镇's four responsibility lists (seed 004: 4 张责任清单, 各五大具体责任事项), entered with its key tasks.
LISTS = {
    "party_committee": ["每年专题研究党风廉政建设工作不少于2次，部署年度重点任务", "与各村（社区）、站所签订党风廉政建设责任书",
                        "支持镇纪委履行监督责任，听取纪委工作汇报", "组织廉政教育和警示教育，每年不少于2次",
                        "抓好作风建设和群众身边腐败问题专项整治"],
    "principal": ["带头落实主体责任，重要工作亲自部署、重大问题亲自过问", "每年与班子成员和村（社区）书记廉政谈话",
                  "重要案件亲自督办，支持纪委依纪依法查处", "带头廉洁自律，如实报告个人有关事项",
                  "1月底前向市委、市纪委书面报告履行第一责任人职责情况"],
    "members": ["抓好分管领域党风廉政建设，落实“一岗双责”", "每半年与分管站所负责人廉政谈话一次", "排查分管领域廉政风险点并落实防控措施",
                "督促分管领域巡察、审计发现问题的整改", "每年向镇党委报告履行“一岗双责”情况"],
    "discipline": ["协助镇党委抓好党风廉政建设和反腐败工作", "监督检查年度重点任务落实，按季度红黄绿亮灯",
                   "受理信访举报，做到件件有着落", "查处违纪问题，对落实主体责任不力的实行“一案双查”",
                   "将问责情况记入领导干部廉政档案"],
}


def plan(walker: Walker, today: date) -> None:
    rng = walker.rng
    year = (today - timedelta(days=100)).year
    cases: dict[int, int] = {}

    def lists() -> None:
        from handlers.key_tasks import save_lists

        with walker.engine.db.transaction() as session:
            save_lists(session, UNIT_ACCOUNT_UNIT, year, LISTS, "unit", walker.engine.clock())

    walker.plan(at_office(date(year, 2, 10), 9, 30), lists)
    for n, (unit, clerk, title, leader, office, target, measures, lights, closed) in enumerate(TASKS):
        def register(n=n, unit=unit, clerk=clerk, title=title, leader=leader, office=office, target=target,
                     measures=measures) -> None:
            cases[n] = walker.engine.start_case("key_task", {
                "unit": unit, "year": year, "title": title, "leader": leader, "lead_office": office,
                "target": target, "measures": measures, "deadline": date(year, 12, 31).isoformat(),
                "milestones": [{"name": "完成排查摸底", "due": date(year, 4, 30).isoformat()},
                               {"name": "集中整治", "due": date(year, 9, 30).isoformat()},
                               {"name": "总结验收", "due": date(year, 12, 20).isoformat()}]}, walker.actor(clerk))

        walker.plan(at_office(date(year, 2, 18 + n), 10, 15), register)
        for q, light in enumerate(lights, 1):
            reported = date(year, q * 3, 20)
            done = {1: 30, 2: 60, 3: 85}[q] - (15 if light == "red" else 5 if light == "yellow" else 0)
            closing = closed and q == len(lights)
            if reported < today:
                walker.plan(at_office(reported, 11, n * 5), lambda n=n, q=q, done=done, clerk=clerk: walker.complete(
                    cases[n], "update_progress", {"action": "progress", "percent": done,
                                                  "progress_text": f"第{'一二三'[q - 1]}季度：{PROGRESS[light]}，完成进度约{done}%。"}, clerk))
            rated = date(year, q * 3 + 1, 1) + timedelta(days=3 + n % 3)
            if rated < today:
                walker.plan(at_office(rated, 15, n * 5, not_before=date(year, q * 3 + 1, 1)),
                            lambda n=n, light=light: walker.complete(cases[n], "rate_quarter", {
                                "light": light, "reason": REASONS[light]}, DISCIPLINE))
            if closing:
                ask, review = date(year, 8, 24), date(year, 8, 28)
                if review < today:
                    walker.plan(at_office(ask, 16, 0), lambda n=n, clerk=clerk: walker.complete(cases[n], "update_progress", {
                        "action": "close", "percent": 100,
                        "progress_text": "发放名册逐户核对完毕，全部通过“一卡通”发放；受理反映问题6件，均已办结答复。申请销号。"}, clerk))
                    walker.plan(at_office(review, 10, 30), lambda n=n: walker.complete(cases[n], "review_closing", {
                        "closing_decision": "accept", "closing_comment": "目标任务完成，佐证材料齐全，同意销号。"}, DISCIPLINE))
