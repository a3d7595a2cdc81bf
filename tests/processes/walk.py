"""Walk a joint-audit case through its steps with valid example data (tests of other parts use it too).

`walk(engine, case_id, until="consolidate", data={"review_finance": {...}})` completes the ready steps in
order (the first by step id when several are ready) until `until` is ready, with each step's overrides."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.records import RectificationItem
from tests.conftest import complete_step, ready_steps


def _defaults(engine, case_id: int, step: str) -> dict[str, Any]:
    if step == "lift_listing":
        with engine.db.reading() as s:
            nos = s.scalars(select(RectificationItem.item_no).where(
                RectificationItem.case_id == case_id, RectificationItem.status == "closed",
                RectificationItem.listed_supervision.is_(True), RectificationItem.lifted_at.is_(None))).all()
        return {"lifted_item_nos": list(nos)}
    return {}


def walk(engine, case_id: int, until: str | None = None, data: dict[str, dict[str, Any]] | None = None,
         limit: int = 80) -> list[str]:
    """Complete ready steps until `until` is ready (or, with None, until the case has no work left);
    returns the steps completed, in order."""
    data = data or {}
    done: list[str] = []
    for _ in range(limit):
        ready = ready_steps(engine, case_id)
        if (until is not None and until in ready) or not ready:
            return done
        step = ready[0]
        complete_step(engine, case_id, step, **{**_defaults(engine, case_id, step), **data.get(step, {})})
        done.append(step)
    raise AssertionError(f"{until} not reached in {limit} steps; done: {done}")
