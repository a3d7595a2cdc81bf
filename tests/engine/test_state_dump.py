"""The fast task serializer writes exactly what SpiffWorkflow's own converters write."""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from engine import state
from engine.models import ProcessVersion
from sqlalchemy import select
from engine.models import Case
from tests.conftest import CASE_FACTS, as_user, complete_step


class _Reference(state._SpecFreeWorkflowConverter):
    def to_dict(self, workflow):  # SpiffWorkflow's path: the registry converts every task
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def reference_dump(workflow) -> str:
    config = dict(state._config)
    config[type(workflow)] = _Reference
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    serializer.registry._encoder_mode = True
    dct = serializer.to_dict(workflow)
    dct[serializer.VERSION_KEY] = serializer.VERSION
    return json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False)


def workflows(engine, case_id):
    with engine.db.reading() as session:
        case = session.get(Case, case_id)
        version = engine.versions.get(session, case.process_version_id)
        return state.load_state(case.state_json, version.spec, version.subprocess_specs, None)


def test_dumps_match_spiffworkflow_key_for_key_along_a_case(engine):
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    seen = 0
    for _ in range(6):
        workflow = workflows(engine, case_id)
        fast = state.dump_state(workflow)
        assert json.loads(fast) == json.loads(reference_dump(workflow))
        assert fast == reference_dump(workflow)
        seen += 1
        items = engine.tasks(as_user(engine, "organization"), case_id)
        if not items:
            break
        complete_step(engine, case_id, items[0]["step_id"])
    assert seen >= 2


def shape(workflow):
    """The tree in order: spec, state and children count of each task, ids and times left out."""
    out, stack = [], [workflow.task_tree]
    while stack:
        task = stack.pop()
        out.append((task.task_spec.name, task.state, len(task._children), task.triggered, task.internal_data))
        stack.extend(reversed(task.children))
    return out


def test_a_new_workflow_copied_from_the_predicted_tree_is_the_one_spiffworkflow_builds(engine):
    from SpiffWorkflow.bpmn import BpmnWorkflow

    with engine.db.reading() as session:
        for key in ("joint_audit_xinghua", "joint_audit_suzhou"):
            version_id = session.scalar(
                select(ProcessVersion.id).where(ProcessVersion.process_key == key))
            version = engine.versions.get(session, version_id)
            built = BpmnWorkflow(version.spec, version.subprocess_specs)
            first, second = (state.new_workflow(version.spec, version.subprocess_specs, None) for _ in range(2))
            assert shape(first) == shape(built) == shape(second)
            assert len(first.tasks) == len(built.tasks) > 100
            assert not set(first.tasks) & set(second.tasks)  # every case its own ids
            assert all(t.workflow is first for t in first.tasks.values())
            assert first.data == built.data
