"""The organization's units (单位) as a tree: the offices that launch campaigns and the units under them.

A campaign cascades down this tree (province → bureau → units); responsibility reports go to every active unit;
a complaint names the unit it concerns. Units are named as people write them (戴窑镇, 省高管局); the name is the key
that cases, work items and users' scopes already carry.
"""
from __future__ import annotations

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
