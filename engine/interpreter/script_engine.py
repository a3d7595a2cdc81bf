"""SpiffWorkflow integration: a script engine whose conditions, scripts and services never reach eval/exec.

SpiffWorkflow's own engine runs Python; this one hands every expression and script to the
restricted interpreter and keeps ExpressionError's code, message and line in the step's error.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..timer_literals import is_iso8601_timer
from .errors import ExpressionError
from .run import interpret

_TIMER_HINT = re.compile(r"[PR0-9][0-9A-Z:.,+\-/]*")


class SafeScriptEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs everything through the restricted interpreter."""

    def __init__(self, service_caller: Callable[..., str] | None = None) -> None:
        super().__init__()
        self.service_caller = service_caller

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Evaluate a condition/parameter/timer expression against task data, then data objects."""
        # Camunda Modeler writes timer literals unquoted (PT1H, R3/PT1H); hand them back as text.
        text = expression.strip() if isinstance(expression, str) else ""
        if _TIMER_HINT.fullmatch(text) and text not in context and is_iso8601_timer(text):
            return text
        return interpret(expression, context, external_context, False)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run a script task; it mutates ``context`` (task.data) in place."""
        interpret(script, context, external_context, True)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> str:
        """Delegate a service task to the configured caller, which must return a JSON string."""
        if self.service_caller is None:
            raise ExpressionError("handler.none", f"未配置服务调用处理器: {kwargs.get('operation_name')} (no service caller)")
        result = self.service_caller(context, **kwargs)
        if not isinstance(result, str):
            raise ExpressionError("handler.result", "服务处理器必须返回 JSON 字符串 (service caller must return JSON text)")
        return result


class SafePythonScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that keeps ExpressionError details (code, message, line) in step errors."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException:
            raise
        except Exception as err:  # the base class would drop our message
            code = f"{err.code}: " if isinstance(err, ExpressionError) else ""
            raise WorkflowTaskException(f"表达式 {expression!r} 出错: {code}{err}", task=task, exception=err) from err

    def call_service(self, task, **kwargs):
        # SpiffWorkflow 3.2.0's version references an undefined name when the service fails.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException:
            raise
        except Exception as err:
            code = f"{err.code}: " if isinstance(err, ExpressionError) else ""
            raise WorkflowTaskException(f"服务调用失败: {code}{err}", task=task, exception=err) from err

    def create_task_exec_exception(self, task, script, err):
        if not isinstance(err, ExpressionError):
            return super().create_task_exec_exception(task, script, err)
        lines = script.splitlines() if isinstance(script, str) else []
        error_line = lines[err.line - 1] if err.line and err.line <= len(lines) else ""
        wte = WorkflowTaskException(f"{err.code}: {err}", task=task, exception=err,
                                    line_number=err.line or 0, error_line=error_line)
        wte.__cause__ = err  # the base engine raises it without `from`
        return wte


def make_script_engine(service_caller: Callable[..., str] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine whose conditions, scripts and services never reach eval/exec."""
    return SafePythonScriptEngine(environment=SafeScriptEnvironment(service_caller))
