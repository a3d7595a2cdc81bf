"""The organization's units (单位) as a tree: the offices that launch campaigns and the units under them.

A campaign cascades down this tree (province → bureau → units); responsibility reports go to every active unit;
a complaint names the unit it concerns. Units are named as people write them (戴窑镇, 省高管局); the name is the key
that cases, work items and users' scopes already carry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from sqlalchemy import ForeignKey, String, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import InvalidData
from engine.models import Base, Case

from . import form_options

KINDS: dict[str, tuple[str, str]] = {
    "province_dept": ("省直单位", "provincial department"),
    "city": ("市", "city"),
    "county": ("县（市、区）", "county"),
    "bureau": ("局（委、办）", "bureau"),
    "town": ("乡镇（街道）", "town or street"),
    "unit": ("基层单位", "unit"),
    "office": ("处室（科室）", "office"),
}
NAME_CHARS = 200


class OrgUnit(Base):
    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_CHARS), unique=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="unit", server_default="unit")
    principal: Mapped[str] = mapped_column(String(100), default="", server_default="")  # 一把手's name
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, (self.kind, ""))[0]


def by_name(session: Session, name: str) -> OrgUnit | None:
    return session.scalar(select(OrgUnit).where(OrgUnit.name == (name or "").strip()))


def ensure(session: Session, name: str, parent: str | None = None, kind: str = "unit",
           principal: str = "") -> OrgUnit:
    """The unit of this name, created (under `parent`, which must exist) when new; an existing unit keeps its
    place and takes a given principal."""
    name = (name or "").strip()
    if not name:
        raise InvalidData("单位名称不能为空", details={"name": ["必填"]})
    if len(name) > NAME_CHARS:
        raise InvalidData("单位名称过长", details={"name": [f"不超过 {NAME_CHARS} 字"]})
    if kind not in KINDS:
        raise InvalidData("单位类别无效", details={"kind": [f"未知的类别：{kind}"]})
    parent_row = None
    if parent:
        parent_row = by_name(session, parent)
        if parent_row is None:
            raise InvalidData("上级单位不存在", details={"parent": [f"没有名为“{parent}”的单位"]})
    unit = by_name(session, name)
    if unit is None:
        unit = OrgUnit(name=name, parent_id=parent_row.id if parent_row else None, kind=kind,
                       principal=principal.strip(), active=True)
        session.add(unit)
        session.flush()
    elif principal.strip():
        unit.principal = principal.strip()
    return unit


def children(session: Session, name: str, active_only: bool = True) -> list[OrgUnit]:
    """The units directly under `name`, by name."""
    parent = by_name(session, name)
    if parent is None:
        return []
    query = select(OrgUnit).where(OrgUnit.parent_id == parent.id)
    if active_only:
        query = query.where(OrgUnit.active.is_(True))
    return list(session.scalars(query.order_by(OrgUnit.name)))


def descendants(session: Session, name: str) -> list[OrgUnit]:
    """Every active unit below `name`, nearest first (a cycle in hand-edited data ends the walk)."""
    out: list[OrgUnit] = []
    seen: set[int] = set()
    level = children(session, name)
    while level:
        nxt = []
        for unit in level:
            if unit.id in seen:
                continue
            seen.add(unit.id)
            out.append(unit)
            nxt.extend(children(session, unit.name))
        level = nxt
    return out


def all_active(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.name)))


def names(units: Iterable[OrgUnit]) -> list[str]:
    return [u.name for u in units]


def _options(units: Iterable[OrgUnit]) -> list[dict[str, Any]]:
    return [{"const": u.name, "title": u.name} for u in units]


@form_options("units.children_of_case_unit")
def _children_of_case_unit(session: Session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    unit = session.scalar(select(Case.unit).where(Case.id == case_id)) if case_id else data.get("unit")
    return _options(children(session, unit or ""))


@form_options("units.all")
def _all_units(session: Session, case_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    return _options(all_active(session))


# --- importing the tree from a sheet (单位名称, 上级单位, 类别, 主要负责人) -------------------------------
COLUMNS = {"单位名称": "name", "上级单位": "parent", "类别": "kind", "主要负责人": "principal"}
_KIND_BY_NAME = {**{names[0]: code for code, names in KINDS.items()}, **{code: code for code in KINDS}}


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str


def read_sheet(content: bytes, filename: str = "") -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """The rows of a unit sheet (.xlsx or CSV) with their Excel row numbers, and what is wrong with it."""
    from .planning.roster import RosterUnreadable, cells_of

    try:
        cells = list(cells_of(content, filename))
    except RosterUnreadable as err:
        return [], [RowProblem(0, "", str(err))]
    rows = [(n, [("" if v is None else str(v).strip()) for v in values]) for n, values in cells]
    rows = [(n, values) for n, values in rows if any(values)]
    if not rows:
        return [], [RowProblem(0, "", "文件中没有数据")]
    header_row, header = rows[0]
    index = {COLUMNS[h]: i for i, h in enumerate(header) if h in COLUMNS}
    if "name" not in index:
        return [], [RowProblem(header_row, "单位名称", "第 1 行应为表头，且须有“单位名称”列（可选列：上级单位、类别、主要负责人）")]
    out, problems, seen = [], [], {}
    for number, values in rows[1:]:
        row = {key: (values[i] if i < len(values) else "") for key, i in index.items()}
        row["row"] = number
        if not row["name"]:
            problems.append(RowProblem(number, "单位名称", "单位名称为空"))
            continue
        if len(row["name"]) > NAME_CHARS:
            problems.append(RowProblem(number, "单位名称", f"单位名称超过 {NAME_CHARS} 字"))
            continue
        if row["name"] in seen:
            problems.append(RowProblem(number, "单位名称", f"与第 {seen[row['name']]} 行重复"))
            continue
        seen[row["name"]] = number
        kind = row.get("kind") or "unit"
        if kind not in _KIND_BY_NAME:
            problems.append(RowProblem(number, "类别", f"未知的类别“{kind}”，可填：{'、'.join(n[0] for n in KINDS.values())}"))
            continue
        row["kind"] = _KIND_BY_NAME[kind]
        out.append(row)
    return out, problems


def import_rows(session: Session, rows: list[dict[str, Any]]) -> tuple[int, list[RowProblem]]:
    """Create the units of `rows`, parents before children wherever they stand in the sheet; a parent found
    neither in the database nor in the sheet is that row's problem. Returns (units created, problems); on
    problems the caller's transaction must not commit (nothing half-imported)."""
    pending = {row["name"]: row for row in rows}
    created, problems = 0, []
    while pending:
        ready = [r for r in pending.values()
                 if not r.get("parent") or r["parent"] not in pending or r["parent"] == r["name"]]
        if not ready:  # the rest name each other in a circle
            problems += [RowProblem(r["row"], "上级单位", "上级单位互相引用，形成循环") for r in pending.values()]
            break
        for row in ready:
            del pending[row["name"]]
            if row.get("parent") == row["name"]:
                problems.append(RowProblem(row["row"], "上级单位", "上级单位不能是本单位"))
                continue
            if row.get("parent") and by_name(session, row["parent"]) is None:
                problems.append(RowProblem(row["row"], "上级单位", f"没有名为“{row['parent']}”的单位（表中和系统中都没有）"))
                continue
            existed = by_name(session, row["name"]) is not None
            ensure(session, row["name"], row.get("parent") or None, row["kind"], row.get("principal") or "")
            created += 0 if existed else 1
    return created, sorted(problems, key=lambda p: p.row)


@dataclass
class TreeRow:
    unit: OrgUnit
    depth: int
    child_count: int


def tree(session: Session) -> list[TreeRow]:
    """Every unit in tree order (each unit followed by those under it), for the 单位管理 page."""
    everything = list(session.scalars(select(OrgUnit).order_by(OrgUnit.name)))
    below: dict[int | None, list[OrgUnit]] = {}
    for unit in everything:
        below.setdefault(unit.parent_id, []).append(unit)
    out: list[TreeRow] = []
    seen: set[int] = set()

    def visit(unit: OrgUnit, depth: int) -> None:
        if unit.id in seen:
            return
        seen.add(unit.id)
        out.append(TreeRow(unit, depth, len(below.get(unit.id, []))))
        for child in below.get(unit.id, []):
            visit(child, depth + 1)

    for root in below.get(None, []):
        visit(root, 0)
    return out
