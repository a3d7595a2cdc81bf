"""PostgreSQL: the three departments complete their parallel reviews (座谈了解) of one case at the same moment.

None of them did anything wrong, so all three must succeed; the join after the reviews fires once.
"""
from __future__ import annotations

import multiprocessing as mp
from collections import Counter

from sqlalchemy import func, select

from engine.db import Database
from engine.forms import example_data
from engine.models import Event, WorkItem
from engine.runtime import Engine
from tests.conftest import CASE_FACTS, as_user, make_engine, ready_steps
from tests.processes.walk import walk

CASES = 50
REVIEWS = {"review_personnel": "organization", "review_establishment": "staffing", "review_finance": "audit"}


def _department(url: str, role: str, items: list[int], barrier, results) -> None:
    engine = Engine(Database(url))
    actor = as_user(engine, role)
    form = next(i for i in engine.tasks(actor) if i["id"] == items[0])["form"]
    for item_id in items:
        data = example_data(form)
        if role == "audit":  # one finding per case, so the join's merge has something to count
            data["finance_findings"] = [{"description": "公务接待超标准", "severity": "general",
                                         "problem_category": "excess_reception", "responsibility_type": "direct",
                                         "demerit_points": 0.5}]
        barrier.wait(timeout=120)
        try:
            engine.complete(item_id, data, actor)
            results.put((role, item_id, "ok"))
        except Exception as err:  # any refusal is what the test must show
            results.put((role, item_id, f"{type(err).__name__}: {err}"))
    engine.db.engine.dispose()


def test_three_departments_complete_their_parallel_reviews_at_once_and_all_succeed(pg_url):
    engine = make_engine(pg_url)
    organization = as_user(engine, "organization")
    case_ids = []
    for n in range(CASES):
        case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, cadre_name=f"测试{n}"), organization)
        walk(engine, case_id, "review_finance")  # the notice, its countersignatures, publicity, the plan, entry
        case_ids.append(case_id)
    items = {role: [] for role in REVIEWS.values()}
    for case_id in case_ids:
        for item in engine.tasks(case_id=case_id):
            items[REVIEWS[item["step_id"]]].append(item["id"])
    assert all(len(ids) == CASES for ids in items.values())

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    workers = [ctx.Process(target=_department, args=(pg_url, role, ids, barrier, results)) for role, ids in items.items()]
    for p in workers:
        p.start()
    outcomes = [results.get(timeout=600) for _ in range(3 * CASES)]
    for p in workers:
        p.join(timeout=60)

    failed = [o for o in outcomes if o[2] != "ok"]
    assert not failed, failed[:5]
    assert Counter(role for role, _, _ in outcomes) == Counter({role: CASES for role in REVIEWS.values()})
    with engine.db.reading() as s:
        merges = dict(s.execute(select(Event.case_id, func.count()).where(
            Event.kind == "service_task", Event.step_id == "merge_findings", Event.case_id.in_(case_ids))
            .group_by(Event.case_id)).all())
        assert merges == {case_id: 1 for case_id in case_ids}  # the join fired once per case
        completed = s.execute(select(Event.case_id, func.count()).where(
            Event.kind == "task_completed", Event.step_id.in_(REVIEWS), Event.case_id.in_(case_ids))
            .group_by(Event.case_id)).all()
        assert sorted(n for _, n in completed) == [3] * CASES  # no completion lost or doubled
        for case_id in case_ids:
            seqs = s.scalars(select(Event.seq).where(Event.case_id == case_id).order_by(Event.seq)).all()
            assert seqs == list(range(1, len(seqs) + 1))
        feedback = s.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.step_id == "feedback", WorkItem.case_id.in_(case_ids)))
        assert feedback == CASES
    for case_id in case_ids:
        assert ready_steps(engine, case_id) == ["feedback"]
        assert engine.case(case_id)["data"]["finding_count"] == 1
