"""PostgreSQL, the scale-out database: the same engine, and a real race for one work item."""
from __future__ import annotations

import multiprocessing as mp
from collections import Counter

from sqlalchemy import func, select

from engine.errors import Conflict
from engine.forms import example_data
from engine.models import Event, WorkItem
from engine.runtime import Engine
from engine.db import Database
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine, ready_steps

RACES = 200


def test_joint_audit_runs_to_completion_on_postgres(pg_url):
    engine = make_engine(pg_url)
    case_id = engine.start_case("joint_audit_suzhou", dict(CASE_FACTS), as_user(engine, "organization"))
    for step in ("pre_audit_notice", "mobilization", "self_report", "democratic_appraisal", "individual_interviews"):
        complete_step(engine, case_id, step)
    assert ready_steps(engine, case_id) == ["verify_establishment", "verify_finance", "verify_personnel"]
    complete_step(engine, case_id, "verify_establishment",
                  establishment_findings=[{"description": "超编进人", "severity": "major"}])
    complete_step(engine, case_id, "verify_finance")
    complete_step(engine, case_id, "verify_personnel")
    complete_step(engine, case_id, "consolidate")
    complete_step(engine, case_id, "feedback")
    for closed in ([], [1]):
        complete_step(engine, case_id, "rectify", reported_item_nos=closed)
        complete_step(engine, case_id, "follow_up", closed_item_nos=closed)
    complete_step(engine, case_id, "acceptance")
    assert engine.case(case_id)["status"] == "completed"


def _racer(url: str, item_ids: list[int], barrier, results) -> None:
    engine = Engine(Database(url))
    actor = as_user(engine, "organization")
    form = next(i for i in engine.tasks(actor) if i["id"] == item_ids[0])["form"]
    data = example_data(form)
    for item_id in item_ids:
        barrier.wait(timeout=60)
        try:
            engine.complete(item_id, data, actor)
            results.put((item_id, "won"))
        except Conflict:
            results.put((item_id, "conflict"))
        except Exception as err:  # anything else is a failure the test must show
            results.put((item_id, f"error: {type(err).__name__}: {err}"))
    engine.db.engine.dispose()


def test_two_processes_complete_the_same_work_item_exactly_one_wins(pg_url):
    engine = make_engine(pg_url)
    organization = as_user(engine, "organization")
    case_ids = [engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), organization) for _ in range(RACES)]
    item_ids = [i["id"] for i in engine.tasks() if i["case_id"] in case_ids]
    assert len(item_ids) == RACES
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    racers = [ctx.Process(target=_racer, args=(pg_url, item_ids, barrier, results)) for _ in range(2)]
    for p in racers:
        p.start()
    outcomes = [results.get(timeout=300) for _ in range(2 * RACES)]
    for p in racers:
        p.join(timeout=60)
    by_item: dict[int, Counter] = {}
    for item_id, outcome in outcomes:
        by_item.setdefault(item_id, Counter())[outcome] += 1
    assert all(c == Counter({"won": 1, "conflict": 1}) for c in by_item.values()), \
        [c for c in by_item.values() if c != Counter({"won": 1, "conflict": 1})][:5]
    with engine.db.reading() as s:
        completed = s.execute(select(Event.case_id, func.count()).where(Event.kind == "task_completed")
                              .group_by(Event.case_id)).all()
        assert sorted(n for _, n in completed) == [1] * RACES  # no lost and no doubled completion
        for case_id in case_ids[:20]:
            seqs = s.scalars(select(Event.seq).where(Event.case_id == case_id).order_by(Event.seq)).all()
            assert seqs == list(range(1, len(seqs) + 1))
        done = s.scalars(select(WorkItem.completed_by).where(WorkItem.id.in_(item_ids))).all()
        assert done == ["organization"] * RACES
    assert all(ready_steps(engine, c) == ["pre_audit_publicity"] for c in case_ids[:10])
