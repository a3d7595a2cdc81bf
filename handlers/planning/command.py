"""`duban plan`: the year's plan from a roster file at the shell (engine/cli.py declares the command)."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.errors import InvalidData, NotFound

from . import plan, start
from .roster import read_roster, restrict_to_units

if TYPE_CHECKING:
    from engine.access import Actor
    from engine.runtime import Engine

EXIT_BAD_ROWS = 2
PROCESSES = ("joint_audit_xinghua", "joint_audit_suzhou")


def choose_process(engine: "Engine", actor: "Actor", given: str | None) -> str:
    """The variant to start on: the one given, else the only joint-audit process this user may start."""
    keys = [p["process_key"] for p in engine.startable(actor)]
    if given:
        if given not in keys:
            raise NotFound(f"流程未部署或您无权发起：{given}（可选：{'、'.join(keys) or '无'}）")
        return given
    joint = [k for k in keys if k in PROCESSES] or keys
    if len(joint) != 1:
        raise InvalidData(f"请用 --process 选择本市的联审流程：{'、'.join(joint) or '（未部署任何流程）'}")
    return joint[0]


def run_plan(engine: "Engine", actor: "Actor", year: int, roster_path: str, process_key: str | None,
             dry_run: bool, skip_bad_rows: bool, on: date | None) -> None:
    path = Path(roster_path)
    try:
        content = path.read_bytes()
    except OSError as err:
        raise InvalidData(f"无法读取花名册 {roster_path}：{err.strerror}")
    at = plan.reference_date(year, on)
    roster = read_roster(content, path.name, today=engine.clock().date())
    restrict_to_units(roster, actor.in_scope)
    for problem in roster.problems:
        click.echo(f"{path.name}: {problem}")
    if roster.file_problems or (roster.problems and not skip_bad_rows):
        click.echo(f"错误：花名册有 {len(roster.bad_rows) or len(roster.problems)} 处有误，未导入任何数据"
                   + ("" if roster.file_problems else "（修改后重新导入，或加 --skip-bad-rows 跳过有误的行）"), err=True)
        sys.exit(EXIT_BAD_ROWS)
    if roster.problems:
        click.echo(f"已跳过有误的 {len(roster.bad_rows)} 行：第 {'、'.join(map(str, roster.bad_rows))} 行", err=True)

    if dry_run:
        with engine.db.reading() as session:
            proposals = plan.propose(session, roster.rows, at)
        required = [p for p in proposals if p.required]
        for p in required:
            row = p.facts
            click.echo(f"{row.name}\t{row.id_number}\t{row.unit}\t{row.post}\t{p.reason}")
        click.echo(f"{year} 年度（基准日 {at.isoformat()}）：花名册 {len(proposals)} 人，必审 {len(required)} 人；"
                   "试算，未导入、未立项", err=True)
        return

    key = choose_process(engine, actor, process_key)
    now = engine.clock()
    with engine.db.transaction() as session:
        batch = plan.import_roster(session, roster, year, actor.username, now, skip_bad_rows)
        entries = plan.plan_from_import(session, batch, roster.rows, at, now)
        confirmed = plan.confirm_all(session, year, actor.username, now, actor.in_scope, batch_id=batch.id)
    click.echo(f"已导入 {len(roster.rows)} 人；{year} 年度必审 {len(entries)} 人，本次确认 {confirmed} 人", err=True)
    total = sum(start.pending(engine, year, actor.in_scope))
    started, refused = [], []
    with click.progressbar(length=total, label="批量立项", file=sys.stderr, show_pos=True) as bar:
        for outcome in start.start_confirmed(engine, year, key, actor):
            (started if outcome.case_id else refused).append(outcome)
            bar.update(1)
    for outcome in started:
        click.echo(f"{outcome.case_id}\t{outcome.name}\t{outcome.unit}")
    for outcome in refused:
        click.echo(f"未立项：{outcome.name}（{outcome.unit}）：{outcome.problem}", err=True)
    click.echo(f"已立项 {len(started)} 个项目" + (f"，{len(refused)} 人未立项" if refused else ""), err=True)
    if refused:
        sys.exit(EXIT_BAD_ROWS)
