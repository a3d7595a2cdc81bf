"""A designer's drafts: a deployed version's files copied, edited in the browser, validated on every save, deployed
as a new version when they pass. Also the files of a version exactly as deployed (the designer's download).

Nothing in a draft reaches running cases: only `deploy_draft` stores a version, through `Engine.deploy`, and only
`engine.migration` moves cases to it.
"""
from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .access import Actor
from .errors import Conflict, InvalidData, NotFound, ValidationFailed
from .models import DecisionVersion, ProcessDraft, ProcessVersion
from .validation import Problem, check_paths
from .version_diff import VersionDiff, diff_files

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DRAFT_BYTES = 8 * 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,150}")


# --- a version's files ---------------------------------------------------------------------------
def version_files(session: Session, version_id: int) -> dict[str, str]:
    """{"<file>.bpmn": text, "forms/<name>": text, "decisions/<file>.dmn": text} as deployed. Versions deployed before
    the files were kept get their forms re-serialized from the catalogue and the decision versions current then."""
    row = session.get(ProcessVersion, version_id)
    if row is None:
        raise NotFound(f"流程版本不存在：{version_id}")
    files = {row.filename: row.bpmn_xml}
    if row.files:
        files.update(row.files)
        return files
    catalogue = row.catalogue or {}
    for step in [*catalogue.get("steps", {}).values(), catalogue.get("start") or {}]:
        if step.get("form_file") and step.get("form") is not None:
            files[f"forms/{step['form_file']}"] = json.dumps(step["form"], ensure_ascii=False, indent=2) + "\n"
    for decision_id in sorted(set(re.findall(r"<spiffworkflow:calledDecisionId>\s*([^<\s]+)\s*<", row.bpmn_xml))):
        table = session.scalars(select(DecisionVersion).where(
            DecisionVersion.decision_id == decision_id, DecisionVersion.deployed_at <= row.deployed_at)
            .order_by(DecisionVersion.version.desc()).limit(1)).first()
        if table is not None:
            files[f"decisions/{table.filename}"] = table.dmn_xml
    return files


def version_archive(session: Session, version_id: int) -> bytes:
    """A zip of the version's files: unzipped, a folder `duban deploy` and Camunda Modeler open as they are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(version_files(session, version_id).items()):
            archive.writestr(path, text.encode("utf-8"))
    return buffer.getvalue()


def newest_version(session: Session, process_key: str) -> ProcessVersion | None:
    return session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                           .order_by(ProcessVersion.version.desc()).limit(1)).first()


# --- validation ----------------------------------------------------------------------------------
def _check_path(path: str, bpmn_name: str) -> None:
    if path == bpmn_name:
        return
    folder, _, name = path.partition("/")
    if (folder == "forms" and name.endswith(".json") or folder == "decisions" and name.endswith(".dmn")) \
            and _NAME.fullmatch(name) and ".." not in name:
        return
    raise InvalidData("草稿文件名不合法", details={"files": [f"{path[:200]}：只能是 {bpmn_name}、forms/名称.json 或 "
                                                      "decisions/名称.dmn"]})


def validate_files(files: dict[str, str], process_key: str | None = None) -> list[Problem]:
    """The problems `duban validate` would print for these files laid out as a processes folder, files named
    relative to it ("x.bpmn", "forms/a.json"); and one if the BPMN no longer holds `process_key`."""
    with tempfile.TemporaryDirectory(prefix="duban-draft-") as tmp:
        root = Path(tmp)
        (root / "forms").mkdir()
        (root / "decisions").mkdir()
        bpmn = [p for p in files if p.endswith(".bpmn") and "/" not in p]
        for path, text in files.items():
            target = (root / path).resolve()
            if root.resolve() not in target.parents:
                continue
            target.write_bytes(text.encode("utf-8", errors="replace"))
        paths = [str(root / p) for p in bpmn] + [str(root / p) for p in files if p.startswith("decisions/")]
        problems, _ = check_paths(paths or [str(root / "missing.bpmn")], str(root / "forms"))
        prefix = str(root) + "/"
        problems = [replace(p, file=p.file.replace(prefix, ""), message=p.message.replace(prefix, ""))
                    for p in problems]
    if process_key and bpmn and not any(f'id="{process_key}"' in files[p] for p in bpmn):
        problems.append(Problem(bpmn[0], 0, "-", f"草稿中没有流程 {process_key}（流程的 id 不能修改）", "draft.process"))
    return problems


def problem_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    return [asdict(p) for p in problems]


# --- drafts --------------------------------------------------------------------------------------
def create_draft(session: Session, process_key: str, actor: Actor, now: datetime,
                 from_version: int | None = None) -> ProcessDraft:
    """A draft holding the files of one deployed version of the process (the newest unless `from_version`)."""
    actor.require_design()
    query = select(ProcessVersion).where(ProcessVersion.process_key == process_key)
    if from_version is not None:
        query = query.where(ProcessVersion.version == from_version)
    base = session.scalars(query.order_by(ProcessVersion.version.desc()).limit(1)).first()
    if base is None:
        raise NotFound(f"流程未部署：{process_key}" + (f" 第 {from_version} 版" if from_version else ""))
    files = version_files(session, base.id)
    draft = ProcessDraft(process_key=process_key, base_version_id=base.id, filename=base.filename, files=files,
                         problems=[], status="open", created_by=actor.username, created_at=now,
                         updated_by=actor.username, updated_at=now)
    session.add(draft)
    session.flush()
    audit.record(session, actor.username, "draft_created", f"draft:{draft.id}",
                 {"process_key": process_key, "from_version": base.version}, now)
    return draft


def get_draft(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"草稿不存在：{draft_id}")
    return draft


def drafts(session: Session, process_key: str | None = None, status: str | None = "open") -> list[ProcessDraft]:
    query = select(ProcessDraft)
    if process_key:
        query = query.where(ProcessDraft.process_key == process_key)
    if status:
        query = query.where(ProcessDraft.status == status)
    return list(session.scalars(query.order_by(ProcessDraft.updated_at.desc(), ProcessDraft.id.desc())))


def _open(session: Session, draft_id: int) -> ProcessDraft:
    draft = get_draft(session, draft_id)
    if draft.status != "open":
        raise Conflict(f"草稿 {draft_id} 已{'部署' if draft.status == 'deployed' else '放弃'}，不能再修改")
    return draft


def save_draft(session: Session, draft_id: int, files: dict[str, str | None], actor: Actor,
               now: datetime) -> list[Problem]:
    """Merge `files` into the draft (None removes a form or decision file), validate all, keep the problems. A draft
    with problems is saved: the designer sees them on the diagram; only deploying needs none."""
    actor.require_design()
    draft = _open(session, draft_id)
    merged = dict(draft.files)
    for path, text in files.items():
        if not isinstance(path, str):
            raise InvalidData("草稿文件名不合法", details={"files": [str(path)[:100]]})
        _check_path(path, draft.filename)
        if text is None:
            if path == draft.filename:
                raise InvalidData("不能删除流程文件", details={"files": [path]})
            merged.pop(path, None)
            continue
        if not isinstance(text, str):
            raise InvalidData("文件内容应为文本", details={"files": [path]})
        if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
            raise InvalidData("文件过大", details={"files": [f"{path}：不超过 {MAX_FILE_BYTES // 1024 // 1024} MB"]})
        merged[path] = text
    if sum(len(t.encode("utf-8", errors="replace")) for t in merged.values()) > MAX_DRAFT_BYTES:
        raise InvalidData("草稿过大", details={"files": [f"合计不超过 {MAX_DRAFT_BYTES // 1024 // 1024} MB"]})
    problems = validate_files(merged, draft.process_key)
    changed = sorted(p for p in set(merged) | set(draft.files) if merged.get(p) != draft.files.get(p))
    draft.files = merged
    draft.problems = problem_dicts(problems)
    draft.updated_by, draft.updated_at = actor.username, now
    audit.record(session, actor.username, "draft_saved", f"draft:{draft.id}",
                 {"process_key": draft.process_key, "files": changed, "problems": len(problems)}, now)
    return problems


def discard_draft(session: Session, draft_id: int, actor: Actor, now: datetime) -> None:
    actor.require_design()
    draft = _open(session, draft_id)
    draft.status, draft.updated_by, draft.updated_at = "discarded", actor.username, now
    audit.record(session, actor.username, "draft_discarded", f"draft:{draft.id}", {"process_key": draft.process_key},
                 now)


def draft_diff(session: Session, draft_id: int) -> VersionDiff:
    """The draft against the process's current (newest) version: what deploying it would change."""
    draft = get_draft(session, draft_id)
    base = newest_version(session, draft.process_key)
    return diff_files(version_files(session, base.id) if base else {}, draft.files, draft.process_key)


def deploy_draft(engine: Any, draft_id: int, actor: Actor) -> dict[str, Any]:
    """Validate and deploy the draft as the process's next version, in one transaction with the draft's new state
    and the audit row that holds the diff; refused whole (ValidationFailed with the problems) if anything is wrong."""
    actor.require_design()
    now = engine.clock()
    with engine.db.reading() as session:
        draft = _open(session, draft_id)
        files, process_key = dict(draft.files), draft.process_key
        base = newest_version(session, process_key)
        diff = diff_files(version_files(session, base.id) if base else {}, files, process_key)
    problems = validate_files(files, process_key)
    if problems:
        raise ValidationFailed(f"{len(problems)} 个问题，未部署", details=problems)
    outcome: dict[str, Any] = {"diff": diff.as_dict(), "version": None, "deployed": []}

    def then(session: Session, results: list[Any]) -> None:
        row = session.get(ProcessDraft, draft_id)
        if row is None or row.status != "open":
            raise Conflict(f"草稿 {draft_id} 已被他人部署或放弃")
        mine = next((r for r in results if r.kind == "process" and r.process_key == process_key), None)
        version_id = session.scalar(select(ProcessVersion.id).where(
            ProcessVersion.process_key == process_key, ProcessVersion.version == mine.version)) if mine else None
        row.status, row.deployed_version_id = "deployed", version_id
        row.updated_by, row.updated_at = actor.username, now
        outcome["version"] = mine.version if mine else None
        outcome["new"] = bool(mine and mine.new)

    with tempfile.TemporaryDirectory(prefix="duban-deploy-") as tmp:
        root = Path(tmp)
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(text.encode("utf-8"))
        paths = [str(root / p) for p in files if p.endswith(".bpmn") or p.startswith("decisions/")]
        outcome["deployed"] = engine.deploy(paths, actor.username, forms_dir=str(root / "forms"),
                                            audit_detail={"draft_id": draft_id, "diff": diff.as_dict()}, then=then)
    return outcome
