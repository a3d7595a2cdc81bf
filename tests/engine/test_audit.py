"""The audit log: hash-chained, append-only, and `duban audit verify` names the first row changed by hand."""
from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.cli import main
from tests.conftest import make_engine

T0 = datetime(2026, 12, 4, 9, 0, 0, 123456)


def _write(engine, n: int) -> None:
    for i in range(n):
        with engine.db.transaction() as session:
            audit.record(session, "secadmin", "roles_changed", f"user:clerk{i}",
                         {"roles": ["organization"], "units": ["戴窑镇"], "note": "调整 第" + str(i)}, T0)


def _hand_edit(engine, sql: str) -> None:
    """What someone with the database password could do: switch the triggers off, change a row, switch them on."""
    with engine.db.engine.begin() as conn:
        if engine.db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            conn.exec_driver_sql(sql)
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")


def _verify_cli(engine, monkeypatch):
    monkeypatch.setenv("DUBAN_DATABASE_URL", engine.db.engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(main, ["audit", "verify"])


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, tmp_path):
    if request.param == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    return make_engine(request.getfixturevalue("pg_url"))


def test_an_untouched_log_verifies_and_a_row_changed_by_hand_is_named(any_engine, monkeypatch):
    engine = any_engine
    _write(engine, 5)
    with engine.db.reading() as session:
        before = audit.verify(session)
        rows = audit.entries(session, action="roles_changed")
    assert before.intact and before.checked >= 5
    ok = _verify_cli(engine, monkeypatch)
    assert ok.exit_code == 0 and "完整" in ok.output, ok.output

    target = rows[2].id  # the third newest: rows after it are intact, but their chain now starts from a lie
    _hand_edit(engine, f"UPDATE audit_log SET detail = '{{\"roles\": [\"supervisor\"]}}' WHERE id = {target}")
    with engine.db.reading() as session:
        after = audit.verify(session)
    assert after.broken_id == target and "被改动" in after.reason
    broken = _verify_cli(engine, monkeypatch)
    assert broken.exit_code == 1 and f"第 {target} 条" in broken.output, broken.output


def test_a_deleted_row_breaks_the_chain_at_the_gap(any_engine):
    engine = any_engine
    _write(engine, 4)
    with engine.db.reading() as session:
        target = audit.entries(session, limit=2)[1].id
    _hand_edit(engine, f"DELETE FROM audit_log WHERE id = {target}")
    with engine.db.reading() as session:
        verdict = audit.verify(session)
    assert verdict.broken_id == target and "缺失" in verdict.reason


def test_the_application_cannot_update_or_delete_audit_rows(any_engine):
    engine = any_engine
    _write(engine, 1)
    for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.db.transaction() as session:
                session.execute(text(sql))
    with engine.db.reading() as session:
        assert audit.verify(session).intact


def test_appends_from_parallel_processes_make_one_chain(pg_url):
    import multiprocessing as mp

    engine = make_engine(pg_url)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(pg_url, f"p{i}", 40)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with engine.db.reading() as session:
        verdict = audit.verify(session)
        mine = [e for e in audit.entries(session, action="sign_in", limit=1000)]
    assert verdict.intact, verdict.reason
    assert len(mine) == 160


def _append_many(url: str, who: str, n: int) -> None:
    from engine.db import Database

    db = Database(url)
    for i in range(n):
        with db.transaction() as session:
            audit.record(session, who, "sign_in", f"user:{who}", {"address": "127.0.0.1", "i": i}, datetime.utcnow())


def test_a_schema_upgrade_is_audited_once(tmp_path, monkeypatch):
    from engine.db import Database

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    for _ in range(2):
        assert CliRunner().invoke(main, ["init"]).exit_code == 0
    with Database(url).reading() as session:
        (entry,) = audit.entries(session, action="schema_upgraded")
        assert audit.verify(session).intact
    assert entry.actor == "cli" and entry.detail["from"] is None and entry.detail["to"] >= "0016"


def test_a_log_rewritten_with_fresh_hashes_is_caught_by_a_kept_anchor(tmp_path, monkeypatch):
    """The hashes carry no secret: whoever rewrites a row can compute the rest of the chain again. A hash kept
    elsewhere (printed by an earlier verify) still names the rewrite, and a cut-off tail."""
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    _write(engine, 3)
    monkeypatch.setenv("DUBAN_DATABASE_URL", engine.db.engine.url.render_as_string(hide_password=False))
    printed = CliRunner().invoke(main, ["audit", "verify"]).output
    anchor = printed.split("末条 ")[1].split("（")[0]
    entry_id = int(anchor.split(":")[0])
    _write(engine, 2)

    with engine.db.reading() as session:  # the forger: change an early row, then chain everything after it again
        rows = [dict(id=e.id, at=e.at, actor=e.actor, action=e.action, subject=e.subject, detail=e.detail)
                for e in reversed(audit.entries(session, limit=10_000))]
    rows[1]["actor"] = "nobody"
    chained = audit.chain_hashes(rows)
    with engine.db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        for row, (prev, digest) in zip(rows, chained):
            conn.execute(text("UPDATE audit_log SET actor = :actor, prev_hash = :prev, hash = :hash WHERE id = :id"),
                         {"actor": row["actor"], "prev": prev, "hash": digest, "id": row["id"]})
    assert CliRunner().invoke(main, ["audit", "verify"]).exit_code == 0  # consistent in itself
    caught = CliRunner().invoke(main, ["audit", "verify", "--expect", anchor])
    assert caught.exit_code == 1 and f"第 {entry_id} 条的哈希与保存的不符" in caught.output

    bad = CliRunner().invoke(main, ["audit", "verify", "--expect", "7:abc"])
    assert bad.exit_code == 2 and "编号:哈希" in bad.output
    gone = CliRunner().invoke(main, ["audit", "verify", "--expect", f"99999:{'a' * 64}"])
    assert gone.exit_code == 1 and "已不存在" in gone.output
