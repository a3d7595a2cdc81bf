"""A case survives any number of rectification rounds: history is pruned, never the live state."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from engine.models import Case, Event
from handlers.records import FollowUpVisit
from tests.conftest import CASE_FACTS, as_user, complete_step, ready_steps

ROUNDS = 1000


def test_one_thousand_rectification_rounds_then_the_report(engine):
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    for step in ("issue_notice", "pre_audit_publicity", "entry_meeting", "review_personnel", "review_establishment"):
        complete_step(engine, case_id, step)
    complete_step(engine, case_id, "review_finance", finance_findings=[{"description": "账外账", "severity": "major"}])
    complete_step(engine, case_id, "feedback")
    complete_step(engine, case_id, "consolidate")
    sizes = []
    for round_no in range(1, ROUNDS + 1):
        closed = [1] if round_no == ROUNDS else []
        complete_step(engine, case_id, "report_rectification", reported_item_nos=closed)
        complete_step(engine, case_id, "follow_up_visit", closed_item_nos=closed)
        if round_no in (1, ROUNDS - 1):
            with engine.db.reading() as s:
                sizes.append(len(s.get(Case, case_id).state_json))
        if round_no < ROUNDS:
            # Every round is a real step: the unit is asked again, the case is not "completed".
            assert ready_steps(engine, case_id) == ["report_rectification"], round_no
    assert ready_steps(engine, case_id) == ["issue_report"]
    view = engine.case(case_id)
    assert view["status"] == "running" and view["data"]["rectification_round"] == ROUNDS
    complete_step(engine, case_id, "issue_report")
    assert engine.case(case_id)["status"] == "completed"
    # The live state does not grow with history; the history is all in the event table.
    assert sizes[1] <= sizes[0] * 1.1, sizes
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(FollowUpVisit).where(FollowUpVisit.case_id == case_id)) == ROUNDS
        completed = s.scalar(select(func.count()).select_from(Event).where(
            Event.case_id == case_id, Event.kind == "task_completed"))
        assert completed == 8 + 2 * ROUNDS + 1
        state = json.loads(s.get(Case, case_id).state_json)
        assert len(state["tasks"]) < 40
