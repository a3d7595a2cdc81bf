"""The `duban` command: the contract scripts and the Makefile drive the engine through.

Domain errors become one line on stderr and a non-zero exit here, in one place.
"""
from __future__ import annotations

import json
import sys
from functools import wraps
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from .access import OPERATOR, Actor
from .db import Database
from .errors import DubanError, InvalidData, ValidationFailed

EXIT_INVALID, EXIT_FORBIDDEN, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_FAILED = 2, 3, 4, 5, 6
_EXIT = {"invalid_data": EXIT_INVALID, "forbidden": EXIT_FORBIDDEN, "not_found": EXIT_NOT_FOUND,
         "conflict": EXIT_CONFLICT, "step_failed": EXIT_FAILED, "validation_failed": 1}


def _engine():
    from .errors import DubanError
    from .runtime import Engine

    db = Database()
    if not db.is_current():
        raise DubanError(f"数据库未初始化或版本过旧，请先运行 duban init ({db.engine.url.render_as_string(hide_password=True)})",
                         code="database_outdated")
    return Engine(db)


def _actor(engine, username: str | None) -> Actor:
    if username is None:
        return OPERATOR
    from .accounts import actor_for

    with engine.db.reading() as session:
        return actor_for(session, username)


def _json_arg(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as err:
        raise InvalidData(f"--data 不是有效的 JSON: {err}")
    if not isinstance(value, dict):
        raise InvalidData("--data 必须是 JSON 对象")
    return value


def domain_errors(fn):
    """Turn a DubanError into one readable line and an exit code; never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationFailed as err:
            for problem in err.details or []:
                click.echo(str(problem))
            click.echo(f"错误：{err.message}", err=True)
            sys.exit(1)
        except InvalidData as err:
            click.echo(f"错误 [{err.code}]: {err.one_line()}", err=True)
            sys.exit(EXIT_INVALID)
        except DubanError as err:
            click.echo(f"错误 [{err.code}]: {err.message}", err=True)
            sys.exit(_EXIT.get(err.code, 1))
        except SQLAlchemyError as err:
            reason = str(getattr(err, "orig", None) or err).splitlines()[0]
            click.echo(f"错误 [database]: 数据库无法使用：{reason}（是否已运行 duban init?）", err=True)
            sys.exit(1)

    return wrapper


@click.group(help="督办 duban — 干部监督流程引擎 (BPMN on SpiffWorkflow)")
def main() -> None:
    pass


@main.command(help="创建或升级数据库; --demo 同时创建各角色的演示账号（密码 demo）")
@click.option("--demo", is_flag=True, help="create one demo account per role, password 'demo'")
@domain_errors
def init(demo: bool) -> None:
    from .accounts import create_demo_accounts

    from . import audit
    from .runtime import utcnow

    db = Database()
    before = db.revision()
    db.upgrade()
    after = db.revision()
    if after != before:  # a schema migration is an administrative action like any other
        with db.transaction() as session:
            audit.record(session, OPERATOR.username, "schema_upgraded", "database", {"from": before, "to": after},
                         utcnow())
    click.echo(f"数据库已就绪：{db.engine.url.render_as_string(hide_password=True)}")
    if demo:
        with db.transaction() as session:
            made = create_demo_accounts(session)
        click.echo("演示账号（密码 demo）：" + (", ".join(made) if made else "已存在"))


@main.command(help="校验 BPMN 与 DMN 文件；全部有效时退出码 0, 否则每个问题一行")
@click.argument("paths", nargs=-1, required=True)
@click.option("--forms", "forms_dir", default=None, help="forms folder (default: forms/ beside each file)")
def validate(paths: tuple[str, ...], forms_dir: str | None) -> None:
    from .validation import validate_paths

    problems = validate_paths(list(paths), forms_dir)
    for problem in problems:
        click.echo(str(problem))
    sys.exit(1 if problems else 0)


@main.command(help="校验并部署流程；每个流程输出 process_key version hash")
@click.argument("paths", nargs=-1, required=True)
@click.option("--forms", "forms_dir", default=None)
@click.option("--as", "username", default=None)
@domain_errors
def deploy(paths: tuple[str, ...], forms_dir: str | None, username: str | None) -> None:
    engine = _engine()
    actor = _actor(engine, username)
    if not actor.operator and "designer" not in actor.roles:
        from .errors import Forbidden

        raise Forbidden(f"用户 {actor.username} 不是流程设计员，不能部署")
    for d in engine.deploy(list(paths), actor.username, forms_dir):
        label = f"{d.process_key} {d.version} {d.content_hash}" + ("" if d.new else "  (unchanged)")
        click.echo(("决策表 " if d.kind == "decision" else "") + label)


@main.command(help="试算决策表：输出结果 JSON；输入有误时退出码 1 并说明原因")
@click.argument("decision_id")
@click.option("--data", "data", default="{}", help="the table's inputs as a JSON object")
def decide(decision_id: str, data: str) -> None:
    from .decisions import decide as run_decision

    try:
        engine = _engine()
        with engine.db.reading() as session:
            result = run_decision(session, decision_id, _json_arg(data))
    except DubanError as err:
        click.echo(f"错误 [{err.code}]: {err.one_line() if isinstance(err, InvalidData) else err.message}", err=True)
        sys.exit(1)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@main.command(help="发起项目，输出新项目编号")
@click.argument("process_key")
@click.option("--data", "data", default="{}", help="case facts as a JSON object")
@click.option("--as", "username", default=None)
@domain_errors
def start(process_key: str, data: str, username: str | None) -> None:
    engine = _engine()
    click.echo(engine.start_case(process_key, _json_arg(data), _actor(engine, username)))


@main.command(help="列出待办事项")
@click.option("--case", "case_id", type=int, default=None)
@click.option("--as", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
@domain_errors
def tasks(case_id: int | None, username: str | None, as_json: bool) -> None:
    engine = _engine()
    items = engine.tasks(_actor(engine, username), case_id)
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("没有待办事项")
    for it in items:
        due = (it["due_at"] or "")[:10]
        click.echo(f"{it['id']:>6}  项目{it['case_id']:<5} {it['step_name']:<16} {it['role']:<12} "
                   f"{it['unit']:<10} 期限 {due or '-':<10} {it['case_title']}")


@main.command(help="办理待办事项")
@click.argument("work_item_id", type=int)
@click.option("--data", "data", default="{}")
@click.option("--as", "username", required=True)
@click.option("--expect-version", type=int, default=None, help="fail with a conflict if the case moved on")
@domain_errors
def complete(work_item_id: int, data: str, username: str, expect_version: int | None) -> None:
    engine = _engine()
    case = engine.complete(work_item_id, _json_arg(data), _actor(engine, username), expect_version)
    click.echo(f"项目 {case.id}: {case.status}" + (f"; 当前步骤：{case.current_steps}" if case.current_steps else ""))


@main.command("case", help="查看项目：状态、当前步骤、完整历史")
@click.argument("case_id", type=int)
@click.option("--as", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
@domain_errors
def case_cmd(case_id: int, username: str | None, as_json: bool) -> None:
    engine = _engine()
    view = engine.case(case_id, _actor(engine, username))
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    click.echo(f"项目 {view['id']}  {view['title']}  [{view['process_name']} v{view['version']}]")
    click.echo(f"状态：{view['status']}  当前步骤：{'、'.join(view['current_steps']) or '-'}")
    click.echo("历史：")
    for ev in view["history"]:
        click.echo(f"  {ev['seq']:>4} {ev['at']} {ev['actor']:<14} {ev['kind']:<16} {ev['step_name'] or ''}")


@main.command("migrate", help="将运行中的项目迁移到流程的另一版本（每个项目一个事务）；--dry-run 只列出能否迁移及原因。"
                              "全部迁移成功（或试运行）退出码 0，有项目不能迁移 1，参数有误 2")
@click.argument("process_key")
@click.option("--to", "to_version", type=int, required=True, help="the version number to move the cases to")
@click.option("--case", "case_ids", type=int, multiple=True, help="only this case, repeatable (default: every running case)")
@click.option("--dry-run", is_flag=True, help="list which cases can move and why not; change nothing")
@click.option("--as", "username", default=None)
@domain_errors
def migrate_cmd(process_key: str, to_version: int, case_ids: tuple[int, ...], dry_run: bool, username: str | None) -> None:
    from . import migration
    from .errors import NotFound

    engine = _engine()
    actor = _actor(engine, username)
    try:
        moves = migration.migrate(engine, process_key, to_version, actor, list(case_ids) or None, dry_run)
    except NotFound as err:  # an unknown process, version or case is a wrong argument
        click.echo(f"错误 [not_found]: {err.message}", err=True)
        sys.exit(EXIT_INVALID)
    if not moves:
        click.echo(f"没有需要迁移到第 {to_version} 版的项目")
        return
    for move in moves:
        head = f"项目 {move.case_id} {move.title}：第 {move.from_version} 版 → 第 {move.to_version} 版"
        if not move.movable:
            click.echo(f"{head} 不能迁移：" + "；".join(move.reasons))
        elif dry_run:
            click.echo(f"{head} 可以迁移" + (f"（当前步骤：{'、'.join(move.waiting)}）" if move.waiting else ""))
        else:
            click.echo(f"{head} 已迁移")
    ok = sum(1 for m in moves if m.movable)
    if dry_run:
        click.echo(f"试运行，未做任何更改。共 {len(moves)} 个项目：可以迁移 {ok} 个，不能迁移 {len(moves) - ok} 个")
        return
    click.echo(f"共 {len(moves)} 个项目：已迁移 {ok} 个，不能迁移 {len(moves) - ok} 个")
    sys.exit(0 if ok == len(moves) else 1)


@main.group(help="账号管理")
def user() -> None:
    pass


@user.command("add", help="新建账号（密码至少 10 个字符，交互输入）")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="role id, repeatable")
@click.option("--unit", "units", multiple=True, help="unit in scope, repeatable; none = all units")
@click.option("--name", "display_name", default=None)
@click.password_option()
@domain_errors
def user_add(username: str, roles: tuple[str, ...], units: tuple[str, ...], display_name: str | None,
             password: str) -> None:
    from .accounts import add_user

    with Database().transaction() as session:
        add_user(session, username, password, list(roles), list(units) or None, display_name)
    click.echo(f"已创建账号 {username}: 角色 {', '.join(roles)}；单位 {', '.join(units) or '全部'}")


@user.command("token", help="为账号签发 API 令牌（只显示一次）")
@click.argument("username")
@click.option("--name", default="cli", show_default=True)
@domain_errors
def user_token(username: str, name: str) -> None:
    from sqlalchemy import select

    from .accounts import issue_token
    from .errors import NotFound
    from .models import User

    with Database().transaction() as session:
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            raise NotFound(f"用户不存在：{username}")
        click.echo(issue_token(session, account, name))


@user.command("role", help="修改账号的角色和单位（权限变更，记入审计日志）；三员角色只能在此授予")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="role id, repeatable")
@click.option("--unit", "units", multiple=True, help="unit in scope, repeatable; none = all units")
@domain_errors
def user_role(username: str, roles: tuple[str, ...], units: tuple[str, ...]) -> None:
    from .accounts import set_access

    with Database().transaction() as session:
        set_access(session, OPERATOR, username, list(roles), list(units) or None)
    click.echo(f"已修改账号 {username}: 角色 {', '.join(roles)}；单位 {', '.join(units) or '全部'}")


@user.command("disable", help="停用账号：不能登录，令牌失效，已登录的会话结束")
@click.argument("username")
@click.option("--enable", is_flag=True, help="enable the account again")
@domain_errors
def user_disable(username: str, enable: bool) -> None:
    from .accounts import set_disabled

    with Database().transaction() as session:
        set_disabled(session, OPERATOR, username, not enable)
    click.echo(f"已{'启用' if enable else '停用'}账号 {username}")


@main.group(help="审计日志（只能追加，哈希链）：校验与查看")
def audit() -> None:
    pass


@audit.command("verify", help="从第一条起校验哈希链；完整则退出码 0，否则报告第一处断链并退出码 1")
@click.option("--expect", "anchors", multiple=True, metavar="ID:HASH",
              help="a hash printed by an earlier verify and kept elsewhere; repeatable")
@domain_errors
def audit_verify(anchors: tuple[str, ...]) -> None:
    from . import audit as audit_log
    from .runtime import utcnow

    kept: dict[int, str] = {}
    for anchor in anchors:
        entry_id, _, digest = anchor.partition(":")
        if not (entry_id.isascii() and entry_id.isdigit() and len(digest) == 64):
            raise InvalidData(f"--expect 应为 编号:哈希（如 17:{'0' * 64}），收到：{anchor}")
        kept[int(entry_id)] = digest.lower()
    db = Database()
    with db.reading() as session:
        verdict = audit_log.verify(session, kept)
    with db.transaction() as session:  # reading the log is in the log, as on the audit administrator's page
        audit_log.record(session, OPERATOR.username, "audit_verified", "audit_log",
                         {"checked": verdict.checked, "intact": verdict.intact, "broken_id": verdict.broken_id,
                          "anchors": len(kept)}, utcnow())
    if verdict.intact:
        click.echo(f"审计日志完整：{verdict.checked} 条" + (f"，{len(kept)} 个保存的哈希相符" if kept else "") +
                   f"；末条 {verdict.checked}:{verdict.last_hash}（可另行保存，下次用 --expect 核对）")
        return
    click.echo(f"审计日志被篡改：{verdict.reason}；此前 {verdict.checked} 条完整")
    sys.exit(1)


@audit.command("list", help="最新的审计记录（可按操作、操作人筛选）")
@click.option("--action", default=None)
@click.option("--actor", default=None)
@click.option("--limit", default=50, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True)
@domain_errors
def audit_list(action: str | None, actor: str | None, limit: int, as_json: bool) -> None:
    from . import audit as audit_log

    with Database().reading() as session:
        rows = audit_log.entries(session, action=action, actor=actor, limit=limit)
    for row in rows:
        if as_json:
            click.echo(json.dumps({"id": row.id, "at": row.at.isoformat(), "actor": row.actor, "action": row.action,
                                   "subject": row.subject, "detail": row.detail, "hash": row.hash}, ensure_ascii=False))
        else:
            click.echo(f"{row.id}\t{row.at:%Y-%m-%d %H:%M:%S}\t{row.actor}\t"
                       f"{audit_log.ACTIONS.get(row.action, row.action)}\t{row.subject}\t"
                       f"{json.dumps(row.detail, ensure_ascii=False)}")


@main.command(help="由各项目保存的流程状态重建待办、项目摘要和定时，逐项目报告不一致；--repair 逐项目修复（各一个事务）")
@click.option("--repair", is_flag=True, help="make the projections match the stored state, one transaction per case")
@click.option("--case", "case_ids", multiple=True, type=int, help="only these cases, repeatable")
@click.option("--budget", type=float, default=None, help="stop after this many seconds (open cases first)")
@click.option("--as", "username", default=None)
@domain_errors
def check(repair: bool, case_ids: tuple[int, ...], budget: float | None, username: str | None) -> None:
    from . import check as checking

    engine = _engine()
    actor = _actor(engine, username)
    if repair:
        actor.require_admin()

    def show(drift) -> None:
        click.echo(f"项目 {drift.case_id}「{drift.title}」{'已修复' if drift.repaired else '不一致'}：")
        for problem in drift.problems:
            click.echo(f"  - {problem}")

    report = checking.run(engine, repair=repair, case_ids=list(case_ids) or None, budget=budget,
                          actor=actor.username, on_drift=show)
    click.echo(checking.summary(report))
    if report.drifts and not repair:
        sys.exit(1)


@main.command(help="年度联审计划：导入干部花名册，按必审规则提出名单，并对必审对象批量立项")
@click.option("--year", type=int, required=True, help="the plan's year, e.g. 2026")
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--process", "process_key", default=None, help="the city's variant: joint_audit_xinghua or joint_audit_suzhou")
@click.option("--dry-run", is_flag=True, help="print the proposal, one line per person with the reason; start nothing")
@click.option("--skip-bad-rows", is_flag=True, help="import the good rows even when some rows are bad")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="reference date (default: 12-31 of the year)")
@click.option("--as", "username", default=None)
@domain_errors
def plan(year: int, roster: str, process_key: str | None, dry_run: bool, skip_bad_rows: bool, on, username: str | None) -> None:
    from handlers.planning.command import run_plan

    engine = _engine()
    run_plan(engine, _actor(engine, username), year, roster, process_key, dry_run, skip_bad_rows, on.date() if on else None)


@main.command(help="生成公文并存入项目附件：KIND 为 notice 联审通知、publicity 审前公示、feedback 反馈意见书、report 联审报告")
@click.argument("case_id", type=int)
@click.argument("kind")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to save the .docx as well")
@click.option("--as", "username", default=None)
@domain_errors
def document(case_id: int, kind: str, out: str, username: str | None) -> None:
    from handlers.documents.command import run_document

    engine = _engine()
    run_document(engine, _actor(engine, username), case_id, kind, out)


@main.command(help="创建演示项目并打印命令演练 (demo databases only)")
@domain_errors
def demo() -> None:
    from . import demo as demo_data

    from sqlalchemy import select

    from .models import Case

    engine = _engine()
    with engine.db.reading() as session:
        existing = session.scalars(select(Case.id).order_by(Case.id)).all()
    if existing:
        click.echo(f"已有 {len(existing)} 个项目，不再生成演示数据")
        click.echo(demo_data.walkthrough(engine, list(existing)))
        return
    click.echo(demo_data.walkthrough(engine, demo_data.seed(engine)))


@main.command(help="启动网页服务（登录页 /login），单机默认同时运行定时任务；--workers N 运行 N 个网页进程")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="threads per web process")
@click.option("--workers", "processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="web processes on one socket, restarted when one exits (PostgreSQL; see README 超出单机)")
@click.option("--no-worker", is_flag=True, help="leave timers to separate `duban worker` processes")
@click.option("--check-seconds", default=10.0, show_default=True, type=float,
              help="check projections against the stored states for at most this long at start-up (0: skip)")
@domain_errors
def serve(host: str, port: int, threads: int, processes: int, no_worker: bool, check_seconds: float) -> None:
    from web.serving import serve as run_server, startup_check

    engine = _engine()  # refuse to start on a database that was never initialised
    if processes > 1 and engine.db.is_sqlite:
        raise DubanError("SQLite 只能由一个网页进程写入：--workers 大于 1 需要 PostgreSQL（DUBAN_DATABASE_URL）",
                         code="invalid_data")
    startup_check(engine, check_seconds, click.echo)
    engine.db.engine.dispose()  # no connection of this process is carried into the web processes
    run_server(host, port, threads, processes, not no_worker, click.echo)


@main.command(help="运行定时任务：BPMN 定时器、催办、督办（可同时运行多个）")
@click.option("--interval", default=1.0, show_default=True, type=float, help="seconds between polls")
@click.option("--once", is_flag=True, help="fire what is due now and exit")
@domain_errors
def worker(interval: float, once: bool) -> None:
    import logging

    from .worker import TimerRunner, start_scheduler

    engine = _engine()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if once:
        click.echo(f"已处理 {TimerRunner(engine).run_due()} 项")
        return
    click.echo(f"定时任务已启动，每 {interval} 秒检查一次（Ctrl-C 停止）")
    try:
        start_scheduler(engine, interval, blocking=True)
    except (KeyboardInterrupt, SystemExit):
        pass


def _size(n: int) -> str:
    return f"{n} 字节" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


@main.command(help="在线备份 SQLite 数据库（服务运行中也可）；PostgreSQL 请用 pg_dump")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="overwrite FILE if it exists")
@domain_errors
def backup(file: str, force: bool) -> None:
    import os
    import sqlite3
    from pathlib import Path

    from .errors import Conflict, NotFound

    db = Database()
    url = db.engine.url
    if not db.is_sqlite:
        plain = url.set(drivername="postgresql").render_as_string(hide_password=True)
        raise InvalidData(f"PostgreSQL 数据库不能用 duban backup 备份，请用 pg_dump：pg_dump -Fc -d '{plain}' -f {file}")
    source = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not source.is_file():
        raise NotFound(f"数据库文件不存在：{url.database or ':memory:'}")
    target = Path(file)
    if target.exists() and not force:
        raise Conflict(f"文件已存在：{target}（覆盖请加 --force）")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        src, dst = sqlite3.connect(source, timeout=30), sqlite3.connect(tmp)
        try:
            src.backup(dst)  # one consistent snapshot; writers in WAL mode go on meanwhile
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
            cases = dst.execute('SELECT count(*) FROM "case"').fetchone()[0]
        finally:
            src.close()
            dst.close()
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    size = target.stat().st_size
    if db.is_current():  # an outdated database is still worth copying, but has no audit log to write to yet
        from . import audit as audit_log
        from .runtime import utcnow

        with db.transaction() as session:
            audit_log.record(session, OPERATOR.username, "backup", f"file:{target.name}",
                             {"file": str(target.resolve()), "size": size, "cases": cases}, utcnow())
    click.echo(f"已备份到 {target}（{_size(size)}，{cases} 个项目）")


@main.command("export", help="将一个项目（含历史、待办、附件、业务记录）导出为 zip 归档")
@click.argument("case_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the .zip to write")
@click.option("--force", is_flag=True, help="overwrite --out if it exists")
@click.option("--as", "username", default=None)
@domain_errors
def export_cmd(case_id: int, out: str, force: bool, username: str | None) -> None:
    from .archive import export_case

    engine = _engine()
    summary = export_case(engine, case_id, out, _actor(engine, username), force=force)
    rows = "，".join(f"{name} {n}" for name, n in sorted(summary["counts"].items()))
    click.echo(f"已导出项目 {case_id}「{summary['title']}」到 {summary['path']}（{_size(summary['size'])}）："
               f"{rows}；附件文件 {summary['attachments']} 个")
    if summary["omitted"]:
        click.echo("未导出（仅本机管理员可导出）：" + "，".join(f"{n} {c}" for n, c in summary["omitted"].items()))
    if summary["left_out"]:
        click.echo("未导出（属于其他项目或活动的记录）：" + "，".join(f"{n} {c}" for n, c in summary["left_out"].items()))


@main.command("import", help="从 zip 归档导入一个项目（新编号）；同一项目已存在时需加 --as-new")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--as-new", is_flag=True, help="import even if the same case is already here")
@click.option("--as", "username", default=None)
@domain_errors
def import_cmd(file: str, as_new: bool, username: str | None) -> None:
    from pathlib import Path

    from .archive import import_case
    from .errors import NotFound

    if not Path(file).is_file():
        raise NotFound(f"归档文件不存在：{file}")
    engine = _engine()
    new_id = import_case(engine, file, _actor(engine, username), as_new=as_new)
    view = engine.case(new_id)
    click.echo(f"已导入为项目 {new_id}「{view['title']}」：状态 {view['status']}，历史 {len(view['history'])} 条，"
               f"待办 {len(view['work_items'])} 项")


if __name__ == "__main__":
    main()
