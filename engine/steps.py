"""The guards around one step: run again when the case moved under it, bounded in work and time, and a failure
told in one line. engine.runtime and engine.worker run every step through these."""
from __future__ import annotations

import random
import time
from typing import Any, Callable

from sqlalchemy.exc import DBAPIError
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import expressions
from .errors import Conflict, StepFailed

ATTEMPTS = 5


class CaseMoved(Conflict):
    """Another step of the case committed between our read and our write: worth running again."""


def _transient(err: Exception) -> bool:
    """A database refusal that a fresh attempt resolves: a deadlock, a serialization failure, a busy SQLite."""
    orig = getattr(err, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in ("40001", "40P01"):
        return True
    return "database is locked" in str(orig or err)


def retrying(attempt: Callable[[], Any], attempts: int = ATTEMPTS) -> Any:
    """Run a step again (bounded, with jitter) when the case moved under it; other errors pass through."""
    for n in range(1, attempts + 1):
        try:
            return attempt()
        except CaseMoved:
            if n == attempts:
                raise
        except DBAPIError as err:
            if n == attempts or not _transient(err):
                raise
        time.sleep(random.uniform(0, 0.01 * 2 ** n))


def _engine_ready(wf: Any) -> bool:
    return any(t.state == TaskState.READY and not t.task_spec.manual for t in wf.tasks.values())


def engine_work_left(workflow: BpmnWorkflow) -> bool:
    """Whether a task the engine runs by itself (not a person's) is ready, subprocesses included."""
    return any(_engine_ready(wf) for wf in (workflow, *workflow.subprocesses.values()))


def run_engine_steps(workflow: BpmnWorkflow, will_complete: Callable[[Any], None],
                     did_complete: Callable[[Any], None]) -> None:
    """SpiffWorkflow 3.2.0's `BpmnWorkflow.do_engine_steps`, with a flat look for engine work before each
    walk of a task tree. The walk (in tree order, which the engine's semantics rest on) is taken only when
    something is there to run: SpiffWorkflow walked a fresh joint audit's 147 tasks four times to find two."""

    def update(wf: Any) -> int:
        if not _engine_ready(wf):
            return 0
        count = 0
        for task in wf.get_tasks(state=TaskState.READY):
            if not task.task_spec.manual:
                will_complete(task)
                task.run()
                count += 1
                did_complete(task)
        return count

    def one_round() -> bool:
        active = workflow.get_active_subprocesses()
        for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
            count = None
            while count is None or count > 0:
                count = update(subprocess)
            if subprocess.parent_task_id is not None:
                task = workflow.get_task_from_id(subprocess.parent_task_id)
                task.task_spec._update(task)
        return update(workflow) > 0 or len(workflow.get_active_subprocesses()) > len(active)

    while one_round():
        pass
    workflow.refresh_timers()


STEP_TASKS = 10_000  # engine tasks (scripts, services, gateways, events) one step may run


class StepBudget:
    """Bounds one step's run of engine tasks, so a diagram that loops through scripts without ever waiting
    for a person fails that case's step instead of holding the server (and SQLite's write lock)."""

    def __init__(self, where: str) -> None:
        self.where, self.spent = where, 0
        self.deadline = time.monotonic() + expressions.STEP_SECONDS

    def spend(self) -> None:
        self.spent += 1
        if self.spent > STEP_TASKS:
            raise StepFailed(f"{self.where}: 步骤执行失败，未做任何更改：一次办理自动执行了超过 {STEP_TASKS} 个环节，"
                             f"流程可能陷入无人工环节的循环", details={"step_id": None, "step_name": None,
                                                                   "trace": f"more than {STEP_TASKS} engine tasks"})
        if time.monotonic() > self.deadline:
            raise StepFailed(f"{self.where}: 步骤执行失败，未做任何更改：自动执行时间超过限制",
                             details={"step_id": None, "step_name": None, "trace": "step took too long"})


def failed_task(err: BaseException):
    while err is not None:
        if getattr(err, "task", None) is not None:
            return err.task
        err = err.__cause__ or getattr(err, "exception", None)
    return None


def reason(err: BaseException) -> str:
    while err.__cause__ is not None or getattr(err, "exception", None) is not None:
        inner = getattr(err, "exception", None) or err.__cause__
        if inner is None or inner is err:
            break
        err = inner
    return f"{type(err).__name__}: {err}"
