"""One case as one zip for archiving (归档), and read back into another database.

The archive holds the case row, its process version, every row of every table that belongs to the case
(found from `Base.metadata`: a `case_id` foreign key to the case, then the rows hanging off those by a required
foreign key), the rows they reference in shared tables matched by natural key (a person by ID number), and
the attachment files by SHA-256. `manifest.json` names the format and the checksum of every other member.

On import every row gets a new id and every pointer at an archived row follows it; pointers at rows not in the
archive (other cases) become NULL. The history is copied as it was: ids inside events' data stay the source's.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import pkgutil
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Table, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import UniqueConstraint, sort_tables

from . import audit
from .access import Actor
from .casefile import _blob_path, attachments_dir
from .errors import Conflict, Forbidden, InvalidData, NotFound
from .models import Base

FORMAT, FORMAT_VERSION = "duban-case-archive", 1
MANIFEST = "manifest.json"
CASE_MEMBER, VERSION_MEMBER = "case.json", "process_version.json"

# Shared tables a case's rows may point at, matched in the target by these columns rather than copied blindly;
# accounts are not among them: an import never brings a password hash or a role into another database.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {"person": ("id_number",), "org_unit": ("name",)}  # never accounts
# Integer columns that hold ids of another table without declaring a ForeignKey (every `work_item_id` does too).
PLAIN_REFS: dict[tuple[str, str], str] = {
    ("rectification_item", "evidence"): "attachment",
    ("rectification_item", "repeat_of_case_id"): "case",
}
# Lists of ids: comma-separated text or a JSON list.
ID_LISTS: dict[tuple[str, str], str] = {
    ("follow_up_visit", "evidence"): "attachment",
    ("key_task_progress", "attachment_ids"): "attachment",
}
# Ids the handlers write into case data (and so into the workflow state), renumbered with their rows; ids of rows
# not in the archive (other cases, a campaign elsewhere) are left as they were.
DATA_IDS: dict[str, str] = {
    "person_id": "person", "campaign_id": "campaign", "child_campaign_id": "campaign", "complaint_id": "complaint",
    "inspection_id": "campaign_inspection", "sanction_id": "sanction", "key_task_id": "key_task",
}
DATA_ID_LISTS = ("_evidence_ids", "attachment")  # e.g. finance_evidence_ids: attachment ids
# The source's worker leases mean nothing in the target.
CLEARED: set[tuple[str, str]] = {("timer", "claimed_until"), ("timer", "claimed_by")}
# An API idempotency key already known to the target stays the target's; the archived one is dropped.
SKIP_ON_CONFLICT = {"idempotency_key"}
# Who made a complaint is for the discipline body only (seed 002): archived only by the local operator.
CONFIDENTIAL = {"complaint_informant"}


def _load_tables() -> dict[str, Table]:
    """Every table on the metadata, importing all handler modules so their tables are registered."""
    import handlers

    handlers._load()
    for mod in pkgutil.walk_packages(handlers.__path__, "handlers."):
        importlib.import_module(mod.name)
    return dict(Base.metadata.tables)


def _refs(table: Table) -> dict[str, str]:
    """column -> the table its values are ids of (declared foreign keys and the known plain ones)."""
    out = {c.name: next(iter(c.foreign_keys)).column.table.name for c in table.columns if c.foreign_keys}
    for c in table.columns:
        if c.name == "work_item_id" and not c.foreign_keys:
            out[c.name] = "work_item"
    out.update({col: target for (name, col), target in PLAIN_REFS.items() if name == table.name and col in table.c})
    return out


def _id_lists(table: Table) -> dict[str, str]:
    return {col: target for (name, col), target in ID_LISTS.items() if name == table.name and col in table.c}


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, (datetime, date)) else v for k, v in row.items()}


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        col = table.c[name]
        if isinstance(value, str) and isinstance(col.type, DateTime):
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(col.type, Date):
            value = date.fromisoformat(value)
        out[name] = value
    return out


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _member(table: str) -> str:
    return f"tables/{table}.json"


# --- export ---------------------------------------------------------------------------------------------------
def _may_export(actor: Actor, unit: str | None) -> None:
    if actor.operator or "operator" in actor.roles:
        return
    if not actor.oversees:
        raise Forbidden("只有本机管理员、运维人员或本单位的督办人员可以导出项目归档")
    if unit is not None:
        actor.require_case_unit(unit)


def _owned_rows(session: Session, tables: dict[str, Table], case_id: int) -> dict[str, list[dict]]:
    """The case's rows per table: `case_id` = the case, then rows whose required foreign key points at those."""
    owned: dict[str, dict[Any, dict]] = {}
    for table in tables.values():
        col = table.c.get("case_id")
        if table.name != "case" and col is not None and _refs(table).get("case_id") == "case":
            rows = session.execute(select(table).where(col == case_id)).mappings().all()
            if rows:
                owned[table.name] = {r["id"]: dict(r) for r in rows}
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            for col in table.columns:
                if col.nullable or not col.foreign_keys:
                    continue
                parent = next(iter(col.foreign_keys)).column.table.name
                if parent == table.name or parent not in owned:
                    continue
                rows = session.execute(select(table).where(col.in_(list(owned[parent])))).mappings().all()
                have = owned.setdefault(table.name, {})
                for r in rows:
                    if r["id"] not in have:
                        have[r["id"]] = dict(r)
                        changed = True
    return {name: [rows[k] for k in sorted(rows)] for name, rows in owned.items() if rows}


def _belonging_elsewhere(tables: dict[str, Table], case_id: int, owned: dict[str, list[dict]]) -> dict[str, int]:
    """Drop (in place) rows that must point at a row outside the archive: they belong to that row, not to the
    case (a campaign's line for this unit case belongs to the campaign). Returns how many per table."""
    dropped: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        ids = {name: {r["id"] for r in rows} for name, rows in owned.items()}
        ids["case"] = {case_id}
        for name, rows in owned.items():
            required = [(col, target) for col, target in _refs(tables[name]).items()
                        if not tables[name].c[col].nullable and target not in NATURAL_KEYS]
            keep = [r for r in rows if all(r[col] is None or r[col] in ids.get(target, ()) for col, target in required)]
            if len(keep) != len(rows):
                dropped[name] = dropped.get(name, 0) + len(rows) - len(keep)
                owned[name] = keep
                changed = True
    for name in [n for n, rows in owned.items() if not rows]:
        del owned[name]
    return dropped


def _references(session: Session, tables: dict[str, Table], case_id: int,
                owned: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Rows of shared tables (person, ...) the case's rows point at."""
    owned_ids = {name: {r["id"] for r in rows} for name, rows in owned.items()}
    wanted: dict[str, set] = {}
    for name, rows in owned.items():
        table = tables[name]
        for col, target in _refs(table).items():
            for row in rows:
                value = row[col]
                if value is None or value in owned_ids.get(target, ()) or (target == "case" and value == case_id):
                    continue
                if target in NATURAL_KEYS:
                    wanted.setdefault(target, set()).add(value)
    out = {}
    for target, ids in wanted.items():
        table = tables[target]
        out[target] = [dict(r) for r in session.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id)).mappings()]
    return out


def export_case(engine, case_id: int, path: str | os.PathLike, actor: Actor, *, root: Path | None = None,
                force: bool = False) -> dict[str, Any]:
    """Write case `case_id` to the zip at `path`; returns a summary (path, size, counts)."""
    target = Path(path)
    if target.exists() and not force:
        raise Conflict(f"文件已存在：{target}（覆盖请加 --force）")
    tables = _load_tables()
    case_table, version_table = tables["case"], tables["process_version"]
    _may_export(actor, None)  # refused before the case is looked up: an id tells nothing to those who may not
    store = root or attachments_dir()
    with engine.db.reading() as session:
        if not engine.db.is_sqlite:  # one snapshot for every table, as SQLite's read transaction gives
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        case = session.execute(select(case_table).where(case_table.c.id == case_id)).mappings().first()
        if case is None:
            raise NotFound(f"项目不存在：{case_id}")
        _may_export(actor, case["unit"])
        version = session.execute(select(version_table).where(version_table.c.id == case["process_version_id"])).mappings().one()
        owned = _owned_rows(session, tables, case_id)
        omitted = {} if actor.operator else {n: len(owned.pop(n)) for n in sorted(CONFIDENTIAL & set(owned))}
        left_out = _belonging_elsewhere(tables, case_id, owned)
        if left_out and case["status"] in ("running", "error"):
            rows = "，".join(f"{n} {c} 条" for n, c in left_out.items())
            raise Conflict(f"项目 {case_id} 仍在办理中，其记录（{rows}）属于其他项目或活动，单独导出后无法继续办理；请办结后再归档")
        references = _references(session, tables, case_id, owned)
    members: dict[str, bytes] = {CASE_MEMBER: _dumps(_encode(dict(case))), VERSION_MEMBER: _dumps(_encode(dict(version)))}
    for name, rows in owned.items():
        members[_member(name)] = _dumps([_encode(r) for r in rows])
    for name, rows in references.items():
        members[f"references/{name}.json"] = _dumps([_encode(r) for r in rows])
    blobs: dict[str, Path] = {}  # read one at a time while writing the zip: they may be large
    for row in owned.get("attachment", []):
        blob = _blob_path(store, row["sha256"])
        if not blob.is_file():
            raise NotFound(f"附件文件缺失：{row['filename']}（{row['sha256']}），不能归档")
        blobs[f"attachments/{row['sha256']}"] = blob
    counts = {"case": 1, **{name: len(rows) for name, rows in owned.items()}}
    now = engine.clock()
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "exported_at": now.isoformat(),
        "exported_by": actor.username, "source_database": engine.db.engine.dialect.name,
        "case_id": case_id, "title": case["title"], "process_key": case["process_key"],
        "process_version": version["version"], "process_content_hash": version["content_hash"],
        "counts": counts, "references": {n: len(r) for n, r in references.items()},
        "attachments": len(blobs), "omitted": omitted, "left_out": left_out,
        "sha256": {**{name: _sha(data) for name, data in members.items()}, **{name: name.split("/", 1)[1] for name in blobs}},
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, _dumps(manifest))
            for name, data in members.items():
                zf.writestr(name, data)
            for name, blob in blobs.items():
                data = blob.read_bytes()
                if _sha(data) != manifest["sha256"][name]:
                    raise InvalidData(f"附件文件已损坏（内容与 SHA-256 不符）：{blob}，不能归档")
                zf.writestr(name, data)
        with engine.db.transaction() as session:  # committed before the file appears: no archive unaudited
            audit.record(session, actor.username, "case_exported", f"case:{case_id}",
                         {"file": str(target), "counts": counts, "attachments": manifest["attachments"],
                          "omitted": omitted, "left_out": left_out}, now)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return {"case_id": case_id, "title": case["title"], "path": str(target), "size": target.stat().st_size,
            "counts": counts, "attachments": manifest["attachments"], "omitted": omitted, "left_out": left_out}


# --- import ---------------------------------------------------------------------------------------------------
def read_archive(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the members of a verified archive; InvalidData for anything damaged or foreign."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if MANIFEST not in names:
                raise InvalidData(f"{name} 不是督办项目归档：缺少 {MANIFEST}")
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise InvalidData(f"{name} 不是督办项目归档（格式：{manifest.get('format') if isinstance(manifest, dict) else '未知'}）")
            if manifest.get("format_version") != FORMAT_VERSION:
                raise InvalidData(f"归档格式版本 {manifest.get('format_version')} 不受支持（本系统支持第 {FORMAT_VERSION} 版）")
            sums = manifest.get("sha256")
            if not isinstance(sums, dict) or set(sums) != set(names) - {MANIFEST} or len(names) != len(set(names)):
                raise InvalidData(f"归档已损坏：{name} 的文件清单与校验表不符")
            members = {}
            for member, expected in sums.items():
                data = zf.read(member)
                if _sha(data) != expected or (member.startswith("attachments/") and member != f"attachments/{expected}"):
                    raise InvalidData(f"归档已损坏：{member} 的 SHA-256 校验不符")
                members[member] = data
    except zipfile.BadZipFile as err:
        raise InvalidData(f"归档已损坏或不是 zip 文件：{name}（{err}）")
    except (OSError, UnicodeDecodeError, ValueError) as err:
        if isinstance(err, InvalidData):
            raise
        raise InvalidData(f"无法读取归档 {name}：{err}")
    for required in (CASE_MEMBER, VERSION_MEMBER):
        if required not in members:
            raise InvalidData(f"归档不完整：缺少 {required}")
    return manifest, members


def _rows(members: dict[str, bytes], member: str) -> Any:
    try:
        return json.loads(members[member].decode("utf-8"))
    except ValueError as err:
        raise InvalidData(f"归档内容无效：{member}（{err}）")


def _checked(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    unknown = set(row) - set(table.c.keys())
    if unknown:
        raise InvalidData(f"归档中的 {table.name} 含本库没有的列：{'、'.join(sorted(unknown))}（本库版本过旧？）")
    return _decode(table, row)


class _Importer:
    """Inserts the archived rows in dependency order with new ids, remapping every pointer at an archived row."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[str, dict[Any, Any]] = {}  # table -> old id -> new id
        self.later: list[tuple[Table, Any, str, Any]] = []  # self-references set once every row is in

    def _map(self, table: Table, col: str, target: str, value: Any) -> Any:
        if value is None:
            return None
        new = self.ids.get(target, {}).get(value)
        if new is not None:
            return new
        if not table.c[col].nullable:
            raise InvalidData(f"归档中的 {table.name}.{col} 引用了归档之外的 {target} 记录 {value}，无法导入")
        return None  # another case, or a row not archived: the pointer does not survive the move

    def _map_list(self, target: str, value: Any) -> Any:
        known = self.ids.get(target, {})
        if isinstance(value, list):
            return [known[v] for v in value if v in known]
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            return ",".join(str(known[int(p)]) for p in parts if p.isdigit() and int(p) in known)
        return value

    def _conflicts(self, table: Table, row: dict[str, Any], remapped: set[str]) -> list[str] | None:
        """The columns of a unique key whose values the target already holds, if any."""
        keys = [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
        keys += [[c] for c in table.columns if c.unique]
        keys += [list(i.columns) for i in table.indexes if i.unique]
        for cols in keys:
            names = [c.name for c in cols]
            if any(n in remapped or n == "id" for n in names) or any(row.get(n) is None for n in names):
                continue
            hit = self.session.execute(select(table.c.id).where(and_(*(table.c[n] == row[n] for n in names))).limit(1)).first()
            if hit is not None:
                return names
        return None

    def insert(self, table: Table, row: dict[str, Any]) -> Any:
        row = _checked(table, row)
        old_id = row.pop("id", None)
        remapped, deferred = set(), []
        for col, target in _refs(table).items():
            if col not in row:
                continue
            remapped.add(col)
            if target == table.name and row[col] is not None:
                deferred.append((col, row[col]))
                row[col] = None
            else:
                row[col] = self._map(table, col, target, row[col])
        for col, target in _id_lists(table).items():
            if col in row:
                row[col] = self._map_list(target, row[col])
        for name, col in CLEARED:
            if name == table.name and col in row:
                row[col] = None
        clash = self._conflicts(table, row, remapped)
        if clash:
            if table.name in SKIP_ON_CONFLICT:
                return None
            values = "，".join(f"{n}={row[n]}" for n in clash)
            raise Conflict(f"目标库已有与归档相同的 {table.name} 记录（{values}），不能导入")
        new_id = self.session.execute(table.insert().values(**row)).inserted_primary_key[0]
        self.ids.setdefault(table.name, {})[old_id] = new_id
        self.later += [(table, new_id, col, old) for col, old in deferred]
        return new_id

    def reference(self, table: Table, row: dict[str, Any]) -> None:
        """Match a shared row by its natural key, else insert it with its own pointers cleared."""
        row = _checked(table, row)
        keys = NATURAL_KEYS[table.name]
        found = self.session.execute(select(table.c.id).where(and_(*(table.c[k] == row[k] for k in keys)))).first()
        if found is not None:
            self.ids.setdefault(table.name, {})[row["id"]] = found[0]
            return
        old_id = row.pop("id")
        for col in _refs(table):
            if col in row:
                row[col] = None
        self.ids.setdefault(table.name, {})[old_id] = self.session.execute(table.insert().values(**row)).inserted_primary_key[0]

    def remap_data(self, value: Any) -> Any:
        """A copy of case data (or workflow state) with the DATA_IDS renumbered, wherever they sit."""
        if isinstance(value, list):
            return [self.remap_data(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            known = self.ids.get(DATA_IDS.get(key, ""), {})
            if isinstance(key, str) and key.endswith(DATA_ID_LISTS[0]) and isinstance(item, list):
                known = self.ids.get(DATA_ID_LISTS[1], {})
                out[key] = [known.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else v for v in item]
            elif isinstance(item, int) and not isinstance(item, bool) and item in known:
                out[key] = known[item]
            else:
                out[key] = self.remap_data(item)
        return out

    def finish(self) -> None:
        for table, new_id, col, old in self.later:
            value = self._map(table, col, table.name, old)
            self.session.execute(table.update().where(table.c.id == new_id).values({col: value}))


def _version_id(session: Session, table: Table, row: dict[str, Any]) -> tuple[int, bool]:
    """The target's version with the same content hash, else the archived one inserted (renumbered if taken)."""
    found = session.scalar(select(table.c.id).where(table.c.content_hash == row["content_hash"]))
    if found is not None:
        return found, True
    row = {k: v for k, v in row.items() if k != "id"}
    taken = session.scalar(select(table.c.id).where(table.c.process_key == row["process_key"],
                                                    table.c.version == row["version"]))
    if taken is not None:
        top = session.scalar(select(func.max(table.c.version)).where(table.c.process_key == row["process_key"]))
        row["version"] = (top or 0) + 1
    return session.execute(table.insert().values(**row)).inserted_primary_key[0], False


def _table_order(tables: dict[str, Table], names: set[str]) -> list[Table]:
    chosen = [tables[n] for n in names]
    extra = [(tables[target], t) for t in chosen for target in _refs(t).values()
             if target in names and target != t.name]
    extra += [(tables[target], t) for t in chosen for target in _id_lists(t).values() if target in names]
    return sort_tables(chosen, extra_dependencies=extra)


def import_case(engine, path: str | os.PathLike, actor: Actor, *, as_new: bool = False,
                root: Path | None = None) -> int:
    """Read the archive at `path` into this database in one transaction; returns the new case id."""
    if not actor.operator:
        raise Forbidden("只有本机管理员（不带 --as）可以导入项目归档")
    manifest, members = read_archive(path)
    tables = _load_tables()
    case_row = _rows(members, CASE_MEMBER)
    version_row = _rows(members, VERSION_MEMBER)
    if not isinstance(case_row, dict) or not isinstance(version_row, dict) or "id" not in case_row:
        raise InvalidData("归档内容无效：项目或流程版本记录格式不对")
    owned: dict[str, list[dict]] = {}
    references: dict[str, list[dict]] = {}
    for member in members:
        for prefix, into in (("tables/", owned), ("references/", references)):
            if member.startswith(prefix) and member.endswith(".json"):
                name = member[len(prefix):-len(".json")]
                allowed = NATURAL_KEYS if into is references else tables
                if name not in allowed or name in ("case", "process_version"):
                    raise InvalidData(f"归档含本库不认识的表：{name}")
                rows = _rows(members, member)
                if not isinstance(rows, list) or not all(isinstance(r, dict) and "id" in r for r in rows):
                    raise InvalidData(f"归档内容无效：{member} 不是记录列表")
                into[name] = rows
    if manifest.get("case_id") != case_row["id"]:
        raise InvalidData("归档内容无效：清单中的项目编号与项目记录不符")
    try:
        return _import(engine, tables, manifest, members, case_row, version_row, owned, references,
                       actor, as_new, root or attachments_dir(), str(path))
    except IntegrityError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        raise Conflict(f"导入与本库已有记录冲突，未做任何更改：{reason}")
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, InvalidData):
            raise
        raise InvalidData(f"归档内容无效，未做任何更改：{type(err).__name__}: {err}")


def _import(engine, tables, manifest, members, case_row, version_row, owned, references, actor, as_new, store,
            path) -> int:
    case_table, version_table = tables["case"], tables["process_version"]
    now = engine.clock()
    with engine.db.transaction() as session:
        case = _checked(case_table, case_row)
        if not as_new:
            same = session.scalar(select(case_table.c.id).where(
                case_table.c.process_key == case["process_key"], case_table.c.title == case["title"],
                case_table.c.started_at == case["started_at"]))
            if same is not None:
                raise Conflict(f"本库已有同一项目（项目 {same}：{case['title']}，发起于 {case['started_at']:%Y-%m-%d %H:%M}），"
                               "确需再导入一份请加 --as-new")
        version = _checked(version_table, version_row)
        version_id, reused = _version_id(session, version_table, version)
        importer = _Importer(session)
        for name in sorted(references):
            for row in references[name]:
                importer.reference(tables[name], row)
        old_case_id = case.pop("id")
        case["process_version_id"] = version_id
        new_id = session.execute(case_table.insert().values(**case)).inserted_primary_key[0]
        importer.ids["case"] = {old_case_id: new_id}
        for table in _table_order(tables, set(owned)):
            for row in owned[table.name]:
                importer.insert(table, row)
        importer.finish()
        renumbered = {}
        for col in ("data_json", "state_json"):
            text = case.get(col)
            if text:
                try:
                    value = json.loads(text)
                except ValueError:
                    raise InvalidData(f"归档内容无效：项目的 {col} 不是 JSON")
                moved = importer.remap_data(value)
                if moved != value:
                    renumbered[col] = json.dumps(moved, ensure_ascii=False)
        if renumbered:
            session.execute(case_table.update().where(case_table.c.id == new_id).values(**renumbered))
        for member, data in members.items():
            if member.startswith("attachments/"):
                blob = _blob_path(store, member.split("/", 1)[1])
                if not blob.exists():
                    blob.parent.mkdir(parents=True, exist_ok=True)
                    tmp = blob.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(data)
                    tmp.replace(blob)
        counts = {name: len(ids) for name, ids in importer.ids.items() if name in owned}
        audit.record(session, actor.username, "case_imported", f"case:{new_id}",
                     {"file": path, "source_case_id": old_case_id, "source_database": manifest.get("source_database"),
                      "exported_at": manifest.get("exported_at"), "process_version_id": version_id,
                      "version_reused": reused, "counts": {"case": 1, **counts}, "as_new": as_new}, now)
    return new_id
