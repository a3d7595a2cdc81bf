"""A case survives any number of rectification rounds: history is pruned, never the live state."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from engine.models import Attachment, Case, Event
from handlers.records import FollowUpVisit
from handlers.rectification import ROUNDS_KEPT
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine, ready_steps
from tests.processes.walk import walk

ROUNDS = 1000
BEFORE_ROUNDS = 13  # notice, 3 countersignatures, publicity, plan, entry, 3 reviews, feedback, confirmation, summary
REPORT_STEPS = 5  # the report, its 3 countersignatures, its approval


def test_one_thousand_rectification_rounds_then_the_report(engine):
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    done = walk(engine, case_id, "report_rectification", {"review_finance": {"finance_findings": [
        {"description": "账外账", "severity": "major", "problem_category": "slush_fund", "responsibility_type": "direct",
         "demerit_points": 2}]}})
    assert len(done) == BEFORE_ROUNDS, done
    with engine.db.transaction() as s:
        evidence = Attachment(case_id=case_id, filename="佐证.pdf", content_type="application/pdf", size=1,
                              sha256="0" * 64, uploaded_by="audit", uploaded_at=engine.clock())
        s.add(evidence)
        s.flush()
        evidence_id = evidence.id
    day = engine.case(case_id)["data"]["rectification_deadline"]  # every report on the day it is due
    sizes = []
    for round_no in range(1, ROUNDS + 1):
        closed = [1] if round_no == ROUNDS else []
        complete_step(engine, case_id, "report_rectification", reported_item_nos=closed, rectification_report_date=day)
        # the audit bureau verifies its one open item and visits, every round
        complete_step(engine, case_id, "verify_rectification_audit", finance_visit_date=day, finance_visit_note="回访",
                      finance_closed_item_nos=closed, finance_evidence_ids=[evidence_id] if closed else [])
        if round_no in (ROUNDS_KEPT + 1, ROUNDS - 1):  # the case data lists the latest rounds only
            with engine.db.reading() as s:
                sizes.append(len(s.get(Case, case_id).state_json))
        if round_no < ROUNDS:
            # Every round is a real step: a new round is set, the unit is asked again, the case is not "completed".
            assert ready_steps(engine, case_id) == ["set_next_round"], round_no
            complete_step(engine, case_id, "set_next_round", next_round_deadline=day)
            assert ready_steps(engine, case_id) == ["report_rectification"], round_no
    assert ready_steps(engine, case_id) == ["issue_report"]
    view = engine.case(case_id)
    assert view["status"] == "running" and view["data"]["rectification_round"] == ROUNDS
    assert len(walk(engine, case_id, None)) == REPORT_STEPS
    assert engine.case(case_id)["status"] == "completed"
    # The live state does not grow with history; the history is all in the event table.
    assert sizes[1] <= sizes[0] * 1.1, sizes
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(FollowUpVisit).where(FollowUpVisit.case_id == case_id)) == ROUNDS
        completed = s.scalar(select(func.count()).select_from(Event).where(
            Event.case_id == case_id, Event.kind == "task_completed"))
        assert completed == BEFORE_ROUNDS + 3 * ROUNDS - 1 + REPORT_STEPS
        state = json.loads(s.get(Case, case_id).state_json)
        assert len(state["tasks"]) < 40


def test_a_three_way_join_fires_after_its_branches_arrived_in_separate_steps(tmp_path):
    # Pruning once spliced out the step before a cancelled join instance (the first branch's, cancelled when
    # the second arrived): the join then never counted the first branch, and the case waited forever.
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    engine.deploy([str(Path(__file__).resolve().parents[1] / "fixtures" / "three_way_join")])
    case_id = engine.start_case("three_way_join", {})
    for step in ("a", "b", "c"):
        assert step in ready_steps(engine, case_id)
        complete_step(engine, case_id, step, note="办完")
        engine.live._entries.clear()  # each branch arrives in its own step, from the stored state
    assert ready_steps(engine, case_id) == ["after"]
