"""A diagram that loops through scripts without ever waiting for a person fails its step, fast, and leaves
the server free for everyone else."""
from __future__ import annotations

import threading
import time

import pytest

from engine.errors import StepFailed
from tests.conftest import as_user, make_engine

LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_loop" targetNamespace="duban-tests">
  <bpmn:process id="endless" name="无尽循环" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="organization" name="组织部">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>count</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>again</bpmn:flowNodeRef><bpmn:flowNodeRef>work</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:scriptTask id="count" name="计数"><bpmn:script>rounds = rounds + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="again" name="再来一次？" default="to_work"/>
    <bpmn:userTask id="work" name="办理"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count"/>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="again"/>
    <bpmn:sequenceFlow id="back" sourceRef="again" targetRef="count">
      <bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_work" sourceRef="again" targetRef="work"/>
    <bpmn:sequenceFlow id="f4" sourceRef="work" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def engine(tmp_path):
    (tmp_path / "endless.bpmn").write_text(LOOP, encoding="utf-8")
    eng = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    eng.deploy([str(tmp_path / "endless.bpmn")])
    return eng


def test_a_script_loop_without_a_person_fails_the_step_within_seconds(engine):
    outcome = {}

    def start():
        t0 = time.monotonic()
        try:
            engine.start_case("endless", {"rounds": 0}, as_user(engine, "organization"))
            outcome["result"] = "started"
        except StepFailed as err:
            outcome["result"] = err.message
        outcome["seconds"] = time.monotonic() - t0

    runner = threading.Thread(target=start, daemon=True)
    runner.start()
    # Meanwhile another clerk's work goes on: a write to the same database is not held up for long.
    t0 = time.monotonic()
    other = engine.start_case("joint_audit_xinghua", {
        "cadre_name": "张伟", "post": "镇党委书记", "unit": "戴窑镇", "unit_level": "town", "audit_type": "mid_term",
        "unit_principal": "张伟", "unit_deputy": "王芳"}, as_user(engine, "organization"))
    waited = time.monotonic() - t0
    runner.join(timeout=30)
    assert not runner.is_alive(), "the looping step never stopped"
    assert "循环" in outcome["result"] or "时间超过限制" in outcome["result"]
    assert outcome["seconds"] < 10
    assert other and waited < 10
    from sqlalchemy import func, select

    from engine.models import Case

    with engine.db.reading() as s:  # the failed start wrote nothing: no half-created case
        assert s.scalar(select(func.count()).select_from(Case).where(Case.process_key == "endless")) == 0


def test_an_automatic_loop_deeper_than_spiffworkflows_walk_runs_to_its_end(tmp_path):
    """600 rounds of three engine tasks: plain SpiffWorkflow stops quietly near depth 1000 with work left."""
    (tmp_path / "counted.bpmn").write_text(LOOP.replace('id="endless"', 'id="counted"').replace(
        "<bpmn:conditionExpression>True</bpmn:conditionExpression>",
        "<bpmn:conditionExpression>rounds &lt; 600</bpmn:conditionExpression>"), encoding="utf-8")
    eng = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    eng.deploy([str(tmp_path / "counted.bpmn")])
    case_id = eng.start_case("counted", {"rounds": 0}, as_user(eng, "organization"))
    assert [i["step_id"] for i in eng.tasks(case_id=case_id)] == ["work"]
    assert eng.case(case_id)["data"]["rounds"] == 600
