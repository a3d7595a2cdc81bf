"""Several web processes on one PostgreSQL database: what one process caches (live workflows, versions) is never
used once another process has stepped the case or deployed a new version."""
from __future__ import annotations

import shutil

from engine.access import Actor
from engine.db import Database
from engine.forms import example_data
from engine.runtime import Engine
from tests.conftest import REPO, make_engine

CLERK = Actor("clerk", frozenset({"organization"}))


def _next(engine: Engine, case_id: int) -> dict:
    (item,) = engine.case(case_id)["work_items"]
    return item


def test_two_processes_completing_one_case_in_turn_each_continue_from_the_others_step(pg_url, tmp_path):
    first = make_engine(pg_url)
    first.deploy([str(REPO / "bench" / "plain")])
    second = Engine(Database(pg_url))  # another process: its own pool and caches
    case_id = first.start_case("plain_ten", {}, CLERK)
    steps = []
    for n in range(10):
        engine = (first, second)[n % 2]
        item = _next(engine, case_id)
        steps.append(item["step_id"])
        engine.complete(item["id"], example_data(engine.work_item(item["id"], CLERK)["form"]) | {"note": f"第{n + 1}次"},
                        CLERK)
    assert steps == [f"step_{i}" for i in range(1, 11)]
    done = second.case(case_id)
    assert done["status"] == "completed"
    notes = [e["after"]["note"] for e in done["history"] if e["kind"] == "task_completed"]
    assert notes == [f"第{n}次" for n in range(1, 11)]


def test_a_version_deployed_by_one_process_is_what_the_other_starts(pg_url, tmp_path):
    first = make_engine(pg_url)
    first.deploy([str(REPO / "bench" / "plain")])
    second = Engine(Database(pg_url))
    old = second.case(second.start_case("plain_ten", {}, CLERK))["version"]
    changed = tmp_path / "plain"
    shutil.copytree(REPO / "bench" / "plain", changed)
    bpmn = changed / "plain_ten.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="第1步"', 'name="第一步"'), encoding="utf-8")
    first.deploy([str(changed)])
    started = second.case(second.start_case("plain_ten", {}, CLERK))
    assert started["version"] == old + 1
    assert _next(second, started["id"])["step_name"] == "第一步"
