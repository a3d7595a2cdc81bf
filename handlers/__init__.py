"""Python task handlers that BPMN service tasks call by name (`spiffworkflow:serviceTaskOperator id=`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session


@dataclass
class HandlerContext:
    """What a handler may touch: the step's session (same transaction) and the case data."""

    session: Session
    case_id: int
    unit: str
    data: dict[str, Any]
    params: dict[str, Any]
    actor: str
    now: datetime
    # Opens a case of another process in this step's transaction and returns its id (None outside an engine step).
    start_case: Callable[[str, dict[str, Any]], int] | None = None


def _registers_in(registry: dict[str, Any]) -> Callable[[str], Callable[[Any], Any]]:
    """A decorator factory: `@by_name("x")` puts the function into `registry` under "x"."""

    def by_name(name: str) -> Callable[[Any], Any]:
        def register(fn: Any) -> Any:
            registry[name] = fn
            return fn

        return register

    return by_name


Handler = Callable[[HandlerContext], dict[str, Any]]
REGISTRY: dict[str, Handler] = {}
handler = _registers_in(REGISTRY)  # @handler("rectification.open_items"): what BPMN service tasks call by name


def registered() -> dict[str, Handler]:
    """All handlers, importing the modules that define them."""
    _load()
    return REGISTRY


# Choices a form takes from the case's records rather than from its file: a field with
# "x-options": NAME gets its options from the function registered under NAME,
# (session, case id, case data) -> [{"const": value, "title": label}, ...].
Options = Callable[[Session, int, dict[str, Any]], list[dict[str, Any]]]
OPTIONS: dict[str, Options] = {}
form_options = _registers_in(OPTIONS)


def registered_options() -> dict[str, Options]:
    _load()
    return OPTIONS


# What the handlers write into case data, named for people (the case timeline shows these, never the keys).
FIELD_TITLES: dict[str, tuple[str, str]] = {}


def field_titles(titles: dict[str, tuple[str, str]]) -> None:
    """Register the (Chinese, English) names of case-data fields a handler module writes."""
    FIELD_TITLES.update(titles)


def registered_field_titles() -> dict[str, tuple[str, str]]:
    _load()
    return FIELD_TITLES


# Coded values as people read them (serious → 情节严重): the 决策规则 pages show decision-table cells with these.
CODE_NAMES: dict[str, tuple[str, str]] = {}


def code_names(names: dict[str, tuple[str, str]]) -> None:
    """Register the (Chinese, English) names of codes a module's decision tables or records use."""
    CODE_NAMES.update(names)


def registered_code_names() -> dict[str, tuple[str, str]]:
    _load()
    return CODE_NAMES


def _load() -> None:
    from . import (accountability, campaign, cadres, complaint, demerits, findings, integrity_file,  # noqa: F401
                   key_tasks, planning, rectification, supervision, units)
