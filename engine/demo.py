"""Demo data for `make run`: the seeds' numbers as cases spread over every step, with realistic ages.

Xinghua (seed 000): 51 principal leaders — 21 mid-term and 30 on leaving; 30 townships and
21 municipal departments. Suzhou (seed 001): 48 in one year — 7 municipal, 41 county-level.
Names are invented; units are the kinds the seeds name.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .access import OPERATOR
from .accounts import actor_for
from .forms import example_data
from .runtime import Engine

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
GIVEN = ["建国", "海燕", "志强", "晓东", "立新", "春华", "国平", "文杰", "红梅", "永明", "德华", "秀英", "伟", "静",
         "军", "敏", "磊", "洋", "勇", "艳", "俊峰", "玉兰", "卫东", "金龙", "雪梅", "长江", "向阳", "振华"]
XINGHUA_TOWNS = ["戴窑镇", "沙沟镇", "安丰镇", "陈堡镇", "大垛镇", "荻垛镇", "陶庄镇", "昌荣镇", "合陈镇", "大营镇",
                 "永丰镇", "新垛镇", "海南镇", "林湖乡", "缸顾乡", "李中镇", "周庄镇", "茅山镇", "竹泓镇", "沈伦镇",
                 "中堡镇", "张郭镇", "钓鱼镇", "临城街道", "昭阳街道", "千垛镇", "垛田街道", "西鲍乡", "大邹镇", "兴东镇"]
XINGHUA_DEPTS = ["市教育局", "市住建局", "市交通运输局", "市农业农村局", "市水务局", "市卫健委", "市民政局",
                 "市财政局", "市商务局", "市文广旅局", "市自然资源局", "市生态环境局", "市人社局", "市市场监管局",
                 "市城管局", "市科技局", "市司法局", "市审计局机关服务中心", "市供销总社", "市粮食和物资储备局", "市档案馆"]
SUZHOU_MUNICIPAL = ["市外办", "市安监局", "市环保局", "市体育局", "市侨办", "市机关事务局", "市统计局"]
SUZHOU_COUNTY = ["常熟市", "张家港市", "昆山市", "太仓市", "吴江区", "吴中区", "相城区", "姑苏区", "虎丘区", "工业园区"]
TOWN_POSTS = ["镇党委书记", "镇长"]
DEPT_POSTS = ["局长", "党组书记", "主任"]
COUNTY_POSTS = ["区委书记", "区长", "市委书记", "市长", "局长"]
LEAVING_REASONS = ["term_ended", "promoted", "transferred", "rotated", "retired"]
FINDINGS = {
    "personnel": ["超职数配备中层干部", "干部选拔未经民主推荐程序", "借调人员长期未归位"],
    "establishment": ["内设机构超出三定规定", "混编混岗、以事代行", "实名制信息与实际不符"],
    "finance": ["白条入账", "公务接待超标准", "专项资金未专款专用", "账外账"],
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _facts(rng: random.Random, unit: str, level: str, post: str, leaving: bool) -> dict[str, Any]:
    facts = {"cadre_name": _name(rng), "post": post, "unit": unit, "unit_level": level,
             "audit_type": "leaving" if leaving else "mid_term", "years_in_post": rng.randint(3, 9),
             "unit_principal": _name(rng), "unit_deputy": _name(rng)}
    if leaving:
        facts["leaving_reason"] = rng.choice(LEAVING_REASONS)
    else:
        facts["unit_principal"] = facts["cadre_name"]
    return facts


def population(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """The seeds' cadres: Xinghua 30 town + 21 municipal (21 mid-term, 30 leaving); Suzhou 7 + 41."""
    cases = []
    leaving_flags = [True] * 30 + [False] * 21
    rng.shuffle(leaving_flags)
    units = [(u, "town", rng.choice(TOWN_POSTS)) for u in XINGHUA_TOWNS] + \
            [(u, "municipal_dept", rng.choice(DEPT_POSTS)) for u in XINGHUA_DEPTS]
    for (unit, level, post), leaving in zip(units, leaving_flags):
        cases.append(("joint_audit_xinghua", _facts(rng, unit, level, post, leaving)))
    suzhou = [(u, "municipal_dept", "局长" if "局" in u else "主任") for u in SUZHOU_MUNICIPAL] + \
             [(SUZHOU_COUNTY[i % len(SUZHOU_COUNTY)], "county", COUNTY_POSTS[i % len(COUNTY_POSTS)]) for i in range(41)]
    for i, (unit, level, post) in enumerate(suzhou):
        cases.append(("joint_audit_suzhou", _facts(rng, unit, level, post, leaving=(i == 0 or i % 6 == 0))))
    return cases


class _DemoClock:
    """Time for seeding: each case starts weeks ago and its steps take days, so ages and overdue marks are real."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


NOTES = ["经核实, 相关材料齐全, 情况属实。", "已听取单位汇报并调阅相关台账, 未发现明显问题。",
         "单位主要负责人表示将高度重视, 立行立改。", "部分事项需进一步核实, 已要求补充材料。",
         "已按要求完成, 相关材料已归档。"]


def _realistic(name: str, schema: dict[str, Any], rng: random.Random, today: str) -> Any:
    """A plausible value for one form field, so demo cases read like real ones."""
    kind = schema.get("type")
    choices = [c["const"] for c in schema.get("oneOf", []) if "const" in c]
    if choices:
        return rng.choice(choices)
    if kind == "array":
        options = [c["const"] for c in schema.get("items", {}).get("oneOf", []) if "const" in c]
        if options:
            return rng.sample(options, min(len(options), max(schema.get("minItems", 0), rng.randint(1, 3))))
        return [_realistic(name, schema.get("items", {}), rng, today) for _ in range(schema.get("minItems", 0))]
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 100)
        value = rng.uniform(max(low, high * 0.7 if high <= 100 else low), high) if high <= 100 else rng.randint(low, low + 30)
        return int(value) if kind == "integer" else round(value, 1)
    if kind == "boolean":
        return rng.random() < 0.8
    if schema.get("format") == "date":
        return today
    if name.endswith("_no"):
        return f"〔2026〕{rng.randint(3, 60)}号"
    if "leader" in name or name.endswith("_by"):
        return _name(rng)
    limit = schema.get("maxLength", 200)
    return rng.choice(NOTES)[:limit]


def _step_data(rng: random.Random, item: dict[str, Any], round_no: int, today: str = "") -> dict[str, Any]:
    step, overrides = item["step_id"], {}
    for duty, texts in FINDINGS.items():
        if step in (f"review_{duty}", f"verify_{duty}") and rng.random() < 0.5:
            overrides[f"{duty}_findings"] = [{"description": text, "severity": rng.choice(["major", "general"])}
                                             for text in rng.sample(texts, rng.randint(1, 2))]
    if step in ("follow_up_visit", "follow_up"):
        overrides["closed_item_nos"] = list(range(1, 13)) if round_no >= 2 or rng.random() < 0.4 else []
        overrides["visit_note"] = f"第{round_no}次回访: 逐项核实整改材料"
    if step == "consolidate":
        overrides["serious"] = rng.random() < 0.15
    form = item["form"] or {}
    props = form.get("properties", {})
    if "closed_item_nos" in overrides and "closed_item_nos" in props:
        maximum = props["closed_item_nos"].get("items", {}).get("maximum", 600)
        overrides["closed_item_nos"] = [n for n in overrides["closed_item_nos"] if n <= maximum]
    filled = {name: _realistic(name, props[name], rng, today) for name in form.get("required", []) if name in props}
    return example_data(form, **{**filled, **overrides})


def seed(engine: Engine, seed_value: int = 2026) -> list[int]:
    """Start the seeds' cases and walk each to a different point, so every step holds some work."""
    rng = random.Random(seed_value)
    real_clock, real_now = engine.clock, engine.clock()
    clock = _DemoClock(real_now)
    engine.clock = clock
    made = []
    try:
        with engine.db.reading() as session:
            clerks = {role: actor_for(session, role) for role in ("organization", "staffing", "audit", "unit")}
        for n, (key, facts) in enumerate(population(rng)):
            clock.now = real_now - timedelta(days=rng.randint(6, 75), hours=rng.randint(0, 10))
            case_id = engine.start_case(key, facts, clerks["organization"])
            made.append(case_id)
            steps_to_take, round_no = n % 17, 1
            for _ in range(steps_to_take):
                items = engine.tasks(OPERATOR, case_id)
                if not items:
                    break
                item = rng.choice(items)
                clock.now = min(clock.now + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 8)), real_now)
                data = _step_data(rng, item, round_no, (clock.now + timedelta(hours=8)).date().isoformat())
                engine.complete(item["id"], data, clerks[item["role"]])
                round_no += item["step_id"] in ("follow_up_visit", "follow_up")
    finally:
        engine.clock = real_clock
    return made


def walkthrough(engine: Engine, case_ids: list[int]) -> str:
    first = engine.tasks(OPERATOR, case_ids[0])
    first_id = first[0]["id"] if first else 1
    return f"""
演示数据已就绪: {len(case_ids)} 个案件 (兴化 51 人: 届中 21、离任 30; 苏州 48 人: 市本级 7、县级市(区) 41)
演示账号 (密码 demo): organization staffing audit discipline leading_office unit supervisor designer

命令行 (CLI):
  .venv/bin/duban tasks --as organization
  .venv/bin/duban tasks --as staffing                      # 编办看到并行的用编审查
  .venv/bin/duban complete {first_id} --as organization --data '{{}}'   # 缺少必填项, 看中文提示
  .venv/bin/duban case {case_ids[0]}
"""
