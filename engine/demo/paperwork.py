"""What the forms say: each step's data for one case, following from its plan and timeline as the office would
write it; notices and reports numbered with the issuing office's 机关代字 (兴组通〔2026〕15号)."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from ..forms import example_data
from ..vocabulary import GRADE_NAMES
from .joint_audit import AMOUNTS, CATEGORIES, DUTIES, DUTY_NAMES, SUZHOU, XINGHUA
from .people import XINGHUA_TEAM_LEADERS
from .plans import Plan
from .timelines import Timeline, local_date


def grade_for(score: float) -> str:
    """评价等次 from the overall score. The seeds give no rule; this is the usual four bands:
    ≥ 90 好, 80–89.9 较好, 60–79.9 一般, < 60 差."""
    return "good" if score >= 90 else "fairly_good" if score >= 80 else "average" if score >= 60 else "poor"




def _month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def _months_back(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(y, m + 1, 1)


class Writer:
    """Fills each step's form for one case from its plan and timeline, as the office would."""

    def __init__(self, p: Plan, tl: Timeline, numbers: dict[str, str]) -> None:
        self.p, self.tl, self.numbers = p, tl, numbers
        self.rng = random.Random(p.seed ^ 0xF0A5)
        self.facts = p.facts
        self.open = [no for no, *_ in p.items]
        self.round = 0
        self.size = {"town": 1.0, "county": 3.0}.get(p.unit.level, 0.6)
        r = self.rng

        def score(duty: str) -> float:  # each problem costs points, a serious one (挂牌督办) more
            lost = sum(8 if s == "major" else 3.5 for _, s, _ in p.findings.get(duty, []))
            lost += 24 if p.serious and duty == "finance" else 0
            return round(max(52.0, r.uniform(90, 98.5) - lost), 1)

        self.scores = {duty: score(duty) for duty in DUTIES}
        self.overall = round(sum(self.scores.values()) / 3, 1)
        self.vote_share = min(0.95, max(0.45, (self.overall - 45) / 55 + r.uniform(-0.06, 0.04)))

    def day(self, step: str) -> date | None:
        at = self.tl.first(step)
        return local_date(at) if at else None

    def data(self, step: str, at: datetime, form: dict[str, Any] | None) -> dict[str, Any]:
        fill = getattr(self, step, None)  # a step the demo does not know yet gets the form's minimal data
        return example_data(form, **(fill(local_date(at)) if fill else {}))

    # shared pieces
    def _findings_of(self, duty: str) -> list[dict[str, Any]]:
        """Each finding with its category, the responsibility (a major one the cadre's own, 直接责任), what
        rectifying it means, and for finance the amount and the demerit points (seed 002: 0.5–2)."""
        out = []
        for d, s, b in self.p.findings.get(duty, []):
            row: dict[str, Any] = {"description": d, "severity": s, **({"basis": b} if b else {}),
                                   "problem_category": CATEGORIES[d],
                                   "responsibility_type": "direct" if s == "major" else "leadership",
                                   "requirement": f"对照{b or '有关规定'}立行立改，举一反三完善制度",
                                   "standard": "问题整改到位并提供佐证材料，相关制度健全"}
            if duty == "finance":
                row["demerit_points"] = 2 if s == "major" else 1
                if d in AMOUNTS:
                    row["amount"] = AMOUNTS[d]
            out.append(row)
        return out

    def _review_summary(self, duty: str) -> str:
        unit, found = self.p.unit.name, self.p.findings.get(duty, [])
        what = {"personnel": "选人用人、干部管理监督", "establishment": "内设机构、编制使用、领导职数和实名制管理",
                "finance": "财政财务收支、内部控制和重大经济事项决策"}[duty]
        if not found:
            return f"经审查，{unit}{what}总体规范，未发现明显问题。"
        return f"经审查，{unit}{what}基本规范，发现问题{len(found)}个：" + "；".join(d for d, _, _ in found) + "。"

    def _items_text(self, nos: list[int]) -> str:
        by_no = {no: (duty, d) for no, duty, d, _, _ in self.p.items}
        return "\n".join(f"{no}. {by_no[no][1]}({DUTY_NAMES[by_no[no][0]]}): 已制定整改措施并落实到位，佐证材料附后。"
                         for no in nos)

    def _uses(self) -> list[str]:
        uses = ["integrity_file", "performance_appraisal"]
        if self.p.leaving:
            uses.append("selection_appointment")
        if "establishment" in self.p.findings:
            uses.append("establishment_adjustment")
        if any(s == "major" for *_, s, _ in self.p.items):
            uses.append("accountability")
        elif self.overall >= 92:
            uses.append("commendation")
        return uses

    def _audit_period(self, notice: date) -> tuple[date, date]:
        r, years = self.rng, int(self.facts["years_in_post"])
        end = notice - timedelta(days=r.randint(15, 50)) if self.p.leaving else _month_end_before(notice)
        return _months_back(end, years * 12 + r.randint(1, 10)), end

    def _notice_no(self) -> str:
        return self.numbers["notice"]

    def _attendees(self) -> int:
        return int(self.rng.randint(60, 140) * self.size)

    # Xinghua
    def issue_notice(self, today: date) -> dict[str, Any]:
        start, end = self._audit_period(today)
        entry = self.day("entry_meeting") or today + timedelta(days=self.rng.randint(10, 14))
        return {"notice_no": self._notice_no(), "notice_date": today.isoformat(),
                "audit_period_start": start.isoformat(), "audit_period_end": end.isoformat(),
                "planned_entry_date": entry.isoformat(), "team_leader": self.rng.choice(XINGHUA_TEAM_LEADERS)}

    def pre_audit_publicity(self, today: date) -> dict[str, Any]:
        notice = self.day("issue_notice") or today
        start = notice + timedelta(days=1) if (today - notice).days >= 6 else notice
        end = today - timedelta(days=1) if today > start else start  # recorded the day after it closed
        received = self.rng.choice([0, 0, 0, 0, 1, 2])
        note = (f"公示期间收到反映{received}件，涉及干部选拔和财务报销，已转联审组核实。" if received
                else "公示期间未收到反映。")
        return {"publicity_start": start.isoformat(), "publicity_end": end.isoformat(),
                "publicity_channels": self.rng.sample(["unit_bulletin", "website", "staff_meeting"], 2),
                "publicity_reports_received": received, "publicity_note": note}

    def entry_meeting(self, today: date) -> dict[str, Any]:
        unit = self.p.unit.name
        return {"meeting_date": today.isoformat(), "meeting_attendees": self._attendees(),
                "meeting_note": f"联审组进点召开动员会，{unit}班子成员、中层干部和干部职工代表参会。联审组通报了三责联审的"
                                "内容、程序和纪律要求，公布了联系电话和意见箱。"}

    def _review(self, duty: str, methods: list[str]) -> dict[str, Any]:
        return {f"{duty}_methods": methods, f"{duty}_score": self.scores[duty],
                f"{duty}_summary": self._review_summary(duty), f"{duty}_findings": self._findings_of(duty)}

    def review_personnel(self, today: date) -> dict[str, Any]:
        return self._review("personnel", ["hear_report", "democratic_rating", "ledger_review", "individual_interview"])

    def review_establishment(self, today: date) -> dict[str, Any]:
        return self._review("establishment", ["hear_report", "ledger_review", "solicit_opinions"])

    def review_finance(self, today: date) -> dict[str, Any]:
        return self._review("finance", ["ledger_review", "hear_report", "questionnaire", "individual_interview"])

    def feedback(self, today: date) -> dict[str, Any]:
        n = len(self.p.items)
        response = ("对反馈意见无异议，将认真研究制定整改方案，立行立改、举一反三。" if n else
                    "对反馈意见无异议，将进一步巩固和完善内部管理制度。")
        if n and self.rng.random() < 0.25:
            response = f"对第{self.rng.randint(1, n)}项问题作出说明：系历史遗留问题，已提交书面说明材料；同意整改。"
        data = {"feedback_date": today.isoformat(), "feedback_method": self.rng.choice(["meeting", "meeting", "talk"]),
                "unit_response": response}
        if self.p.key == SUZHOU:
            data["rectification_plan"] = self._plan_text()
            data["rectification_deadline"] = self.tl.deadline.isoformat()
        return data

    def _plan_text(self) -> str:
        if not self.p.items:
            return "联审未发现需整改的问题，单位继续巩固完善内部管理制度。"
        return (f"针对反馈的{len(self.p.items)}个问题，逐项明确责任领导、责任人、整改措施和完成时限："
                + "; ".join(f"{no}. {d}" for no, _, d, _, _ in self.p.items)
                + f"。重大问题由{self.facts['unit_principal']}同志牵头，一般问题由{self.facts['unit_deputy']}同志负责。")

    def consolidate(self, today: date) -> dict[str, Any]:
        items = self.p.items
        majors = sum(1 for *_, s, _ in items if s == "major")
        summary = (f"综合三方审查情况，{self.facts['cadre_name']}同志任职期间能够认真履行用人、用编、用财责任，"
                   f"综合评分{self.overall}分，评价等次为“{GRADE_NAMES[grade_for(self.overall)]}”。")
        summary += (f"共发现问题{len(items)}个，其中重大问题{majors}个，建议限期整改。" if items else "未发现需整改的问题。")
        if self.p.serious:
            summary += "其中设立账外账户问题性质严重、影响较坏，建议挂牌督办、限期解决。"
        data = {"consolidate_summary": summary, "serious": self.p.serious}
        if self.p.key == XINGHUA:  # Xinghua's score and grade come from the evaluation_grade decision table
            data["rectification_deadline"] = self.tl.deadline.isoformat()
        else:
            data.update(overall_score=self.overall, evaluation_grade=grade_for(self.overall))
        return data

    def report_rectification(self, today: date) -> dict[str, Any]:
        self.round += 1
        done = self._round_closing()  # the unit reports what it really finished: a false report is 弄虚作假
        return {"rectification_report": f"第{self.round}轮整改情况报告：\n" + self._items_text(done),
                "rectification_report_date": today.isoformat(), "reported_item_nos": done,
                "item_progress": [{"item_no": n, "measures": "已制定整改措施，正在落实", "progress": "整改中，预计下轮完成"}
                                  for n in self.open if n not in done]}

    rectify = report_rectification

    def _round_closing(self) -> list[int]:
        """The items this round's visits close: all of them in the last round, all but the last one before."""
        if getattr(self, "_closing_round", None) != self.round:
            keep = self.open[-1:] if self.round < self.p.rounds else []
            self._closing, self._closing_round = [n for n in self.open if n not in keep], self.round
        return self._closing

    def verify(self, lane: str, today: date, evidence: int | None) -> dict[str, Any]:
        """A department's visit and closing of its own duty's items (销号), with the evidence the unit sent."""
        duty = {"organization": "personnel", "staffing": "establishment", "audit": "finance"}[lane]
        own = [no for no, d, *_ in self.p.items if d == duty and no in self.open]
        closing = [n for n in self._round_closing() if n in own]
        kept = [n for n in own if n not in closing]
        if kept:
            note = (f"第{self.round}次回访：逐项核实整改佐证材料，实地查看相关台账。第{'、'.join(map(str, kept))}项"
                    "整改尚未到位，要求继续整改并按期报送。")
        else:
            note = f"第{self.round}次回访：逐项核实整改佐证材料，实地查看相关台账，问题均已整改到位，予以销号。"
        self.open = [n for n in self.open if n not in closing]
        return {f"{duty}_visit_date": today.isoformat(), f"{duty}_visit_note": note,
                f"{duty}_closed_item_nos": closing, f"{duty}_evidence_ids": [evidence] if closing and evidence else []}

    # steps the office does right after another (engine.demo.joint_audit.FOLLOWING)
    def _countersign(self, lane: str, what: str, today: date) -> dict[str, Any]:
        signer = {"organization": "干部监督科", "staffing": "编办机构编制科", "audit": "审计局经济责任审计科"}[lane]
        return {f"{lane}_{what}_opinion": "agree", f"{lane}_{what}_signer": signer,
                f"{lane}_{what}_signed_on": today.isoformat()}

    def implementation_plan(self, today: date) -> dict[str, Any]:
        return {"plan_date": today.isoformat(),
                "plan_scope": f"审查{self.facts['cadre_name']}同志任{self.p.unit.name}{self.p.post}期间履行用人、用编、用财"
                              "责任情况，重点关注干部选拔任用、机构编制执行和重大经济事项决策。",
                "plan_division": "组织部负责用人责任审查，编办负责用编责任审查，审计局负责用财责任审查（经济责任审计）。",
                "plan_schedule": "进点动员后15日内完成座谈了解和实地查验，随后汇总反馈。"}

    def confirm_feedback(self, today: date) -> dict[str, Any]:
        return {"feedback_confirmation": "confirmed", "confirmed_by": f"{self.facts['unit_principal']}、{self.facts['cadre_name']}",
                "confirmed_on": today.isoformat()}

    def supervision_letter(self, today: date) -> dict[str, Any]:
        deadline = self.tl.deadline or today + timedelta(days=30)
        return {"supervision_letter_no": self.numbers.get("notice", "").replace("通", "督"),
                "supervision_letter_date": today.isoformat(),
                "listed_deadline": max(today, deadline - timedelta(days=10)).isoformat(),
                "supervision_requirements": "问题性质严重、影响较坏，挂牌督办，限期整改到位并报送结果，逾期追究责任。"}

    def set_next_round(self, today: date) -> dict[str, Any]:
        deadline = max(self.tl.deadline or today, today)
        return {"next_round_deadline": deadline.isoformat(),
                "next_round_requirements": "未整改到位的问题继续整改，按期报送整改情况和佐证材料。"}

    def lift_listing(self, today: date, liftable: list[int] | None = None) -> dict[str, Any]:
        return {"lifted_item_nos": liftable or [], "lift_note": "经核查整改到位，予以摘牌。"}

    def approve_report(self, today: date) -> dict[str, Any]:
        return {"report_approval": "approved", "approval_opinion": "同意印发，抄送纪委监委。", "approved_on": today.isoformat()}

    def __getattr__(self, name: str):
        for what in ("notice", "report"):
            prefix = f"countersign_{what}_"
            if name.startswith(prefix):
                lane = name[len(prefix):]
                return lambda today: self._countersign(lane, what, today)
        raise AttributeError(name)

    def _conclusion(self) -> str:
        items = self.p.items
        text = (f"{self.facts['cadre_name']}同志任{self.p.unit.name}{self.p.post}期间，能够认真履行用人、用编、用财责任，"
                f"综合评价为“{GRADE_NAMES[grade_for(self.overall)]}”。")
        return text + (f"联审发现的{len(items)}个问题已全部整改到位。" if items else "联审未发现需整改的问题。")

    def issue_report(self, today: date) -> dict[str, Any]:
        return {"report_no": self.numbers.get("report") or self.numbers["notice"].replace("通", "发"),
                "report_date": today.isoformat(),
                "report_conclusion": self._conclusion(), "result_uses": self._uses()}

    # Suzhou
    def pre_audit_notice(self, today: date) -> dict[str, Any]:
        entry = self.day("mobilization") or today + timedelta(days=self.rng.randint(7, 10))
        return {"notice_no": self._notice_no(), "notice_date": today.isoformat(),
                "notice_channels": ["written_notice", self.rng.choice(["unit_bulletin", "staff_meeting"])],
                "planned_entry_date": entry.isoformat(),
                "materials_requested": "任职以来党委（组）会议记录、年度工作总结、“三定”规定及人员花名册、工资发放表、"
                                       "财务账簿凭证和重大经济事项决策资料"}

    def mobilization(self, today: date) -> dict[str, Any]:
        self.attendees = self._attendees()
        return {"meeting_date": today.isoformat(), "meeting_attendees": self.attendees,
                "meeting_note": f"召开联审动员部署会，{self.p.unit.name}班子成员和干部职工参会，部署联审任务，"
                                "明确工作纪律，公布联审组联系方式。"}

    def self_report(self, today: date) -> dict[str, Any]:
        start, _ = self._audit_period(self.day("pre_audit_notice") or today)
        return {"self_report_date": today.isoformat(),
                "self_report": f"本人自{start.year}年{start.month}月任{self.p.unit.name}{self.p.post}以来，认真履行"
                               "用人、用编、用财责任：坚持集体研究决定干部任用，严格执行“三定”规定和编制管理纪律，"
                               "落实财务审批和“三重一大”集体决策制度。存在的不足和下一步打算……"}

    def democratic_appraisal(self, today: date) -> dict[str, Any]:
        r = self.rng
        participants = max(20, int(getattr(self, "attendees", self._attendees()) * r.uniform(0.8, 0.97)))
        good = int(participants * self.vote_share)
        fairly = int((participants - good) * r.uniform(0.6, 0.85))
        poor = r.randint(0, 1)
        average = max(0, participants - good - fairly - poor - r.randint(0, 3))  # the rest: abstentions
        return {"appraisal_date": today.isoformat(), "appraisal_participants": participants, "votes_good": good,
                "votes_fairly_good": fairly, "votes_average": average, "votes_poor": poor}

    def individual_interviews(self, today: date) -> dict[str, Any]:
        return {"interviewed_count": int(self.rng.randint(12, 24) * max(1.0, self.size)),
                "interview_notes": "个别访谈班子成员、中层干部和一般干部职工，普遍反映联审对象工作扎实、作风民主；"
                                   "也有意见反映部分事项决策程序不够规范，已列入查验重点。"}

    def verify_personnel(self, today: date) -> dict[str, Any]:
        found = [d for d, _, _ in self.p.findings.get("personnel", [])]
        return {"personnel_appointments_count": int(self.rng.randint(8, 30) * self.size),
                "personnel_procedure_compliant": "干部选拔任用未经民主推荐程序" not in found,
                "personnel_evidence": ["committee_minutes", "appointment_documents", "publicity_records"],
                "personnel_summary": self._review_summary("personnel"),
                "personnel_findings": self._findings_of("personnel")}

    def verify_establishment(self, today: date) -> dict[str, Any]:
        r, size = self.rng, self.size
        found = [d for d, _, _ in self.p.findings.get("establishment", [])]
        bodies = int(r.randint(8, 12) * size)
        staff = int(r.randint(60, 140) * size)
        leaders = int(r.randint(6, 9) * size)
        return {"internal_bodies_approved": bodies,
                "internal_bodies_actual": bodies + 1 if "内设机构超出“三定”规定1个" in found else bodies - r.randint(0, 1),
                "staff_approved": staff, "staff_used": staff + 2 if "超编进人2名" in found else staff - r.randint(1, 8),
                "leader_posts_approved": leaders,
                "leader_posts_actual": leaders + 1 if "领导职数超配1名" in found else leaders - r.randint(0, 1),
                "real_name_consistent": "实名制信息与实际不符" not in found,
                "establishment_evidence": ["committee_minutes", "work_summary", "payroll"],
                "establishment_summary": self._review_summary("establishment"),
                "establishment_findings": self._findings_of("establishment")}

    def verify_finance(self, today: date) -> dict[str, Any]:
        amount = {"town": (30000, 120000), "county": (800000, 2000000)}.get(self.p.unit.level, (5000, 60000))
        return {"finance_amount_audited": round(self.rng.uniform(*amount), 1),
                "finance_evidence": ["accounting_records", "budget_execution", "official_expenses", "procurement"],
                "finance_summary": self._review_summary("finance"), "finance_findings": self._findings_of("finance")}

    def acceptance(self, today: date) -> dict[str, Any]:
        return {"acceptance_date": today.isoformat(), "acceptance_result": "pass" if self.overall >= 80 else "basic_pass",
                "acceptance_conclusion": self._conclusion(), "result_uses": self._uses()}


def document_numbers(plans: list[Plan], timelines: list[Timeline], rng: random.Random) -> list[dict[str, str]]:
    """文号 in the order the documents were issued: 机关代字, year, a running number (兴组通〔2026〕15号)."""
    docs = []
    for i, (p, tl) in enumerate(zip(plans, timelines)):
        first = tl.steps[0] if tl.steps else None
        if first:
            docs.append((first[1], f"{p.unit.code}通", i, "notice"))
        report = tl.first("issue_report")
        if report:
            docs.append((report, f"{p.unit.code}发", i, "report"))
    numbers: list[dict[str, str]] = [{} for _ in plans]
    counters: dict[tuple[str, int], int] = {}
    for at, prefix, i, kind in sorted(docs):
        year = local_date(at).year
        n = counters.get((prefix, year), rng.randint(6, 15)) + rng.randint(1, 3)
        counters[(prefix, year)] = n
        numbers[i][kind] = f"{prefix}〔{year}〕{n}号"
    return numbers
