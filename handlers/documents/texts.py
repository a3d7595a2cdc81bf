"""The four documents of a joint audit, written from the case as the offices word them.

联审通知 and 联审报告 are 文件 of the three offices; 审前公示 is the organization department's public notice;
the 反馈意见书 is the joint audit team's letter (函) to the audited unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from .facts import DUTIES, DUTY_NAMES, CaseFacts
from .gbt9704 import Colophon, Masthead, OfficialDoc, Signature, official_date
from .offices import Offices

NUMERALS = "一二三四五六七八九十"
DUTY_HEADINGS = {"personnel": "用人方面", "establishment": "用编方面", "finance": "用财方面"}


@dataclass(frozen=True)
class Kind:
    code: str
    name: str  # 联审通知
    suffix: str  # 发 / 通 / 函: the 机关代字 is the offices' code + this
    joint: bool  # the three offices issue it together
    file_mark: bool  # 文件格式 ("…文件") rather than the organs alone


KINDS: dict[str, Kind] = {
    "notice": Kind("notice", "联审通知", "发", True, True),
    "publicity": Kind("publicity", "审前公示", "通", False, False),
    "feedback": Kind("feedback", "反馈意见书", "函", True, False),
    "report": Kind("report", "联审报告", "发", True, True),
}


def agency_code(offices: Offices, kind: Kind) -> str:
    return offices.code + kind.suffix


def _cn(n: int) -> str:
    return NUMERALS[n - 1] if 1 <= n <= 10 else str(n)


def _day(day: date | None, fallback: str = "另行通知") -> str:
    return official_date(day) if day else fallback


def post_in_unit(f: CaseFacts) -> str:
    """戴窑镇党委书记: the unit is not repeated when the post names it, nor 镇 twice (戴窑镇 + 镇党委书记)."""
    post, unit = f.post, f.unit
    if post.startswith(unit):
        return post
    if post[:1] and unit.endswith(post[:1]) and post[:1] in "镇乡市县区局委办":
        return unit + post[1:]
    return unit + post


def subject(f: CaseFacts) -> str:
    return f"{post_in_unit(f)}{f.cadre}同志"


def _title(doc: OfficialDoc, head: str, tail: str) -> None:
    """关于…同志 on the first line and what is done on the second, when together they pass one line."""
    if len(head) + len(tail) <= 20:
        doc.title(head + tail)
    else:
        doc.title(head, tail)


def _audit_name(f: CaseFacts) -> str:
    kind = "离任" if f.leaving else "任中" if f.audit_type else ""
    return f"{kind}“三责联审”"


def _numbered(n: int, text: str) -> str:
    """1.超编进人; "1. 3名…" when the text opens with a digit, so it does not read as 1.3."""
    return f"{n}.{' ' if text[:1].isdigit() else ''}{text}"


def _finding_line(n: int, row, with_rectification: bool) -> str:
    parts = [_numbered(n, row.description.rstrip('。；;'))]
    extra = []
    if row.severity_name:
        extra.append(f"{row.severity_name}问题")
    if row.category_name:
        extra.append(row.category_name)
    if row.amount:
        extra.append(f"涉及金额{row.amount:,.2f}元")
    if row.responsibility_name:
        extra.append(f"负{row.responsibility_name}")
    if row.repeated:
        extra.append("屡查屡犯")
    if extra:
        parts.append(f"（{'，'.join(extra)}）")
    text = "".join(parts) + "。"
    if with_rectification:
        if row.requirement:
            text += f"整改要求：{row.requirement.rstrip('。')}。"
        if row.standard:
            text += f"整改标准：{row.standard.rstrip('。')}。"
        if row.deadline:
            text += f"整改时限：{official_date(row.deadline)}前。"
    return text


def _findings(doc: OfficialDoc, f: CaseFacts, with_rectification: bool) -> int:
    """The findings by duty, （一）用人方面 …, each with its number in the problem list; returns how many."""
    listed = 0
    level2 = 0
    for duty in DUTIES:
        rows = f.findings_of(duty)
        level2 += 1
        if not rows:
            doc.lead_para(f"（{_cn(level2)}）{DUTY_HEADINGS[duty]}。", "未发现明显问题。")
            continue
        doc.heading(f"（{_cn(level2)}）{DUTY_HEADINGS[duty]}", 2)
        for row in rows:  # numbered as in the problem list and the rectification ledger (序号)
            doc.para(_finding_line(row.item_no or listed + 1, row, with_rectification))
            listed += 1
    return listed


# --- 联审通知 ---------------------------------------------------------------------------------------
def notice(doc: OfficialDoc, f: CaseFacts, o: Offices, today: date) -> None:
    _title(doc, f"关于对{subject(f)}", f"开展{_audit_name(f)}的通知")
    doc.addressee(f.unit)
    doc.para(f"{o.basis}，经研究，决定由{o.organization}、{o.staffing}、{o.audit}组成联审组，对{subject(f)}"
             f"开展{_audit_name(f)}（用人、用编、用财责任联合审查）。现将有关事项通知如下：")
    doc.heading("一、联审对象和范围", 1)
    start, end = f.day("audit_period_start"), f.day("audit_period_end")
    period = (f"审查期间为{official_date(start)}至{official_date(end)}" if start and end
              else "审查期间为其任现职以来")
    doc.para(f"联审对象为{subject(f)}。{period}，必要时可追溯以前年度或延伸审查相关单位。")
    doc.heading("二、联审内容", 1)
    doc.para("（一）用人责任。执行干部选拔任用工作政策法规、选人用人程序、干部日常管理监督等情况，由组织部负责。")
    doc.para("（二）用编责任。执行机构编制纪律、机构编制和领导职数管理、实名制管理等情况，由编办负责。")
    doc.para("（三）用财责任。贯彻执行财经法规、财政财务收支、重大经济事项决策、内部控制等情况，由审计局负责。")
    doc.heading("三、时间安排", 1)
    entry = f.day("planned_entry_date", "entry_meeting", "mobilization")
    leader = f.text("team_leader")
    doc.para(f"联审组拟于{_day(entry)}进点，召开进点动员会，开展审前公示、座谈了解、查阅资料等工作。"
             + (f"联审组组长：{leader}。" if leader else ""))
    doc.heading("四、有关要求", 1)
    doc.para("请你单位接到通知后，按照联审组要求如实提供干部选拔任用、机构编制、财政财务收支等相关资料，"
             "并对所提供资料的真实性、完整性负责；指定专人做好联络协调工作，积极配合联审组开展工作。")
    doc.signature(Signature(o.joint, today))


# --- 审前公示 ---------------------------------------------------------------------------------------
def publicity(doc: OfficialDoc, f: CaseFacts, o: Offices, today: date) -> None:
    _title(doc, f"关于{subject(f)}", f"{_audit_name(f)}的审前公示")
    start, end = f.day("publicity_start"), f.day("publicity_end")
    doc.para(f"{o.basis}，{o.organization}、{o.staffing}、{o.audit}将对{subject(f)}开展{_audit_name(f)}。"
             "为广泛听取干部群众意见，现予公示。")
    doc.para(f"公示时间：{_day(start, '自公示之日起')}至{_day(end, '联审组进点后5个工作日')}。" if start or end
             else "公示时间：自公示之日起5个工作日。")
    channels = f.titles_of("publicity_channels")
    if channels:
        doc.para(f"公示方式：{'、'.join(channels)}。")
    doc.para(f"公示期间，干部群众对{f.cadre}同志在选人用人、机构编制管理、财政财务收支等方面有何意见和问题，"
             f"可通过来信、来电、来访等方式向联审组反映。反映问题要实事求是，客观公正，并提供具体事实或线索。"
             "提倡署真实姓名，我们将严格保密。")
    doc.para(f"受理单位：{o.organization}干部监督科。")
    doc.signature(Signature([o.organization], today))


# --- 反馈意见书 -------------------------------------------------------------------------------------
def feedback(doc: OfficialDoc, f: CaseFacts, o: Offices, today: date) -> None:
    _title(doc, f"关于{subject(f)}", f"{_audit_name(f)}的反馈意见书")
    doc.addressee(f"{f.unit}、{f.cadre}同志")
    entry = f.day("meeting_date", "entry_meeting", "mobilization")
    doc.para(f"{o.basis}，联审组{('于' + official_date(entry)) if entry else ''}进点，对{subject(f)}履行用人、用编、"
             "用财责任情况进行了联合审查。现将联审发现的问题反馈如下：")
    doc.heading("一、联审发现的问题", 1)
    _findings(doc, f, with_rectification=True)
    doc.heading("二、整改要求", 1)
    deadline = f.day("rectification_deadline")
    doc.para("请你单位高度重视反馈的问题，主要负责人切实履行整改第一责任人职责，逐项制定整改措施，明确责任人和整改时限，"
             "做到件件有着落、事事有回音。"
             + (f"整改结果及佐证材料请于{official_date(deadline)}前书面报送联审组。" if deadline
                else "请于收到本意见书之日起30日内将整改方案书面报送联审组。"))
    doc.para("对反馈意见有异议的，请于收到本意见书之日起5个工作日内书面提出并附相关依据；逾期未提出的，视为无异议。"
             "对整改不力、逾期未报或弄虚作假的，将移交纪检监察机关依规依纪追究相关人员责任。")
    doc.signature(Signature(o.joint, today))


# --- 联审报告 ---------------------------------------------------------------------------------------
def report(doc: OfficialDoc, f: CaseFacts, o: Offices, today: date) -> None:
    _title(doc, f"关于{subject(f)}", f"{_audit_name(f)}情况的报告")
    doc.addressee(o.leading_group)
    doc.para(f"{o.basis}，{o.organization}、{o.staffing}、{o.audit}组成联审组，对{subject(f)}开展了"
             f"{_audit_name(f)}。现将有关情况报告如下：")
    doc.heading("一、基本情况", 1)
    steps = [("下发联审通知", f.day("notice_date", "issue_notice", "pre_audit_notice")),
             ("审前公示", f.day("publicity_start", "pre_audit_publicity")),
             ("进点动员", f.day("meeting_date", "entry_meeting", "mobilization")),
             ("意见反馈", f.day("feedback_date", "feedback")),
             ("情况汇总", f.day("consolidate"))]
    done = "；".join(f"{official_date(d)}{name}" for name, d in steps if d)
    post = post_in_unit(f)
    since = f.day("in_post_since")
    reason = f.title_of("leaving_reason", f.text("leaving_reason")) if f.leaving and f.text("leaving_reason") else ""
    doc.para(f"{f.cadre}同志，{official_date(since) + '起' if since else ''}任{post}{f'，因{reason}离任' if reason else ''}。"
             + (f"联审组按照程序，{done}。" if done else ""))
    doc.heading("二、评价意见", 1)
    scores = [(DUTY_NAMES[d], f.score(d)) for d in DUTIES]
    scored = "，".join(f"{name}责任{s:g}分" for name, s in scores if s is not None)
    overall = f.overall_score
    doc.para((f"经量化评分，{scored}" + ("，" if scored else "") if scored or overall is not None else "")
             + (f"综合评分{overall:g}分，" if overall is not None else "")
             + f"评价等次为“{f.grade or '（未评定）'}”。")
    summary = f.text("consolidate_summary")
    if summary:
        doc.para(summary)
    doc.heading("三、发现的主要问题", 1)
    listed = _findings(doc, f, with_rectification=False)
    doc.heading("四、整改要求", 1)
    items = [r for r in f.findings if r.status is not None]
    if listed == 0:
        doc.para("联审未发现需要整改的问题。")
    elif items:
        for row in items:
            deadline = f"，{official_date(row.deadline)}前完成" if row.deadline else ""
            status = f"，目前{row.status_name}" if row.status_name else ""
            req = row.requirement.rstrip("。") if row.requirement else "限期整改到位"
            doc.para(_numbered(row.item_no, f"{row.description.rstrip('。')}：{req}{deadline}{status}。"))
    else:
        doc.para("对上述问题，被审单位应逐项制定整改措施，限期整改到位，整改结果报联审组核查销号。")
    doc.heading("五、结果运用", 1)
    uses = f.titles_of("result_uses")
    conclusion = f.text("report_conclusion")
    if conclusion:
        doc.para(conclusion.rstrip("。") + "。")
    doc.para("联审结果" + (f"作为{'、'.join(uses)}的重要依据" if uses else "按规定存入干部廉政档案，作为干部考核、选拔任用的重要依据")
             + f"，并抄送{o.discipline}。")
    doc.signature(Signature(o.joint, today))


WRITERS: dict[str, Callable[[OfficialDoc, CaseFacts, Offices, date], None]] = {
    "notice": notice, "publicity": publicity, "feedback": feedback, "report": report}

COPIES_TO: dict[str, Callable[[Offices, CaseFacts], list[str]]] = {
    "notice": lambda o, f: [o.discipline],
    "publicity": lambda o, f: [o.staffing, o.audit],
    "feedback": lambda o, f: [o.discipline],
    "report": lambda o, f: [o.discipline, f.unit],
}


def write(kind: Kind, facts: CaseFacts, offices: Offices, number: str, today: date) -> tuple[str, bytes]:
    """The .docx of `kind` for the case, numbered `number`; returns (title, bytes)."""
    organs = offices.joint if kind.joint else [offices.organization]
    doc = OfficialDoc(Masthead(organs, number, kind.file_mark))
    WRITERS[kind.code](doc, facts, offices, today)
    printed_by = f"{offices.organization}办公室"
    doc.colophon(Colophon(COPIES_TO[kind.code](offices, facts), printed_by, today))
    doc.document.core_properties.title = doc.title_text
    doc.document.core_properties.author = offices.organization
    return doc.title_text, doc.bytes()
