"""Multi-instance and loop activities are capped at MAX_INSTANCES: at validation and before any instance exists."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine import specs
from engine.errors import StepFailed
from engine.specs import MAX_INSTANCES, SERIALIZER
from engine.validation import check_paths, validate_paths

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "limits"
RUNTIME = FIXTURES / "mi_runtime.bpmn"
LITERAL = FIXTURES / "mi_literal.bpmn"
FAST_S = 2.0  # refused before any instance exists: well under a second on a quiet machine
LOOP_S = 10.0  # a loop is refused at its 1001st round, after running the 1000 allowed


def _line_of(path: Path, element_id: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if f'id="{element_id}"' in line)


def test_the_cap_is_one_obvious_number():
    assert MAX_INSTANCES == 1000


# ------------------------------------------------------------------ validation
def test_literal_counts_above_the_cap_are_problems_on_their_elements():
    problems = validate_paths([str(LITERAL)])
    by_id = {p.element_id: p for p in problems}
    assert set(by_id) == {"each_literal", "each_constant", "again_literal"}, [str(p) for p in problems]
    for element_id, count in (("each_literal", "100000"), ("each_constant", "100000"), ("again_literal", "100000")):
        problem = by_id[element_id]
        assert problem.code == "multi_instance.too_many"
        assert problem.line == _line_of(LITERAL, element_id)
        assert count in problem.message and str(MAX_INSTANCES) in problem.message and "上限" in problem.message
        assert str(problem) == f"{LITERAL}:{problem.line}: {element_id}: {problem.message}"


def test_counts_at_the_cap_and_expressions_pass_validation(tmp_path):
    text = LITERAL.read_text(encoding="utf-8").replace(">100000<", f">{MAX_INSTANCES}<")
    text = text.replace(">10 ** 5<", ">count<").replace('loopMaximum="100000"', f'loopMaximum="{MAX_INSTANCES}"')
    path = tmp_path / "at_cap.bpmn"
    path.write_text(text, encoding="utf-8")
    assert validate_paths([str(path)]) == []
    assert validate_paths([str(RUNTIME)]) == []


def test_a_refused_cardinality_expression_is_a_problem(tmp_path):
    text = LITERAL.read_text(encoding="utf-8").replace(">10 ** 5<", ">__import__('os')<")
    path = tmp_path / "evil_count.bpmn"
    path.write_text(text, encoding="utf-8")
    problems = [p for p in validate_paths([str(path)]) if p.element_id == "each_constant"]
    assert [p.code for p in problems] == ["expression.refused"] and "__import__" in problems[0].message


# ------------------------------------------------------------------ the serialized spec
def test_parsed_and_stored_specs_carry_the_cap_and_round_trip():
    problems, parsed = check_paths([str(RUNTIME)])
    assert problems == []
    for proc in parsed:
        stored = json.loads(proc.spec_json())["spec"]
        again = SERIALIZER.from_dict(json.loads(proc.spec_json())["spec"])  # from_dict consumes its argument
        assert json.loads(json.dumps(SERIALIZER.to_dict(again))) == stored
        kinds = {type(t).__name__: type(t) for t in again.task_specs.values()}
        capped = [cls for cls in kinds.values() if issubclass(cls, specs.InstanceCap)]
        assert capped, (proc.process_key, sorted(kinds))
        assert all(cls.__module__ == "engine.specs" for cls in capped)
    typenames = {t["typename"] for proc in parsed for t in json.loads(proc.spec_json())["spec"]["task_specs"].values()}
    # The stored names are SpiffWorkflow's own: versions stored before the cap load capped, and back.
    assert {"ParallelMultiInstanceTask", "SequentialMultiInstanceTask", "StandardLoopTask"} <= typenames


# ------------------------------------------------------------------ run time
def test_the_cap_itself_is_allowed():
    parsed = {p.process_key: p for p in check_paths([str(RUNTIME)])[1]}
    cap = parsed["mi_parallel"].spec.task_specs["each_mi_parallel"]
    assert isinstance(cap, specs.ParallelMultiInstanceTask)
    cap.check_cardinality(MAX_INSTANCES, None)
    cap.check_collection(range(MAX_INSTANCES), None)
    task = BpmnWorkflow(parsed["mi_parallel"].spec).task_tree
    with pytest.raises(WorkflowTaskException) as err:
        cap.check_cardinality(MAX_INSTANCES + 1, task)
    assert str(err.value).startswith(f"each_mi_parallel: 多实例数量为 {MAX_INSTANCES + 1}，超过上限 {MAX_INSTANCES}")


def _start(engine, process_key: str, data: dict):
    box: dict = {}

    def target():
        started = time.perf_counter()
        try:
            box["case_id"] = engine.start_case(process_key, data)
        except BaseException as exc:  # handed to the test
            box["error"] = exc
        box["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the step is still creating instances after 60 s"
    return box


@pytest.mark.parametrize("process_key, data", [
    ("mi_parallel", {"count": 5000}),
    ("mi_sequential", {"count": 5000}),
    ("mi_collection", {"items": list(range(5000))}),
    ("mi_collection_sequential", {"items": list(range(5000))}),
    ("loop_forever", {}),
])
def test_too_many_instances_fail_the_step_fast(engine, process_key, data):
    engine.deploy([str(RUNTIME)])
    box = _start(engine, process_key, data)
    err = box.get("error")
    assert isinstance(err, StepFailed), box
    assert str(MAX_INSTANCES) in err.message and "上限" in err.message, err.message
    assert box["seconds"] < (LOOP_S if process_key == "loop_forever" else FAST_S), f"{box['seconds']:.1f} s"


@pytest.mark.parametrize("process_key, data", [
    ("mi_parallel", {"count": 3}),
    ("mi_sequential", {"count": 200}),  # the step's own time limit, not the cap, bounds a long run
    ("mi_collection", {"items": [1, 2, 3]}),
    ("mi_collection_sequential", {"items": ["a", "b"]}),
])
def test_instances_within_the_cap_run_to_the_end(engine, process_key, data):
    engine.deploy([str(RUNTIME)])
    box = _start(engine, process_key, data)
    assert "error" not in box, box
    case = engine.case(box["case_id"])
    assert case["status"] == "completed"
    if "items" in data:
        assert case["data"]["results"] == data["items"]
