"""A handler may open cases of other processes (a campaign's units, a complaint from a public notice) in its
step's transaction: they land with the step, or, when the step fails, none of them exists."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import handlers
from engine.errors import StepFailed
from engine.models import Case
from tests.conftest import ready_steps

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def open_two(ctx):
    ids = [ctx.start_case("check_then_sign", {"unit": unit, "title": f"{unit}的核对"}) for unit in ("甲镇", "乙镇")]
    if ctx.data.get("fail_after_opening"):
        raise RuntimeError("下级项目开启后处理程序失败")
    return {"children": ids}


@pytest.fixture
def engine(engine, monkeypatch):
    monkeypatch.setitem(handlers.REGISTRY, "tests.open_children", open_two)
    monkeypatch.setitem(handlers.REGISTRY, "tests.refuse_empty_note", lambda ctx: {"ok": True})
    engine.deploy([str(FIXTURES / "refusal"), str(FIXTURES / "child_cases")])
    return engine


def test_cases_a_handler_opens_run_on_their_own_with_their_units_work(engine):
    parent = engine.start_case("open_children", {})
    children = engine.case(parent)["data"]["opened"]["children"]
    assert len(children) == 2
    for child, unit in zip(children, ("甲镇", "乙镇")):
        view = engine.case(child)
        assert view["unit"] == unit and view["status"] == "running"
        assert ready_steps(engine, child) == ["enter"]
    assert ready_steps(engine, parent) == ["wait"]


def test_a_failing_step_leaves_none_of_the_cases_it_opened(engine):
    with pytest.raises(StepFailed):
        engine.start_case("open_children", {"fail_after_opening": True})
    with engine.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
