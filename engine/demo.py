"""Demo data for `make run`: the seeds' cadres as cases a supervision office would recognise.

Xinghua (seed 000): 51 principal leaders — 21 mid-term and 30 on leaving; 30 of towns, townships and
streets (乡镇) and 21 of the city's departments. Suzhou (seed 001): 48 in one year — 7 audited by the city
itself (市本级: as in the seed, the heads of the foreign affairs office and of two city bureaus, and the party
secretaries and heads of 相城区 and 吴中区) and 41 by the county-level cities and districts (their towns,
streets and departments). Units are real and current (after the 2018–2019 institutional reforms: 生态环境局,
应急管理局, not 环保局, 安监局); people are invented; each principal post of a unit has one holder.

The work is where a real office's is: most of it on time (green), some due within three days (yellow), a few
overdue and escalated (red), one case stopped by a failed timer step (error, with an open incident a
supervisor can retry) and one serious case under listed supervision (挂牌督办). Times are relative to the
moment of seeding, so the lights come out the same whenever the demo is made: each case is walked from its
start on a `_DemoClock`, every step completed on its own (working) day, and afterwards the reminders,
escalations and deadline timers that fell due in the past are fired at their own times.

Everything a form says follows from the case's timeline: a notice is dated the day it was issued, its number
carries the issuing office's 机关代字 (兴组通〔2026〕15号), a public notice ends after it starts and before the
entry meeting, the score gives the grade (`grade_for`), votes never outnumber voters.
"""
from __future__ import annotations

import random
import sqlite3
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from .access import OPERATOR, Actor
from .accounts import actor_for
from .errors import NotFound, StepFailed
from .forms import example_data
from .models import Case, Incident, ProcessVersion, Timer, User, WorkItem
from .runtime import Engine
from .timers import OFFICE_TZ

XINGHUA, SUZHOU = "joint_audit_xinghua", "joint_audit_suzhou"
UNIT_ACCOUNT_UNIT = "戴窑镇"  # the `unit` demo account is this town's clerk


# --- the places -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    name: str
    slug: str  # pinyin, for the unit clerk's username
    code: str  # 机关代字 of the organization department that runs the audit (兴组, 苏组, 常组 ...)

    @property
    def kind(self) -> str:
        name = self.name
        if name.endswith("街道"):
            return "street"
        if name.endswith("乡"):
            return "township"
        if name.endswith("镇"):
            return "town"
        if name.endswith("区"):
            return "district"
        if name in COUNTY_CITIES:
            return "county_city"
        return "commission" if name.endswith("委") else "office" if name.endswith("办") else "bureau"

    @property
    def level(self) -> str:
        return {"street": "town", "township": "town", "town": "town", "district": "county",
                "county_city": "county"}.get(self.kind, "municipal_dept")

    @property
    def clerk(self) -> str:
        """What the unit's clerk is called in the app."""
        if self.level == "town":
            return f"{self.name}党政办（演示）"
        if self.kind == "district":
            return f"{self.name}委办公室（演示）"
        return f"{self.name}办公室（演示）"

    @property
    def username(self) -> str:
        return "unit" if self.name == UNIT_ACCOUNT_UNIT else f"unit_{self.slug}"


COUNTY_CITIES = ("常熟市", "张家港市", "昆山市", "太仓市")
# Principal posts (正职) by kind of unit; one holder each at a time.
POSTS = {"town": ("镇党委书记", "镇长"), "township": ("乡党委书记", "乡长"),
         "street": ("街道党工委书记", "街道办事处主任"), "district": ("区委书记", "区长"),
         "county_city": ("市委书记", "市长"), "bureau": ("党组书记、局长", "局长"),
         "commission": ("党组书记、主任", "主任"), "office": ("主任",)}

# 兴化市 as of 2021: 3 streets, 22 towns, 1 township (the 2013–2019 mergers took 张郭, 李中, 茅山, 缸顾, 西鲍 ...).
XINGHUA_TOWNS = [("昭阳街道", "zhaoyang"), ("临城街道", "lincheng"), ("垛田街道", "duotian"), ("戴窑镇", "daiyao"),
                 ("合陈镇", "hechen"), ("永丰镇", "yongfeng"), ("新垛镇", "xinduo"), ("安丰镇", "anfeng"),
                 ("海南镇", "hainan"), ("钓鱼镇", "diaoyu"), ("大邹镇", "dazou"), ("沙沟镇", "shagou"),
                 ("中堡镇", "zhongbao"), ("竹泓镇", "zhuhong"), ("沈伦镇", "shenlun"), ("大垛镇", "daduo"),
                 ("荻垛镇", "diduo"), ("陶庄镇", "taozhuang"), ("昌荣镇", "changrong"), ("周庄镇", "zhouzhuang"),
                 ("陈堡镇", "chenbao"), ("戴南镇", "dainan"), ("大营镇", "daying"), ("兴东镇", "xingdong"),
                 ("千垛镇", "qianduo"), ("林湖乡", "linhu")]
XINGHUA_BOTH_POSTS = ("戴窑镇", "戴南镇", "安丰镇", "昭阳街道")  # 26 units, 30 township cadres: both posts here
# The city's departments after the 2019 reform (生态环境 is now a branch of 泰州's bureau, so not here).
XINGHUA_DEPTS = [("兴化市发改委", "xh_fgw"), ("兴化市教育局", "xh_jyj"), ("兴化市工信局", "xh_gxj"),
                 ("兴化市民政局", "xh_mzj"), ("兴化市司法局", "xh_sfj"), ("兴化市财政局", "xh_czj"),
                 ("兴化市人社局", "xh_rsj"), ("兴化市自然资源和规划局", "xh_zrzyj"), ("兴化市住建局", "xh_zjj"),
                 ("兴化市交通运输局", "xh_jtj"), ("兴化市水务局", "xh_swj"), ("兴化市农业农村局", "xh_nyncj"),
                 ("兴化市商务局", "xh_swuj"), ("兴化市文广旅局", "xh_wglj"), ("兴化市卫健委", "xh_wjw"),
                 ("兴化市退役军人事务局", "xh_tyjrj"), ("兴化市应急管理局", "xh_yjj"),
                 ("兴化市市场监管局", "xh_scjgj"), ("兴化市统计局", "xh_tjj"), ("兴化市医保局", "xh_ybj"),
                 ("兴化市城管局", "xh_cgj")]
# 苏州 市本级, as in seed 001 (市外办原主任, 市安监局局长 → 应急管理局, 相城区/吴中区 书记 and 区长,
# 市环保局局长 → 生态环境局): (unit, slug, post, leaving).
SUZHOU_CITY = [("苏州市外办", "sz_wb", "主任", True), ("苏州市应急管理局", "sz_yjj", "党组书记、局长", False),
               ("相城区", "xiangcheng", "区委书记", False), ("相城区", "xiangcheng", "区长", False),
               ("吴中区", "wuzhong", "区委书记", False), ("吴中区", "wuzhong", "区长", False),
               ("苏州市生态环境局", "sz_sthjj", "党组书记、局长", False)]
# The 41 audited by the county-level cities and districts: (机关代字, [(unit, slug)]).
SUZHOU_COUNTY = [
    ("常组", [("虞山街道", "yushan"), ("梅李镇", "meili"), ("海虞镇", "haiyu"), ("沙家浜镇", "shajiabang"),
             ("常熟市财政局", "cs_czj"), ("常熟市住建局", "cs_zjj"), ("常熟市教育局", "cs_jyj")]),
    ("张组", [("杨舍镇", "yangshe"), ("塘桥镇", "tangqiao"), ("锦丰镇", "jinfeng"), ("张家港市交通运输局", "zjg_jtj"),
             ("张家港市农业农村局", "zjg_nyncj"), ("张家港市卫健委", "zjg_wjw")]),
    ("昆组", [("巴城镇", "bacheng"), ("周市镇", "zhoushi"), ("千灯镇", "qiandeng"), ("锦溪镇", "jinxi"),
             ("昆山市商务局", "ks_swj"), ("昆山市水务局", "ks_shuiwj"), ("昆山市人社局", "ks_rsj")]),
    ("太组", [("沙溪镇", "shaxi"), ("浏河镇", "liuhe"), ("璜泾镇", "huangjing"), ("太仓市民政局", "tc_mzj"),
             ("太仓市应急管理局", "tc_yjj"), ("太仓市市场监管局", "tc_scjgj")]),
    ("吴江组", [("松陵街道", "songling"), ("盛泽镇", "shengze"), ("震泽镇", "zhenze"), ("平望镇", "pingwang"),
              ("同里镇", "tongli")]),
    ("吴中组", [("木渎镇", "mudu"), ("甪直镇", "luzhi"), ("东山镇", "dongshan"), ("长桥街道", "changqiao")]),
    ("相组", [("黄埭镇", "huangdai"), ("渭塘镇", "weitang"), ("元和街道", "yuanhe")]),
    ("姑苏组", [("平江街道", "pingjiang")]),
    ("苏高新组", [("枫桥街道", "fengqiao"), ("浒墅关镇", "xushuguan")]),
]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
            "姜崔钟谭陆汪范金石廖贾夏韦付方邹熊孟秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ["建国", "海燕", "志强", "晓东", "立新", "春华", "国平", "文杰", "红梅", "永明", "德华", "秀英", "伟", "静",
         "军", "敏", "磊", "洋", "勇", "艳", "俊峰", "玉兰", "卫东", "金龙", "雪梅", "长江", "向阳", "振华", "建华",
         "丽娟", "志刚", "海涛", "晓明", "文斌", "桂芳", "宏伟", "亚军", "晓燕", "国庆", "明辉", "慧", "峰", "斌",
         "晶", "涛", "琳", "鹏", "宇", "玉林", "学军", "爱国", "巧云", "荣华", "家驹", "春林", "红兵", "小平", "建军",
         "国强", "云飞", "一鸣", "思远", "晓光", "美玲", "新民", "德明", "益民", "卫国", "兆丰", "为民"]
XINGHUA_TEAM_LEADERS = ("顾建平", "周海燕", "陆文斌")  # 组织部干部监督科 leads the joint audit teams
LEAVING_REASONS = ["transferred", "promoted", "rotated", "term_ended", "promoted", "transferred", "retired"]

# (description, severity, basis) per duty; a unit has at most one of each.
FINDINGS = {
    "personnel": [("超职数配备中层干部2名", "general", "《党政领导干部选拔任用工作条例》"),
                  ("干部选拔任用未经民主推荐程序", "major", "《党政领导干部选拔任用工作条例》"),
                  ("借调人员长期未归位", "general", ""),
                  ("干部试用期满未按期考核", "general", "")],
    "establishment": [("内设机构超出“三定”规定1个", "major", "本单位“三定”规定"),
                      ("混编混岗、以事代行", "general", "《中国共产党机构编制工作条例》"),
                      ("实名制信息与实际不符", "general", "机构编制实名制管理有关规定"),
                      ("超编进人2名", "major", "《中国共产党机构编制工作条例》"),
                      ("领导职数超配1名", "major", "本单位“三定”规定")],
    "finance": [("白条入账3.2万元", "general", "《会计基础工作规范》"),
                ("公务接待超标准", "general", "《党政机关国内公务接待管理规定》"),
                ("专项资金未专款专用", "major", "《中华人民共和国预算法》"),
                ("设立账外账户核算收入", "major", "《中华人民共和国会计法》"),
                ("政府采购未按规定程序", "general", "《中华人民共和国政府采购法》")],
}
DUTIES = ("personnel", "establishment", "finance")
DUTY_NAMES = {"personnel": "用人", "establishment": "用编", "finance": "用财"}

# The steps of each process in the order a case meets them; "reviews"/"verify" are the three parallel reviews.
SEQUENCES = {
    XINGHUA: ["issue_notice", "pre_audit_publicity", "entry_meeting", "reviews", "feedback", "consolidate",
              "report_rectification", "follow_up_visit", "issue_report"],
    SUZHOU: ["pre_audit_notice", "mobilization", "self_report", "democratic_appraisal", "individual_interviews",
             "verify", "consolidate", "feedback", "rectify", "follow_up", "acceptance"],
}
GROUPS = {"reviews": ("review_personnel", "review_establishment", "review_finance"),
          "verify": ("verify_personnel", "verify_establishment", "verify_finance")}
RECTIFY = {XINGHUA: "report_rectification", SUZHOU: "rectify"}
VISIT = {XINGHUA: "follow_up_visit", SUZHOU: "follow_up"}
SETS_DEADLINE = {XINGHUA: "consolidate", SUZHOU: "feedback"}  # the step where the rectification deadline is set
# How long a step takes when done on time (days from its arrival), below each step's dueIn.
DURATION = {"issue_notice": (0.8, 3.5), "pre_audit_notice": (0.8, 3.5), "pre_audit_publicity": (5.0, 6.5),
            "entry_meeting": (2.0, 7.0), "mobilization": (3.0, 7.5), "self_report": (1.0, 5.0),
            "democratic_appraisal": (0.1, 3.0), "individual_interviews": (2.0, 7.0), "reviews": (6.0, 13.5),
            "verify": (6.0, 13.5), "feedback": (2.0, 7.0), "consolidate": (2.0, 7.0),
            "follow_up_visit": (4.0, 12.0), "follow_up": (4.0, 12.0), "issue_report": (4.0, 12.0),
            "acceptance": (4.0, 12.0)}
DUE_DAYS = {"issue_notice": 5, "pre_audit_notice": 5, "pre_audit_publicity": 7, "self_report": 7,
            "democratic_appraisal": 7, "reviews": 15, "verify": 15, "follow_up_visit": 15, "follow_up": 15,
            "issue_report": 15, "acceptance": 15}  # fallback when a step's dueIn cannot be read; else 10


# Where the cases stand: (stage, light) — stage is the step with open work, or "done".
def _slots(*groups: tuple[str, dict[str, int]]) -> list[tuple[str, str]]:
    return [(stage, light) for stage, lights in groups for light, n in lights.items() for _ in range(n)]


XINGHUA_SLOTS = _slots(("done", {"": 8}), ("issue_notice", {"green": 2, "yellow": 1}),
                       ("pre_audit_publicity", {"green": 4}), ("entry_meeting", {"green": 3, "yellow": 1}),
                       ("reviews", {"green": 7, "yellow": 1, "red": 1}), ("feedback", {"green": 3, "red": 1}),
                       ("consolidate", {"green": 3, "yellow": 1}),
                       ("report_rectification", {"green": 6, "yellow": 1, "red": 1, "error": 1}),
                       ("follow_up_visit", {"green": 3, "yellow": 1}), ("issue_report", {"green": 2}))
SUZHOU_SLOTS = _slots(("done", {"": 6}), ("pre_audit_notice", {"green": 3}), ("mobilization", {"green": 2, "yellow": 1}),
                      ("self_report", {"green": 3, "red": 1}), ("democratic_appraisal", {"green": 2, "yellow": 1}),
                      ("individual_interviews", {"green": 3}), ("verify", {"green": 6, "yellow": 1, "red": 1}),
                      ("consolidate", {"green": 3}), ("feedback", {"green": 2, "yellow": 1}),
                      ("rectify", {"green": 5, "yellow": 1, "red": 1}), ("follow_up", {"green": 3}),
                      ("acceptance", {"green": 2}))


@dataclass
class Plan:
    """One demo case before it exists: who, where, how far it has come, and how its light should show."""

    key: str
    unit: Unit
    post: str
    leaving: bool
    facts: dict[str, Any]
    stage: str = "done"
    light: str = ""  # green / yellow / red / error for open work; "" when done
    findings: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    reviews_done: tuple[str, ...] = ()  # at the parallel reviews: the duties already reviewed
    rounds: int = 1  # rectification rounds: 2 when the first follow-up visit left items open
    term: int = 45  # days given for rectification
    serious: bool = False  # 挂牌督办
    seed: int = 0

    @property
    def items(self) -> list[tuple[int, str, str, str, str]]:
        """The merged findings as the ledger numbers them: (item_no, duty, description, severity, basis)."""
        out = []
        for duty in DUTIES:
            for description, severity, basis in self.findings.get(duty, []):
                out.append((len(out) + 1, duty, description, severity, basis))
        return out

    @property
    def unit_work(self) -> bool:
        """Whether the unit's clerk has, or had, a step of this case to do."""
        seq = SEQUENCES[self.key]
        reached = len(seq) if self.stage == "done" else seq.index(self.stage)
        if self.key == SUZHOU:
            return reached >= seq.index("self_report")
        return bool(self.items) and reached >= seq.index("report_rectification")


class _Names:
    """Invented, unique names: nobody holds two posts."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set(XINGHUA_TEAM_LEADERS)

    def __call__(self) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in self.used:
                self.used.add(name)
                return name


def _findings(rng: random.Random, needed: bool) -> dict[str, list[tuple[str, str, str]]]:
    found = {duty: rng.sample(FINDINGS[duty], rng.choice([0, 0, 0, 1, 1, 2])) for duty in DUTIES}
    if needed and not any(found.values()):
        duty = rng.choice(DUTIES)
        found[duty] = [rng.choice(FINDINGS[duty])]
    return {duty: items for duty, items in found.items() if items}


def cast(seed_value: int = 2026) -> list[Plan]:
    """The demo's cases, decided without the engine (the demo accounts are made from it too)."""
    rng = random.Random(seed_value)
    names = _Names(rng)
    plans: list[Plan] = []

    def plan(key: str, unit: Unit, post: str, leaving: bool) -> Plan:
        mid_term_years = (3, 8) if unit.level in ("town", "county") else (5, 9)  # seed 001: must-audit tenures
        years = rng.randint(2, 8) if leaving else rng.randint(*mid_term_years)
        cadre, principal = names(), names()
        facts = {"cadre_name": cadre, "post": post, "unit": unit.name, "unit_level": unit.level,
                 "audit_type": "leaving" if leaving else "mid_term", "years_in_post": years,
                 # the contact for major problems: the cadre, or on leaving the successor (新官要理旧账)
                 "unit_principal": principal if leaving else cadre, "unit_deputy": names()}
        if leaving:
            facts["leaving_reason"] = rng.choice(LEAVING_REASONS)
        return Plan(key, unit, post, leaving, facts, seed=rng.randrange(1 << 30))

    # Xinghua: 30 of towns and streets, 21 departments; 30 on leaving, 21 mid-term.
    pairs = []
    for name, slug in XINGHUA_TOWNS:
        unit = Unit(name, slug, "兴组")
        posts = POSTS[unit.kind] if name in XINGHUA_BOTH_POSTS else (rng.choice(POSTS[unit.kind]),)
        pairs += [(unit, post) for post in posts]
    for name, slug in XINGHUA_DEPTS:
        unit = Unit(name, slug, "兴组")
        pairs.append((unit, POSTS[unit.kind][0] if rng.random() < 0.8 else POSTS[unit.kind][-1]))
    pinned = {(UNIT_ACCOUNT_UNIT, "镇党委书记"): (True, ("report_rectification", "green")),
              (UNIT_ACCOUNT_UNIT, "镇长"): (False, ("reviews", "green"))}
    leaving = [True] * 29 + [False] * 20
    rng.shuffle(leaving)
    slots = list(XINGHUA_SLOTS)
    for _, slot in pinned.values():
        slots.remove(slot)
    rng.shuffle(slots)
    for unit, post in pairs:
        leaves, slot = pinned.get((unit.name, post)) or (leaving.pop(), slots.pop())
        plans.append(_placed(plan(XINGHUA, unit, post, leaves), slot))

    # Suzhou: 7 by the city, 41 by the county-level cities and districts (10 of them on leaving).
    for name, slug, post, leaves in SUZHOU_CITY:
        plans.append(plan(SUZHOU, Unit(name, slug, "苏组"), post, leaves))
    county = [Unit(name, slug, code) for code, units in SUZHOU_COUNTY for name, slug in units]
    leaving = [True] * 10 + [False] * 31
    rng.shuffle(leaving)
    for unit, leaves in zip(county, leaving):
        posts = POSTS[unit.kind]
        post = rng.choice(posts) if unit.level == "town" else (posts[0] if rng.random() < 0.8 else posts[-1])
        plans.append(plan(SUZHOU, unit, post, leaves))
    slots = list(SUZHOU_SLOTS)
    rng.shuffle(slots)
    for p, slot in zip([p for p in plans if p.key == SUZHOU], slots):
        _placed(p, slot)

    for p in plans:
        r = random.Random(p.seed)
        seq = SEQUENCES[p.key]
        at_rectification = p.stage in (RECTIFY[p.key], VISIT[p.key])
        p.findings = _findings(r, needed=at_rectification)
        p.term = r.choice([30, 45, 60])
        if p.stage in GROUPS:
            done = {"green": r.choice([0, 0, 1, 1, 2]), "yellow": r.choice([1, 2]), "red": 2}[p.light]
            p.reviews_done = tuple(r.sample(DUTIES[:2], done)) if p.light == "red" else tuple(r.sample(DUTIES, done))
        finished = p.stage == "done" or seq.index(p.stage) > seq.index(VISIT[p.key])
        if finished and len(p.items) >= 2 and r.random() < 0.4:
            p.rounds, p.term = 2, 60

    # One serious case under listed supervision, and one whose second report is due: both at Xinghua's
    # rectification, green; the demo `unit` account's 戴窑镇 case stays plain.
    green = [p for p in plans if p.key == XINGHUA and p.stage == "report_rectification" and p.light == "green"
             and p.unit.name != UNIT_ACCOUNT_UNIT]
    listed, second = green[0], green[1]
    listed.serious, listed.term = True, 30
    listed.findings = {"finance": [FINDINGS["finance"][3], FINDINGS["finance"][2]],
                       "personnel": [FINDINGS["personnel"][1]]}
    second.rounds, second.term = 2, 60
    if len(second.items) < 2:
        second.findings = {"establishment": [FINDINGS["establishment"][1], FINDINGS["establishment"][2]]}
    return plans


def _placed(p: Plan, slot: tuple[str, str]) -> Plan:
    p.stage, p.light = slot
    return p


def demo_clerks(seed_value: int = 2026) -> list[tuple[str, str, str]]:
    """(username, display name, unit) of the unit clerks the demo needs: one per audited unit with unit work.

    The `unit` account is the clerk of UNIT_ACCOUNT_UNIT and is made with the role accounts."""
    out: dict[str, tuple[str, str, str]] = {}
    for p in cast(seed_value):
        if p.unit_work and p.unit.name != UNIT_ACCOUNT_UNIT:
            out.setdefault(p.unit.name, (p.unit.username, p.unit.clerk, p.unit.name))
    return sorted(out.values())


def grade_for(score: float) -> str:
    """评价等次 from the overall score. The seeds give no rule; this is the usual four bands:
    ≥ 90 好, 80–89.9 较好, 60–79.9 一般, < 60 差."""
    return "good" if score >= 90 else "fairly_good" if score >= 80 else "average" if score >= 60 else "poor"


GRADE_NAMES = {"good": "好", "fairly_good": "较好", "average": "一般", "poor": "差"}


# --- time ---------------------------------------------------------------------------------------------------
class _DemoClock:
    """Time for seeding: each case starts weeks ago and its steps take days, so ages and overdue marks are real."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    return _local(moment).date()


def _office(moment: datetime, rng: random.Random) -> datetime:
    """The same moment on a working day in office hours (Beijing): weekends go back to Friday."""
    local = _local(moment)
    day = local.date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    tod = local.time()
    if day != local.date() or not (time(8, 40) <= tod <= time(17, 40)):
        tod = time(rng.randint(9, 16), rng.randint(0, 59))
    return _utc(datetime.combine(day, tod, OFFICE_TZ))


def _at_office(day: date, rng: random.Random) -> datetime:
    return _utc(datetime.combine(day, time(rng.randint(9, 16), rng.randint(0, 59)), OFFICE_TZ))


def _due_days(catalogue: dict[str, Any], step: str) -> float:
    sid = GROUPS.get(step, (step,))[0]
    due_in = str((catalogue["steps"].get(sid) or {}).get("due_in") or "")
    if due_in.startswith("P") and due_in.endswith("D") and due_in[1:-1].isdigit():
        return float(due_in[1:-1])
    return float(DUE_DAYS.get(step, 10))


GREEN_MARGIN, YELLOW_WINDOW, RED_MARGIN = 3.3, (0.3, 2.9), 1.2  # days; what `light_of` accepts


def light_of(due: datetime, now: datetime) -> str:
    """The light a due date gives now, with margins so the demo keeps its lights for a while after seeding."""
    left = (due - now).total_seconds() / 86400
    if left >= GREEN_MARGIN:
        return "green"
    if YELLOW_WINDOW[0] <= left <= YELLOW_WINDOW[1]:
        return "yellow"
    return "red" if left <= -RED_MARGIN else "between"


@dataclass
class Timeline:
    start: datetime
    steps: list[tuple[str, datetime]]  # completions in order: (step id, when)
    deadline: date | None  # the rectification deadline, once set

    def first(self, step: str) -> datetime | None:
        return next((at for sid, at in self.steps if sid == step), None)


def _expanded(p: Plan) -> list[str]:
    seq = SEQUENCES[p.key]
    rect, visit = RECTIFY[p.key], VISIT[p.key]
    cut = seq.index(rect)
    full = seq[:cut] + ([rect, visit] * p.rounds if p.items else []) + seq[cut + 2:]
    return full


def timeline(p: Plan, catalogue: dict[str, Any], now: datetime) -> Timeline:
    """When the case started and each of its steps was done, placed so that its light shows as planned."""
    rng = random.Random(p.seed ^ 0x5EED)
    full = _expanded(p)
    done = len(full) if p.stage == "done" else len(full) - 1 - full[::-1].index(p.stage)
    rect, setter = RECTIFY[p.key], SETS_DEADLINE[p.key]
    rel: list[tuple[str, float]] = []
    t, setter_at, round_no = 0.0, None, 0
    for entry in full[:done]:
        if entry in GROUPS:
            spans = sorted(rng.uniform(*DURATION[entry]) for _ in DUTIES)
            for sid, span in zip(rng.sample(GROUPS[entry], 3), spans):
                rel.append((sid, t + span))
            t += spans[-1]
            continue
        if entry == rect:
            round_no += 1
            share = (0.45, 0.85) if p.rounds == 1 else ((0.25, 0.35) if round_no == 1 else (0.15, 0.25))
            t += rng.uniform(*share) * p.term
        elif entry == VISIT[p.key]:
            t += rng.uniform(4.0, 8.0 if p.rounds == 2 and round_no == 1 else 12.0)
        else:
            t += rng.uniform(*DURATION[entry])
        rel.append((entry, t))
        if entry == setter:
            setter_at = t
    arrival = t  # when the current work arrived (the last completion, or the split before the reviews)
    today = local_date(now)
    deadline = None
    extra: list[tuple[str, float]] = []
    if p.stage == "done":
        start = now - timedelta(days=rng.uniform(2, 40) + t)
    elif p.stage == rect:
        # The light is the deadline's: green ≥ 5 days ahead, yellow in 1–2 days, red passed, error just passed.
        # (green: reported within the month, so the report has not waited longer than a month yet)
        ahead = {"green": rng.randint(6, 15) if p.rounds == 2 else rng.randint(max(5, p.term - 28), p.term - 5),
                 "yellow": rng.randint(1, 2), "red": -rng.randint(3, 7), "error": -2}[p.light]
        deadline = today + timedelta(days=ahead)
        set_on = deadline - timedelta(days=p.term)
        while set_on.weekday() >= 5:
            set_on -= timedelta(days=1)
        start = _at_office(set_on, rng) - timedelta(days=setter_at)
    else:
        due = _due_days(catalogue, p.stage)
        age = {"green": rng.uniform(0.1 if due <= 5 else 0.4, due - GREEN_MARGIN - 0.4),
               "yellow": rng.uniform(due - 2.5, due - 0.7), "red": rng.uniform(due + 1.6, due + 5.5)}[p.light]
        start = now - timedelta(days=age + arrival)
        for sid in p.reviews_done:  # reviews already in, each within its 15 days
            extra.append((f"{'review' if p.key == XINGHUA else 'verify'}_{sid}",
                          arrival + rng.uniform(0.2 * age, min(0.9 * age, 13.5))))
        extra.sort(key=lambda e: e[1])
    steps = [(sid, _office(start + timedelta(days=off), rng)) for sid, off in rel + extra]
    start = _office(start, rng)
    # Keep the order and stay in the past.
    last = start
    for i, (sid, at) in enumerate(steps):
        if at <= last:
            at = last + timedelta(minutes=rng.randint(20, 90))
        steps[i] = (sid, at)
        last = at
    limit = now - timedelta(minutes=5)
    for i in range(len(steps) - 1, -1, -1):
        limit = min(steps[i][1], limit)
        steps[i] = (steps[i][0], limit)
        limit -= timedelta(minutes=15)
    start = min(start, limit)
    if p.stage not in ("done", rect):
        # The office hours moved the work's arrival: keep it if the light still holds, else take the exact time.
        n_before = len(rel)
        arrived = steps[n_before - 1][1] if n_before else start
        due = _due_days(catalogue, p.stage)
        if light_of(arrived + timedelta(days=due), now) != p.light:
            exact = now - timedelta(days=age)
            if n_before:
                steps[n_before - 1] = (steps[n_before - 1][0], exact)
                for i in range(n_before - 2, -1, -1):
                    steps[i] = (steps[i][0], min(steps[i][1], steps[i + 1][1] - timedelta(minutes=15)))
                start = min(start, steps[0][1] - timedelta(minutes=15))
            else:
                start = exact
            for i in range(n_before, len(steps)):
                previous = steps[i - 1][1] if i else start
                steps[i] = (steps[i][0], max(steps[i][1], previous + timedelta(minutes=20)))
    if deadline is None and setter_at is not None:
        set_at = next(at for sid, at in steps if sid == setter)
        deadline = local_date(set_at) + timedelta(days=p.term)
    return Timeline(start, steps, deadline)


# --- what the forms say ---------------------------------------------------------------------------------------
def _month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def _months_back(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(y, m + 1, 1)


class _Writer:
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
    def _findings_of(self, duty: str) -> list[dict[str, str]]:
        return [{"description": d, "severity": s, **({"basis": b} if b else {})}
                for d, s, b in self.p.findings.get(duty, [])]

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
        data = {"overall_score": self.overall, "evaluation_grade": grade_for(self.overall),
                "consolidate_summary": summary, "serious": self.p.serious}
        if self.p.key == XINGHUA:
            data["rectification_deadline"] = self.tl.deadline.isoformat()
        return data

    def report_rectification(self, today: date) -> dict[str, Any]:
        self.round += 1
        nos = list(self.open)
        return {"rectification_report": f"第{self.round}轮整改情况报告：\n" + self._items_text(nos),
                "rectification_report_date": today.isoformat(), "reported_item_nos": nos}

    rectify = report_rectification

    def follow_up_visit(self, today: date) -> dict[str, Any]:
        if self.round < self.p.rounds:
            keep = self.open[-1:]
            closed = [n for n in self.open if n not in keep]
            note = (f"第{self.round}次回访：逐项核实整改佐证材料，实地查看相关台账。第{'、'.join(map(str, keep))}项"
                    "整改尚未到位，要求继续整改并按期报送。")
        else:
            closed = list(self.open)
            note = f"第{self.round}次回访：逐项核实整改佐证材料，实地查看相关台账，问题均已整改到位，予以销号。"
        self.open = [n for n in self.open if n not in closed]
        return {"visit_date": today.isoformat(), "closed_item_nos": closed, "visit_note": note}

    follow_up = follow_up_visit

    def _conclusion(self) -> str:
        items = self.p.items
        text = (f"{self.facts['cadre_name']}同志任{self.p.unit.name}{self.p.post}期间，能够认真履行用人、用编、用财责任，"
                f"综合评价为“{GRADE_NAMES[grade_for(self.overall)]}”。")
        return text + (f"联审发现的{len(items)}个问题已全部整改到位。" if items else "联审未发现需整改的问题。")

    def issue_report(self, today: date) -> dict[str, Any]:
        return {"report_no": self.numbers["report"], "report_date": today.isoformat(),
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


def _numbers(plans: list[Plan], timelines: list[Timeline], rng: random.Random) -> list[dict[str, str]]:
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


# --- seeding ----------------------------------------------------------------------------------------------------
def _catalogues(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.db.reading() as session:
        out = {}
        for key in (XINGHUA, SUZHOU):
            version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == key)
                                        .order_by(ProcessVersion.version.desc()).limit(1))
            if version_id is None:
                raise NotFound(f"流程未部署：{key}（先运行 duban deploy processes）")
            out[key] = engine.versions.get(session, version_id).catalogue
        return out


def _clerks(engine: Engine) -> tuple[dict[str, Actor], dict[str, Actor]]:
    with engine.db.reading() as session:
        roles = {role: actor_for(session, role) for role in ("organization", "staffing", "audit")}
        by_unit = {}
        for user in session.scalars(select(User).where(User.is_demo.is_(True))).all():
            if "unit" in (user.roles or []) and user.units and len(user.units) == 1:
                by_unit[user.units[0]] = Actor.of(user)
        unit = actor_for(session, "unit")
    return roles, {**by_unit, **({UNIT_ACCOUNT_UNIT: unit} if unit.in_scope(UNIT_ACCOUNT_UNIT) else {})}


def seed(engine: Engine, seed_value: int = 2026) -> list[int]:
    """Start the seeds' cases and walk each to its planned step, so every step holds some work."""
    plans = cast(seed_value)
    catalogues = _catalogues(engine)
    roles, units = _clerks(engine)
    missing = sorted({p.unit.username for p in plans if p.unit_work and p.unit.name not in units})
    if missing:
        raise NotFound(f"缺少演示账号：{', '.join(missing[:5])} … (先运行 duban init --demo)")
    real_clock, real_now = engine.clock, engine.clock()
    clock = _DemoClock(real_now)
    timelines = [timeline(p, catalogues[p.key], real_now) for p in plans]
    numbers = _numbers(plans, timelines, random.Random(seed_value))
    order = sorted(range(len(plans)), key=lambda i: timelines[i].start)  # case numbers follow the opening dates
    made: dict[int, int] = {}
    engine.clock = clock
    try:
        for i in order:
            p, tl = plans[i], timelines[i]
            clock.now = tl.start
            case_id = engine.start_case(p.key, p.facts, roles["organization"])
            made[i] = case_id
            writer = _Writer(p, tl, numbers[i])
            for step, at in tl.steps:
                item = next((t for t in engine.tasks(OPERATOR, case_id) if t["step_id"] == step), None)
                if item is None:
                    raise NotFound(f"演示项目 #{case_id} 没有待办的 {step}: 流程与演示数据不符")
                clock.now = at
                actor = units[p.unit.name] if item["role"] == "unit" else roles[item["role"]]
                engine.complete(item["id"], writer.data(step, at, item["form"]), actor)
        failing = next(made[i] for i, p in enumerate(plans) if p.light == "error")
        _fire_due_timers(engine, clock, real_now, failing)
    finally:
        engine.clock = real_clock
    return [made[i] for i in order]


def _fire_due_timers(engine: Engine, clock: _DemoClock, now: datetime, failing: int) -> None:
    """What the worker would have done meanwhile: reminders, escalations and deadline timers, each at its time.

    The failing case's rectification deadline timer does not get through: the incident it leaves is what a
    supervisor retries (engine.incidents.retry reschedules the timer, and the worker fires it)."""
    from .worker import TimerRunner

    runner = TimerRunner(engine, name="demo")
    with engine.db.reading() as session:
        moments = sorted(set(session.scalars(select(Timer.fire_at).where(Timer.fire_at <= now)).all()))
        fails_at = session.scalar(select(func.min(Timer.fire_at)).where(Timer.case_id == failing,
                                                                         Timer.kind == "bpmn"))
    pending = fails_at is not None
    for moment in moments:
        if pending and moment >= fails_at:
            clock.now = fails_at + timedelta(seconds=2)
            _timer_incident(engine, failing)
            pending = False
        clock.now = moment + timedelta(seconds=1)
        runner.run_due(limit=100)
    if pending:
        clock.now = fails_at + timedelta(seconds=2)
        _timer_incident(engine, failing)


def _timer_incident(engine: Engine, case_id: int) -> None:
    """A deadline timer whose step failed: the database was locked (a backup held it), so nothing was written."""
    with engine.db.reading() as session:
        title = session.scalar(select(Case.title).where(Case.id == case_id))
        timer_ids = list(session.scalars(select(Timer.id).where(Timer.case_id == case_id, Timer.kind == "bpmn")).all())
    try:
        raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as cause:
        trace = "".join(traceback.format_exception(cause))
    err = StepFailed(f"{title}: 步骤执行失败，未做任何更改：OperationalError: database is locked",
                     details={"step_id": "escalate_overdue_report", "step_name": "逾期未报督办", "trace": trace})
    engine.record_incident(case_id, {"kind": "timers", "timer_ids": timer_ids}, err)


# --- what to try ------------------------------------------------------------------------------------------------
def walkthrough(engine: Engine, case_ids: list[int]) -> str:
    from .supervision import Settings, light_counts

    now = engine.clock()
    with engine.db.reading() as session:
        lights = light_counts(session, OPERATOR, now, Settings())
        statuses = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
        error_case = session.scalar(select(Incident.case_id).where(Incident.status == "open").limit(1))
        listed_case = session.scalar(select(Case.id).where(Case.listed.is_(True)).order_by(Case.id).limit(1))
        clerks = session.scalars(select(User).where(User.is_demo.is_(True), User.username.like("unit\\_%", escape="\\"))
                                 .order_by(User.username)).all()
        busy = set(session.scalars(select(WorkItem.unit).where(WorkItem.status == "ready", WorkItem.role == "unit")).all())
    opening = [t for t in engine.tasks(OPERATOR) if t["step_id"] in ("issue_notice", "pre_audit_notice")]
    first_id = opening[0]["id"] if opening else 1
    shown = listed_case or (case_ids[0] if case_ids else 1)
    examples = "、".join([f"{u.username} ({u.units[0]})" for u in clerks if u.units and u.units[0] in busy][:3])
    return f"""
演示数据已就绪: {len(case_ids)} 个案件 (兴化 51 人: 届中 21、离任 30, 乡镇 30、市级机关部门 21;
  苏州 48 人: 市本级 7、县级市(区) 41)
  办理中 {lights.running}: 绿灯 {lights.green}、黄灯 {lights.yellow} (3 日内到期)、红灯 {lights.red} (已逾期、已督办);
  已办结 {statuses.get('completed', 0)}；出错 {statuses.get('error', 0)} (案件 #{error_case}: 定时步骤失败, 督办人员可重试);
  挂牌督办 案件 #{listed_case}

演示账号 (密码 demo):
  organization 组织部干部监督科 · staffing 编办 · audit 审计局 · discipline 纪委监委 · leading_office 领导小组办公室
  supervisor 领导小组 (督办: 灯色、逾期、出错、挂牌督办) · designer 流程设计员
  unit {UNIT_ACCOUNT_UNIT}党政办: 只看到本镇的待办和案件
  另有 {len(clerks)} 个被审单位账号, 各限本单位, 如 {examples} …

命令行 (CLI):
  .venv/bin/duban tasks --as organization
  .venv/bin/duban tasks --as staffing                      # 编办看到并行的用编审查
  .venv/bin/duban tasks --as unit                          # 只有{UNIT_ACCOUNT_UNIT}的整改报送
  .venv/bin/duban complete {first_id} --as organization --data '{{}}'  # 缺少必填项, 看中文提示
  .venv/bin/duban case {shown:<38} # 挂牌督办案件的全部历史
"""
