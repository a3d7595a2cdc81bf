"""Step cost on the SQLite default: engine-only vs persisted, and round 1 vs round 400 of one case.

Run: .venv/bin/python bench/step_cost.py   (prints figures; not part of the test suite)
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import expressions  # noqa: E402
from engine.accounts import actor_for, create_demo_accounts  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.forms import example_data  # noqa: E402
from engine.models import ProcessVersion  # noqa: E402
from engine.runtime import Engine  # noqa: E402
from engine.state import prune_history  # noqa: E402
from sqlalchemy import select  # noqa: E402

KEY = "joint_audit_xinghua"
PLAIN = "plain_ten"  # bench/plain: the process the issue profiled
FACTS = {"cadre_name": "周建国", "post": "镇党委书记", "unit": "戴窑镇", "unit_level": "town", "audit_type": "leaving",
         "leaving_reason": "promoted",
         "unit_principal": "陈明", "unit_deputy": "刘洋"}
ROUNDS_PER_PATH = 10


def choose(step_id: str, round_no: int, last_round: int) -> dict:
    """The data a clerk enters per step on the benchmark path: one finding, reported and closed in the last round."""
    if step_id == "review_finance":
        return {"finance_findings": [{"description": "账外账", "severity": "major"}]}
    if step_id == "report_rectification":
        return {"reported_item_nos": [1] if round_no >= last_round else []}
    if step_id == "follow_up_visit":
        return {"closed_item_nos": [1] if round_no >= last_round else []}
    return {}


def pure_handlers(context, operation_name=None, operation_params=None, **_):
    """The handlers' effect on case data, without their database rows (engine-only figure)."""
    if operation_name == "findings.merge":
        merged = [dict(f, duty=d, item_no=i + 1) for i, (d, f) in enumerate(
            (d, f) for d in ("personnel", "establishment", "finance") for f in context.get(f"{d}_findings") or [])]
        context.update(findings=merged, finding_count=len(merged))
    elif operation_name == "rectification.open_items":
        context.update(open_item_count=len(context.get("findings") or []), rectification_round=0, open_nos=[1])
    elif operation_name == "rectification.record_visit":
        still = [n for n in context.get("open_nos", []) if n not in context.get("closed_item_nos", [])]
        context.update(open_nos=still, open_item_count=len(still),
                       rectification_round=context.get("rectification_round", 0) + 1)
    elif operation_name == "integrity_file.archive":
        context["archived"] = True
    return "{}"


def engine_only(catalogue, spec, subs, rounds: int) -> list[float]:
    workflow = BpmnWorkflow(spec, subs, script_engine=expressions.make_script_engine(pure_handlers))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(FACTS)
    workflow.do_engine_steps()
    times, round_no = [], 1
    while not workflow.is_completed():
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        sid = task.task_spec.bpmn_id
        data = example_data(catalogue["steps"][sid]["form"], **choose(sid, round_no, rounds))
        t0 = time.perf_counter()
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        prune_history(workflow)
        times.append(time.perf_counter() - t0)
        round_no += sid == "follow_up_visit"
    return times


def persisted(engine: Engine, clerks, rounds: int, key: str = KEY) -> tuple[list[float], dict[int, list[float]]]:
    case_id = engine.start_case(key, dict(FACTS), clerks["organization"])
    times, by_round, round_no = [], {}, 1
    while True:
        items = engine.tasks(case_id=case_id)
        if not items:
            break
        item = items[0]
        data = example_data(item["form"], **choose(item["step_id"], round_no, rounds))
        t0 = time.perf_counter()
        engine.complete(item["id"], data, clerks[item["role"]])
        elapsed = time.perf_counter() - t0
        times.append(elapsed)
        if item["step_id"] in ("report_rectification", "follow_up_visit"):
            by_round.setdefault(round_no, []).append(elapsed)
        round_no += item["step_id"] == "follow_up_visit"
    return times, by_round


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.upgrade()
        with db.transaction() as session:
            create_demo_accounts(session)
        engine = Engine(db)
        engine.deploy([str(REPO / "processes"), str(REPO / "bench" / "plain")])
        with db.reading() as session:
            clerks = {r: actor_for(session, r) for r in ("organization", "staffing", "audit", "unit")}
            versions = {key: engine.versions.get(session, session.scalar(
                select(ProcessVersion.id).where(ProcessVersion.process_key == key))) for key in (KEY, PLAIN)}

        def both(key: str, paths: int) -> tuple[float, float, int, int]:
            version = versions[key]
            engine_times, persisted_times = [], []
            for _ in range(paths):
                engine_times += engine_only(version.catalogue, version.spec, version.subprocess_specs, ROUNDS_PER_PATH)
                persisted_times += persisted(engine, clerks, ROUNDS_PER_PATH, key)[0]
            return (statistics.median(engine_times), statistics.median(persisted_times), len(engine_times),
                    len(persisted_times))

        a, b, n_a, n_b = both(KEY, 5)
        plain_a, plain_b, _, _ = both(PLAIN, 30)

        _, by_round = persisted(engine, clerks, 410)
        early = statistics.median(t for r in range(1, 11) for t in by_round[r])
        late = statistics.median(t for r in range(400, 410) for t in by_round[r])

    figures = {
        "engine_only_step_ms": round(a * 1000, 3), "persisted_step_ms": round(b * 1000, 3),
        "persisted_over_engine": round(b / a, 2),
        "round_1_step_ms": round(early * 1000, 3), "round_400_step_ms": round(late * 1000, 3),
        "round_400_over_round_1": round(late / early, 2),
        "plain_engine_only_step_ms": round(plain_a * 1000, 3), "plain_persisted_step_ms": round(plain_b * 1000, 3),
        "plain_persisted_over_engine": round(plain_b / plain_a, 2),
    }
    print(f"(a) median engine-only step ({KEY}):      {figures['engine_only_step_ms']:8.3f} ms  ({n_a} steps)")
    print(f"(b) median persisted step (load,run,commit): {figures['persisted_step_ms']:8.3f} ms  ({n_b} steps)")
    print(f"    ratio (b)/(a): {figures['persisted_over_engine']}   target <= 3")
    print(f"(c) persisted step at rectification round 1..10:    {figures['round_1_step_ms']:8.3f} ms")
    print(f"    persisted step at rectification round 400..409: {figures['round_400_step_ms']:8.3f} ms")
    print(f"    ratio round 400 / round 1: {figures['round_400_over_round_1']}   target <= 1.5")
    print(f"(d) {PLAIN} (10 user tasks, no handlers): engine-only {figures['plain_engine_only_step_ms']:.3f} ms, "
          f"persisted {figures['plain_persisted_step_ms']:.3f} ms, ratio {figures['plain_persisted_over_engine']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
