"""Demo cases for `make run`: a few joint audits at different steps, and the commands to try next."""
from __future__ import annotations

from typing import Any

from .access import OPERATOR
from .accounts import actor_for
from .forms import example_data
from .runtime import Engine

# Invented cadres in the kinds of units the seeds name (towns, county-level districts, municipal bureaus).
DEMO_CASES: list[tuple[str, dict[str, Any], int]] = [
    ("joint_audit_xinghua", {"cadre_name": "周建国", "post": "镇党委书记", "unit": "戴窑镇", "unit_level": "town",
                             "audit_type": "leaving", "leaving_reason": "promoted", "years_in_post": 5,
                             "unit_principal": "陈明", "unit_deputy": "刘洋"}, 0),
    ("joint_audit_xinghua", {"cadre_name": "吴海燕", "post": "局长", "unit": "市住建局", "unit_level": "municipal_dept",
                             "audit_type": "mid_term", "years_in_post": 6,
                             "unit_principal": "吴海燕", "unit_deputy": "孙磊"}, 3),
    ("joint_audit_suzhou", {"cadre_name": "郑志强", "post": "区长", "unit": "相城区", "unit_level": "county",
                            "audit_type": "mid_term", "years_in_post": 3,
                            "unit_principal": "郑志强", "unit_deputy": "何静"}, 2),
]


def seed(engine: Engine) -> list[int]:
    """Start the demo cases and walk each a few steps as the demo clerks would."""
    made = []
    with engine.db.reading() as session:
        clerks = {role: actor_for(session, role) for role in ("organization", "staffing", "audit", "unit")}
    for key, facts, steps in DEMO_CASES:
        case_id = engine.start_case(key, facts, clerks["organization"])
        for _ in range(steps):
            item = engine.tasks(OPERATOR, case_id)[0]
            engine.complete(item["id"], example_data(item["form"]), clerks[item["role"]])
        made.append(case_id)
    return made


def walkthrough(engine: Engine, case_ids: list[int]) -> str:
    first = engine.tasks(OPERATOR, case_ids[0])[0]
    return f"""
演示数据已就绪: 案件 {', '.join(map(str, case_ids))}
演示账号 (密码 demo): organization staffing audit discipline leading_office unit supervisor designer

试一试 (try it):
  .venv/bin/duban tasks --as organization
  .venv/bin/duban tasks --as organization --json --case {case_ids[0]}
  .venv/bin/duban complete {first['id']} --as organization --data '{{}}'        # 缺少必填项, 看中文提示
  .venv/bin/duban case {case_ids[1]}
  .venv/bin/duban tasks --as staffing                      # 编办看到并行的用编审查
"""
