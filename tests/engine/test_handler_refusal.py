"""A handler that refuses what the clerk sent (InvalidData) refuses the submission at its field: nothing is
written, the case stays running with no incident, and the clerk can send it again corrected."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import handlers
from engine.errors import InvalidData
from engine.models import Incident
from tests.conftest import as_user, complete_step, ready_steps

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "refusal"


def refuse_empty_note(ctx):
    if not (ctx.data.get("note") or "").strip():
        raise InvalidData("核对未通过：办理意见不能为空", details={"note": ["请填写办理意见"]})
    return {"ok": True}


@pytest.fixture
def engine(engine, monkeypatch):
    monkeypatch.setitem(handlers.REGISTRY, "tests.refuse_empty_note", refuse_empty_note)
    engine.deploy([str(FIXTURE)])
    return engine


def test_a_handler_refusal_is_the_clerks_to_fix_not_an_incident(engine):
    case_id = engine.start_case("check_then_sign", {})
    before = engine.case(case_id)["lock_version"]
    with pytest.raises(InvalidData) as refused:
        complete_step(engine, case_id, "enter", note="  ")
    assert refused.value.details == {"note": ["请填写办理意见"]}
    view = engine.case(case_id)
    assert view["status"] == "running" and view["lock_version"] == before
    assert ready_steps(engine, case_id) == ["enter"]
    with engine.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
    complete_step(engine, case_id, "enter", note="同意")
    assert ready_steps(engine, case_id) == ["sign"]
