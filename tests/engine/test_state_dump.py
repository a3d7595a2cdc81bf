"""The fast task serializer writes exactly what SpiffWorkflow's own converters write."""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from engine import state
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
