"""Archiving (归档): one case as one zip, read back into another database, SQLite or PostgreSQL; and `duban backup`."""
from __future__ import annotations

import json
import sqlite3
import threading
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine import casefile
from engine.access import OPERATOR
from engine.accounts import add_user
from engine.archive import FORMAT, export_case, import_case
from engine.cli import main
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import Attachment, AuditEntry, Case, Event, ProcessVersion, Timer, WorkItem
from handlers import documents
from handlers.cadres import CadreCase, Person
from handlers.documents.records import OfficialDocument
from handlers.records import RectificationItem
from tests.conftest import CASE_FACTS, Clock, as_user, complete_step, make_engine
from tests.processes.walk import walk

T0 = datetime(2026, 9, 1, 1, 0)
PDF = b"%PDF-1.4 minutes of the entry meeting \x00\x01\x02"
FINDINGS = {
    "review_personnel": {"personnel_findings": [{
        "description": "超职数配备副科级干部2名", "severity": "major", "problem_category": "over_quota_posts",
        "responsibility_type": "direct", "requirement": "年内消化超配职数", "standard": "职数不超过核定数"}]},
    "consolidate": {"rectification_deadline": "2027-03-31", "consolidate_summary": "该同志履职总体较好。"},
}
FACTS = {**CASE_FACTS, "cadre_id_number": "32128119700101123X"}


@pytest.fixture
def stores(tmp_path, monkeypatch):
    """The source's attachment store (DUBAN_ATTACHMENTS) and a separate one for the target."""
    source, target = tmp_path / "source-files", tmp_path / "target-files"
    monkeypatch.setenv("DUBAN_ATTACHMENTS", str(source))
    return source, target


@pytest.fixture
def source(tmp_path, stores):
    engine = make_engine(f"sqlite:///{tmp_path / 'source.db'}")
    engine.clock = Clock(T0)
    return engine


def in_rectification(engine) -> int:
    """A Xinghua joint audit with one finding, an uploaded attachment and the generated report, at the unit's report."""
    case_id = engine.start_case("joint_audit_xinghua", dict(FACTS), as_user(engine, "organization"))
    walk(engine, case_id, "report_rectification", FINDINGS)
    with engine.db.transaction() as s:
        casefile.add_attachment(s, case_id, casefile.Upload("进点会议纪要.pdf", PDF), "organization", engine.clock())
        casefile.add_comment(s, case_id, "请按期整改", "organization", engine.clock())
        documents.generate(s, case_id, "report", OPERATOR, engine.clock())
    return case_id


def history(engine, case_id):
    return [(e["seq"], e["kind"], e["actor"], e["step_id"], e.get("data_before"), e.get("data_after"))
            for e in engine.case(case_id)["history"]]


def events(engine, case_id):
    with engine.db.reading() as s:
        return [(e.seq, e.kind, e.actor, e.at, e.step_id, e.data_before, e.data_after)
                for e in s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq))]


def work_items(engine, case_id):
    with engine.db.reading() as s:
        return [(w.task_id, w.step_id, w.role, w.unit, w.status, w.created_at, w.due_at, w.completed_by)
                for w in s.scalars(select(WorkItem).where(WorkItem.case_id == case_id).order_by(WorkItem.id))]


def pointers(engine, case_id):
    """What the work-item ids in events, timers and attachments point at, by the task's id (ids differ per database)."""
    with engine.db.reading() as s:
        tasks = dict(s.execute(select(WorkItem.id, WorkItem.task_id).where(WorkItem.case_id == case_id)).all())
        out = [("event", e.seq, tasks[e.work_item_id]) for e in s.scalars(
            select(Event).where(Event.case_id == case_id, Event.work_item_id.is_not(None)).order_by(Event.seq))]
        out += sorted(("timer", t.kind, tasks.get(t.work_item_id)) for t in s.scalars(select(Timer).where(Timer.case_id == case_id)))
    assert out and any(kind == "timer" and task for kind, _, task in out)
    return out


def counts(engine) -> dict[str, int]:
    with engine.db.reading() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Case, Event, WorkItem, Attachment, RectificationItem, OfficialDocument, AuditEntry)}


def check_moved(src, case_id, dst, new_id, target_files: Path) -> None:
    """The imported case is the source's: history, work, the attachment's bytes, its domain rows, now on `new_id`."""
    assert events(dst, new_id) == events(src, case_id)
    assert pointers(dst, new_id) == pointers(src, case_id)
    assert history(dst, new_id) == history(src, case_id)
    assert work_items(dst, new_id) == work_items(src, case_id)
    view, before = dst.case(new_id), src.case(case_id)
    assert view["status"] == "running"
    with dst.db.reading() as s:
        case = s.get(Case, new_id)
        attachments = s.scalars(select(Attachment).where(Attachment.case_id == new_id).order_by(Attachment.id)).all()
        items = s.scalars(select(RectificationItem).where(RectificationItem.case_id == new_id)).all()
        document = s.scalar(select(OfficialDocument).where(OfficialDocument.case_id == new_id))
        person = s.scalar(select(Person).join(CadreCase, CadreCase.person_id == Person.id).where(CadreCase.case_id == new_id))
        version = s.get(ProcessVersion, case.process_version_id)
        assert version.process_key == "joint_audit_xinghua" and version.bpmn_xml and version.files is not None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "case_imported"))
    minutes = next(a for a in attachments if a.filename == "进点会议纪要.pdf")
    assert (target_files / minutes.sha256[:2] / minutes.sha256).read_bytes() == PDF
    assert document is not None and document.attachment_id in {a.id for a in attachments}
    docx = next(a for a in attachments if a.id == document.attachment_id)
    assert (target_files / docx.sha256[:2] / docx.sha256).read_bytes()[:2] == b"PK"
    assert [(i.item_no, i.description, i.requirement) for i in items] == [(1, "超职数配备副科级干部2名", "年内消化超配职数")]
    assert person.id_number == FACTS["cadre_id_number"]
    old_person = before["data"]["person_id"]
    assert view["data"] == json.loads(json.dumps(before["data"]).replace(  # the person's id renumbered, the rest as it was
        f'"person_id": {old_person}', f'"person_id": {person.id}'))
    assert entry.actor == "cli" and entry.subject == f"case:{new_id}" and entry.detail["source_case_id"] == case_id


def test_a_case_in_rectification_moves_to_a_fresh_sqlite_database_and_goes_on(source, stores, tmp_path):
    case_id = in_rectification(source)
    summary = export_case(source, case_id, tmp_path / "case.zip", OPERATOR)
    assert summary["counts"]["event"] == len(events(source, case_id)) and summary["attachments"] == 2
    with zipfile.ZipFile(tmp_path / "case.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert {"tables/event.json", "tables/work_item.json", "tables/rectification_item.json",
                "tables/official_document.json", "tables/cadre_case.json", "references/person.json"} <= set(zf.namelist())
    assert manifest["format"] == FORMAT and manifest["format_version"] == 1 and manifest["source_database"] == "sqlite"
    assert manifest["case_id"] == case_id and manifest["process_key"] == "joint_audit_xinghua"
    assert set(manifest["sha256"]) == set(zf.namelist()) - {"manifest.json"}
    with source.db.reading() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "case_exported")).subject == f"case:{case_id}"

    target = make_engine(f"sqlite:///{tmp_path / 'target.db'}")
    target.clock = Clock(T0)
    for cadre, number in (("李明", "321281198001011234"), ("王军", "321281198501011236")):  # not empty: every id differs
        other = target.start_case("joint_audit_xinghua", {**CASE_FACTS, "cadre_name": cadre, "cadre_id_number": number},
                                  as_user(target, "organization"))
        walk(target, other, "pre_audit_publicity")
    with target.db.transaction() as s:
        casefile.add_attachment(s, other, casefile.Upload("其他.pdf", b"%PDF other"), "organization", T0, root=stores[1])
    new_id = import_case(target, tmp_path / "case.zip", OPERATOR, root=stores[1])
    assert new_id != case_id
    check_moved(source, case_id, target, new_id, stores[1])

    [item] = [i for i in target.tasks(case_id=new_id) if i["step_id"] == "report_rectification"]
    target.clock = Clock(T0)
    complete_step(target, new_id, "report_rectification")
    assert target.case(new_id)["history"][-1]["seq"] > len(events(source, case_id))
    assert item["id"] not in {i["id"] for i in target.tasks(case_id=new_id)}


def test_a_case_moves_to_postgresql(source, stores, tmp_path, pg_url):
    case_id = in_rectification(source)
    export_case(source, case_id, tmp_path / "case.zip", OPERATOR)
    target = make_engine(pg_url)
    new_id = import_case(target, tmp_path / "case.zip", OPERATOR, root=stores[1])
    check_moved(source, case_id, target, new_id, stores[1])
    complete_step(target, new_id, "report_rectification")
    # and back again, from PostgreSQL to a new SQLite file
    export_case(target, new_id, tmp_path / "back.zip", OPERATOR, root=stores[1])
    with zipfile.ZipFile(tmp_path / "back.zip") as zf:
        assert json.loads(zf.read("manifest.json"))["source_database"] == "postgresql"
    again = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    back_id = import_case(again, tmp_path / "back.zip", OPERATOR, root=stores[1])
    assert events(again, back_id) == events(target, new_id)
    target.db.engine.dispose()


def _rewrite(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_is_written(source, stores, tmp_path):
    case_id = in_rectification(source)
    export_case(source, case_id, tmp_path / "case.zip", OPERATOR)
    target = make_engine(f"sqlite:///{tmp_path / 'target.db'}")
    before = counts(target)

    def flip(name, data):  # one byte of the history changed
        if name != "tables/event.json":
            return data
        at = data.index(b'"kind"') + 10
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]

    _rewrite(tmp_path / "case.zip", tmp_path / "tampered.zip", flip)
    with pytest.raises(InvalidData, match="event.json"):
        import_case(target, tmp_path / "tampered.zip", OPERATOR, root=stores[1])

    def foreign(name, data):
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), "format": "something-else"}).encode()

    _rewrite(tmp_path / "case.zip", tmp_path / "foreign.zip", foreign)
    with pytest.raises(InvalidData, match="不是督办项目归档"):
        import_case(target, tmp_path / "foreign.zip", OPERATOR, root=stores[1])
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    with pytest.raises(InvalidData, match="zip"):
        import_case(target, tmp_path / "junk.zip", OPERATOR, root=stores[1])
    assert counts(target) == before
    assert not stores[1].exists()  # no attachment written either

    result = CliRunner().invoke(main, ["import", str(tmp_path / "tampered.zip")],
                                env={"DUBAN_DATABASE_URL": str(target.db.engine.url)})
    assert result.exit_code == 2 and "校验不符" in result.output and "Traceback" not in result.output
    assert counts(target) == before


def test_importing_the_same_case_twice_is_refused_unless_as_new(source, stores, tmp_path):
    plain = source.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(source, "organization"))
    export_case(source, plain, tmp_path / "plain.zip", OPERATOR)
    target = make_engine(f"sqlite:///{tmp_path / 'target.db'}")
    first = import_case(target, tmp_path / "plain.zip", OPERATOR, root=stores[1])
    before = counts(target)
    with pytest.raises(Conflict, match="--as-new"):
        import_case(target, tmp_path / "plain.zip", OPERATOR, root=stores[1])
    assert counts(target) == before
    second = import_case(target, tmp_path / "plain.zip", OPERATOR, as_new=True, root=stores[1])
    assert second != first and history(target, second) == history(target, first)
    # the same process version is reused, not deployed again
    with target.db.reading() as s:
        assert s.get(Case, first).process_version_id == s.get(Case, second).process_version_id

    # a generated document's number (发文字号) cannot be issued twice, even --as-new
    source.clock.advance(days=1)
    case_id = in_rectification(source)
    export_case(source, case_id, tmp_path / "case.zip", OPERATOR)
    import_case(target, tmp_path / "case.zip", OPERATOR, root=stores[1])
    with pytest.raises(Conflict, match="official_document"):
        import_case(target, tmp_path / "case.zip", OPERATOR, as_new=True, root=stores[1])

    env = {"DUBAN_DATABASE_URL": str(target.db.engine.url), "DUBAN_ATTACHMENTS": str(stores[1])}
    result = CliRunner().invoke(main, ["import", str(tmp_path / "plain.zip")], env=env)
    assert result.exit_code == 5 and "--as-new" in result.output
    result = CliRunner().invoke(main, ["import", str(tmp_path / "plain.zip"), "--as-new"], env=env)
    assert result.exit_code == 0, result.output
    assert "已导入为项目" in result.output


def test_who_may_export_and_import(source, stores, tmp_path):
    case_id = source.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(source, "organization"))
    with pytest.raises(Forbidden):
        export_case(source, case_id, tmp_path / "clerk.zip", as_user(source, "organization"))
    assert not (tmp_path / "clerk.zip").exists()
    with source.db.transaction() as s:
        add_user(s, "sup_other", "a-long-password", ["supervisor"], ["陈堡镇"])
    with pytest.raises(Forbidden):  # a supervisor of another unit
        export_case(source, case_id, tmp_path / "other.zip", as_user(source, "sup_other"))
    export_case(source, case_id, tmp_path / "case.zip", as_user(source, "supervisor"))
    with source.db.reading() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "case_exported")) == "supervisor"
    with pytest.raises(Forbidden):
        import_case(source, tmp_path / "case.zip", as_user(source, "supervisor"))
    with pytest.raises(Conflict, match="已存在"):
        export_case(source, case_id, tmp_path / "case.zip", OPERATOR)

    env = {"DUBAN_DATABASE_URL": str(source.db.engine.url)}
    result = CliRunner().invoke(main, ["export", str(case_id), "--out", str(tmp_path / "x.zip"), "--as", "organization"], env=env)
    assert result.exit_code == 3 and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["export", "999", "--out", str(tmp_path / "x.zip")], env=env)
    assert result.exit_code == 4 and "项目不存在" in result.output
    result = CliRunner().invoke(main, ["export", str(case_id), "--out", str(tmp_path / "x.zip")], env=env)
    assert result.exit_code == 0 and "已导出项目" in result.output and (tmp_path / "x.zip").exists()


def test_backup_copies_the_database_while_another_connection_writes(source, tmp_path):
    for _ in range(2):
        source.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(source, "organization"))
    db_file = tmp_path / "source.db"
    env = {"DUBAN_DATABASE_URL": f"sqlite:///{db_file}"}
    holding, done = threading.Event(), threading.Event()

    def step_in_progress():  # holds the write lock with a case not yet committed, then commits
        writer = sqlite3.connect(db_file, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute('INSERT INTO "case" (process_version_id, process_key, title, unit, status, current_steps,'
                       ' state_json, data_json, lock_version, event_seq, started_by, started_at, last_activity_at, listed)'
                       ' SELECT process_version_id, process_key, title, unit, status, current_steps, state_json,'
                       ' data_json, lock_version, event_seq, started_by, started_at, last_activity_at, listed'
                       ' FROM "case" LIMIT 1')
        holding.set()
        done.wait(timeout=1.5)
        writer.execute("COMMIT")
        writer.close()

    thread = threading.Thread(target=step_in_progress)
    thread.start()
    assert holding.wait(timeout=10)
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "copy.db")], env=env)  # copies while the lock is held
    done.set()
    thread.join()
    assert result.exit_code == 0, result.output
    assert "2 个项目" in result.output and str(tmp_path / "copy.db") in result.output
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute('SELECT count(*) FROM "case"').fetchone()[0] == 2  # the committed ones, no half step
    copy.close()
    assert not Path(str(tmp_path / "copy.db") + "-wal").exists()  # one self-contained file
    with source.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 3
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "backup"))
        assert entry.detail["cases"] == 2

    again = CliRunner().invoke(main, ["backup", str(tmp_path / "copy.db")], env=env)
    assert again.exit_code == 5 and "--force" in again.output
    forced = CliRunner().invoke(main, ["backup", str(tmp_path / "copy.db"), "--force"], env=env)
    assert forced.exit_code == 0 and "3 个项目" in forced.output


def test_backup_on_postgresql_names_pg_dump(tmp_path):
    url = "postgresql://postgres@127.0.0.1:5432/test"
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "pg.dump")], env={"DUBAN_DATABASE_URL": url})
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "pg_dump -Fc -d 'postgresql://postgres@127.0.0.1:5432/test'" in result.output
    assert not (tmp_path / "pg.dump").exists()
