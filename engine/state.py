"""The persisted live state of a case: the workflow without its spec, with finished history pruned.

The spec is stored once per version (see `specs.py`); the audit trail lives in the event table.
So a case that looped through rectification 400 times stores, loads and steps like a new one,
and SpiffWorkflow's task-tree walks (capped at depth 1000) never meet a deep history.
"""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

_loading = threading.local()


def _task_dicts(tasks: dict[UUID, Any], registry: Any) -> dict[str, Any]:
    """What SpiffWorkflow's TaskConverter writes for every task (the same dicts, key for key), without the
    registry's per-object dispatch and with each id turned into text once: serializing a fresh joint audit's
    147 predicted tasks this way takes about a third of the time, and every step saves a case."""
    names: dict[UUID, str] = {}

    def name(task_id: UUID) -> str:
        text = names.get(task_id)
        if text is None:
            text = names[task_id] = str(task_id)
        return text

    updated, deleted = DeepMerge.get_updated_keys, DeepMerge.get_deleted_keys
    out = {}
    for task_id, task in tasks.items():
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            data, delta = {}, {"updates": updated(parent.data, task.data), "deletions": deleted(parent.data, task.data)}
        out[name(task_id)] = {
            "id": name(task_id), "parent": name(task._parent) if parent is not None else None,
            "children": [name(child) for child in task._children], "last_state_change": task.last_state_change,
            "state": task.state, "task_spec": task.task_spec.name, "triggered": task.triggered,
            "internal_data": registry.convert(task.internal_data), "data": data, "delta": delta, "typename": "Task",
        }
    return out


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out on the way in and takes the cached one on the way out."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, _NoTasks(workflow))
        dct["tasks"] = _task_dicts(workflow.tasks, self.registry)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = _loading.specs
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _NoTasks:
    """The workflow as WorkflowConverter.to_dict reads it, with the tasks left to `_task_dicts`."""

    tasks: dict = {}

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self._workflow = workflow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._workflow, name)


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SpecFreeWorkflowConverter
STATE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def dump_state(workflow: BpmnWorkflow) -> str:
    """JSON of the live workflow, spec excluded."""
    registry = STATE_SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = STATE_SERIALIZER.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    dct[STATE_SERIALIZER.VERSION_KEY] = STATE_SERIALIZER.VERSION
    return json.dumps(dct, cls=STATE_SERIALIZER._encoder_cls, ensure_ascii=False)


_FRESH: dict[int, tuple[Any, BpmnWorkflow]] = {}
_FRESH_LOCK = threading.Lock()


def _template(spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """A new workflow's predicted task tree, built once per spec (what `Workflow.__init__` builds before it
    readies the root). Prediction reads only the diagram, never case data, so every new case has this tree."""
    with _FRESH_LOCK:
        found = _FRESH.get(id(spec))
    if found is not None and found[0] is spec:
        return found[1]
    template = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
    template.task_tree = Task(template, spec.start, state=TaskState.FUTURE)
    template.task_tree.task_spec._predict(template.task_tree, mask=TaskState.NOT_FINISHED_MASK)
    with _FRESH_LOCK:
        _FRESH[id(spec)] = (spec, template)
    return template


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    """`BpmnWorkflow(spec, subprocess_specs, script_engine=...)`, built by copying the spec's predicted tree
    with new ids instead of predicting it again (a fresh joint audit predicts 147 tasks)."""
    template = _template(spec, subprocess_specs)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    ids = {task_id: uuid4() for task_id in template.tasks}
    now = time.time()
    for task_id, task in template.tasks.items():
        copy = Task.__new__(Task)
        copy.__dict__.update(task.__dict__)
        copy.id, copy.workflow, copy.last_state_change = ids[task_id], workflow, now
        copy._parent = ids[task._parent] if task._parent is not None else None
        copy._children = [ids[child] for child in task._children]
        copy.data, copy.internal_data = {}, dict(task.internal_data)
        workflow.tasks[copy.id] = copy
    workflow.task_tree = workflow.tasks[ids[template.task_tree.id]]
    workflow.task_tree._ready()
    return workflow


def load_state(state_json: str, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    """Rebuild the live workflow of a case on its version's cached spec."""
    dct = json.loads(state_json, cls=STATE_SERIALIZER.json_decoder_cls)
    STATE_SERIALIZER.migrate(dct)
    _loading.specs = (spec, subprocess_specs)
    try:
        workflow = STATE_SERIALIZER.from_dict(dct)
    finally:
        _loading.specs = None
    workflow.script_engine = script_engine
    return workflow


def _finished(task) -> bool:
    return task.has_state(TaskState.FINISHED_MASK)


def _lowest_common_ancestor(tasks: list) -> Any:
    paths = []
    for task in tasks:
        path = []
        while task is not None:
            path.append(task)
            task = task.parent
        paths.append(path[::-1])
    common = None
    for level in zip(*paths):
        if all(t is level[0] for t in level):
            common = level[0]
        else:
            break
    return common


def _subtree_ids(task) -> set[UUID]:
    # An explicit stack: TaskIterator stops at depth 1000, which is what we are guarding against.
    ids, stack = set(), [task]
    while stack:
        current = stack.pop()
        ids.add(current.id)
        stack.extend(c for c in current.children if c is not None)
    return ids


def _drop(workflow: BpmnWorkflow, task) -> None:
    """Forget a finished task (not its children) and any finished subprocess it ran."""
    workflow.tasks.pop(task.id, None)
    if task.id in workflow.subprocesses:
        del workflow.subprocesses[task.id]


def _removable(workflow: BpmnWorkflow, task) -> bool:
    # Keep anything a later join or boundary event may look up: splits, subprocess hosts.
    return (
        _finished(task)
        and len(task._children) == 1
        and len(task.task_spec.outputs) <= 1
        and not isinstance(task.task_spec, (BoundaryEventSplit, SubWorkflowTask))
    )


def _counted_by_join(task) -> bool:
    """A join's instance whose parent tells the join which branch arrived: SpiffWorkflow's parallel and inclusive
    joins count a branch by the spec of each instance's parent, cancelled instances (an earlier branch's, cancelled
    when the next arrived) included. Splice that parent out and the join waits for the branch forever."""
    return isinstance(task.task_spec, Join) and len(task.task_spec.inputs) > 1


def prune_history(workflow: BpmnWorkflow) -> int:
    """Drop finished tasks nothing live depends on; returns how many were dropped."""
    root = workflow.task_tree
    live = [t for t in workflow.tasks.values() if not _finished(t)]
    if not live:
        return 0
    before = len(workflow.tasks)
    # The common ancestor of the live tasks is that of the topmost ones (a live task under a live parent adds
    # nothing): a fresh case has a handful of those beside its 140 predicted tasks.
    live_ids = {t.id for t in live}
    keep_top = _lowest_common_ancestor([t for t in live if t._parent not in live_ids])
    if keep_top is not None and keep_top is not root and keep_top.parent is not root:
        # Re-root the live part under the root; the root takes the data the live part inherited.
        subtree = _subtree_ids(keep_top)
        root.data = dict(keep_top.parent.data)
        for task_id in [i for i in workflow.tasks if i not in subtree and i != root.id]:
            _drop(workflow, workflow.tasks[task_id])
        root._children = [keep_top.id]
        keep_top._parent = root.id
    # Inside the live part, splice out runs of finished single-child tasks (a loop's past rounds).
    for task in list(workflow.tasks.values()):
        if task.id not in workflow.tasks:
            continue
        parent = task.parent
        if parent is None or parent is root or not _removable(workflow, task) or not _removable(workflow, parent):
            continue
        child = task.children[0]
        if child is None or not _finished(child) or _counted_by_join(child):
            continue
        parent._children = [child.id if c == task.id else c for c in parent._children]
        child._parent = parent.id
        _drop(workflow, task)
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return before - len(workflow.tasks)


class LiveWorkflows:
    """Workflows of recently stepped cases, each valid only for the case version it was saved at.

    A step takes its entry out (so no two steps share one object), checks it against the version
    it read from the database, and puts the workflow back only after its commit succeeded.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: "OrderedDict[int, tuple[int, BpmnWorkflow]]" = OrderedDict()
        self._lock = threading.Lock()

    def take(self, case_id: int, lock_version: int) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._entries.pop(case_id, None)
        return entry[1] if entry is not None and entry[0] == lock_version else None

    def put(self, case_id: int, lock_version: int, workflow: BpmnWorkflow) -> None:
        with self._lock:
            self._entries[case_id] = (lock_version, workflow)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
