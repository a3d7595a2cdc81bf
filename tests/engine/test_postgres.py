"""PostgreSQL, the scale-out database: the same engine, and a real race for one work item."""
from __future__ import annotations

import multiprocessing as mp
from collections import Counter

from sqlalchemy import func, select

from engine.errors import Conflict
from engine.forms import example_data
from engine.models import Attachment, Event, WorkItem
from engine.runtime import Engine
from engine.db import Database
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine, ready_steps
from tests.processes.walk import walk

COUNTERSIGN_NOTICE = ["countersign_notice_audit", "countersign_notice_organization", "countersign_notice_staffing"]

RACES = 200


def test_joint_audit_runs_to_completion_on_postgres(pg_url):
    engine = make_engine(pg_url)
    case_id = engine.start_case("joint_audit_suzhou", dict(CASE_FACTS), as_user(engine, "organization"))
    walk(engine, case_id, "verify_personnel")
    assert ready_steps(engine, case_id) == ["verify_establishment", "verify_finance", "verify_personnel"]
    complete_step(engine, case_id, "verify_establishment", establishment_findings=[
        {"description": "超编进人", "severity": "major", "problem_category": "over_establishment",
         "responsibility_type": "direct"}])
    complete_step(engine, case_id, "verify_finance")
    complete_step(engine, case_id, "verify_personnel")
    walk(engine, case_id, "rectify")
    with engine.db.transaction() as s:
        evidence = Attachment(case_id=case_id, filename="佐证.pdf", content_type="application/pdf", size=1,
                              sha256="0" * 64, uploaded_by="staffing", uploaded_at=engine.clock())
        s.add(evidence)
        s.flush()
        evidence_ids = [evidence.id]
    day = engine.case(case_id)["data"]["rectification_deadline"]
    for closed in ([], [1]):
        complete_step(engine, case_id, "rectify", reported_item_nos=closed, rectification_report_date=day)
        complete_step(engine, case_id, "verify_rectification_staffing", establishment_closed_item_nos=closed,
                      establishment_visit_date=day, establishment_evidence_ids=evidence_ids if closed else [])
        if not closed:
            complete_step(engine, case_id, "set_next_round", next_round_deadline=day)
    assert ready_steps(engine, case_id) == ["acceptance"]
    walk(engine, case_id, None)  # acceptance, the report, its countersignatures and approval
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
    assert all(ready_steps(engine, c) == COUNTERSIGN_NOTICE for c in case_ids[:10])
