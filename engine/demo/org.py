"""The demo's units as a tree (handlers/units.py): Xinghua's and Suzhou's audited units under their cities, and
the Hubei provincial campaign of seed 003 — the 省直机关治庸问责工作领导小组办公室 (set in 省直机关工委), the
provincial departments taking part, and 省高管局 with its own expressway and bridge units, to which it launches
the campaign further down (the seed's 大桥局 plan is one of them).

Hubei's units carry today's names (省卫健委, 省市场监管局; the seed's 省卫生厅 and 质监局 were merged away in 2018).
Their clerks are demo accounts like the audited units' (`unit` role, scoped to the unit), and 省高管局's own
campaign office reviews what its sub-units hand in (`leading_office` role, scoped to those sub-units).
"""
from __future__ import annotations

from dataclasses import dataclass

from .places import (COUNTY_CITIES, SUZHOU_CITY, SUZHOU_COUNTY, UNIT_ACCOUNT_UNIT, XINGHUA_DEPTS, XINGHUA_TOWNS,
                     Unit)

PROVINCE_OFFICE = "省直机关治庸问责工作领导小组办公室"  # issues the provincial campaign (seed 003, 2011-8-26)
GAOGUAN = "省高管局"  # 湖北省交通运输厅高速公路管理局: launches the campaign to its own units


@dataclass(frozen=True)
class HubeiUnit:
    name: str
    slug: str  # the clerk's username: unit_<slug>
    parent: str
    kind: str
    principal: str  # invented, like every person in the demo

    @property
    def clerk(self) -> str:
        return f"{self.name}办公室（演示）"

    @property
    def username(self) -> str:
        return f"unit_{self.slug}"


# The campaign's participating units and 省高管局's sub-units (seed 003: 各高速公路、长江大桥管理单位 … 联网管理部).
HUBEI = [
    HubeiUnit(GAOGUAN, "hb_ggj", PROVINCE_OFFICE, "province_dept", "万国栋"),
    HubeiUnit("省交通运输厅", "hb_jtt", PROVINCE_OFFICE, "province_dept", "龚志远"),
    HubeiUnit("省审计厅", "hb_sjt", PROVINCE_OFFICE, "province_dept", "严慧敏"),
    HubeiUnit("省人社厅", "hb_rst", PROVINCE_OFFICE, "province_dept", "覃立民"),
    HubeiUnit("省卫健委", "hb_wjw", PROVINCE_OFFICE, "province_dept", "邵明川"),
    HubeiUnit("省市场监管局", "hb_scjgj", PROVINCE_OFFICE, "province_dept", "黎国华"),
    HubeiUnit("省人事考试院", "hb_rsksy", "省人社厅", "unit", "鲁文静"),
    HubeiUnit("荆州长江大桥管理局", "hb_daqiao", GAOGUAN, "unit", "尹卫红"),
    HubeiUnit("随岳高速公路管理处", "hb_suiyue", GAOGUAN, "unit", "孟凡军"),
    HubeiUnit("汉宜高速公路管理处", "hb_hanyi", GAOGUAN, "unit", "段海清"),
    HubeiUnit("省高管局联网管理部", "hb_lianwang", GAOGUAN, "office", "熊晓辉"),
]
CAMPAIGN_UNITS = [u.name for u in HUBEI if u.parent == PROVINCE_OFFICE]
GAOGUAN_UNITS = [u.name for u in HUBEI if u.parent == GAOGUAN]
# 省高管局's 治庸问责工作领导小组办公室 (局办公室, seed 003): reviews its sub-units' deliverables.
GAOGUAN_OFFICE = ("leading_office_hb_ggj", "省高管局治庸问责工作领导小组办公室（演示）")

# Where Suzhou's county-level cities and districts audit (the 机关代字 of their organization departments).
SUZHOU_COUNTIES = {"常组": "常熟市", "张组": "张家港市", "昆组": "昆山市", "太组": "太仓市", "吴江组": "吴江区",
                   "吴中组": "吴中区", "相组": "相城区", "姑苏组": "姑苏区", "苏高新组": "苏州高新区"}
KIND = {"street": "town", "township": "town", "town": "town", "district": "county", "county_city": "county",
        "commission": "bureau", "office": "bureau", "bureau": "bureau"}


def tree(principals: dict[str, str]) -> list[tuple[str, str | None, str, str]]:
    """(name, parent, kind, principal) of every demo unit, parents first; `principals` are the 一把手 the joint
    audit cases name (the party secretary of a town, the head of a bureau)."""
    out: list[tuple[str, str | None, str, str]] = [("泰州市", None, "city", ""), ("兴化市", "泰州市", "county", ""),
                                                   ("苏州市", None, "city", "")]
    seen = {name for name, *_ in out}

    def add(name: str, parent: str | None, kind: str) -> None:
        if name not in seen:
            seen.add(name)
            out.append((name, parent, kind, principals.get(name, "")))

    for name, slug in XINGHUA_TOWNS + XINGHUA_DEPTS:
        add(name, "兴化市", KIND[Unit(name, slug, "兴组").kind])
    for county in SUZHOU_COUNTIES.values():
        add(county, "苏州市", "county")
    for name, slug, _, _ in SUZHOU_CITY:
        add(name, "苏州市", KIND[Unit(name, slug, "苏组").kind])
    for code, units in SUZHOU_COUNTY:
        for name, slug in units:
            add(name, SUZHOU_COUNTIES[code], KIND[Unit(name, slug, code).kind])
    add(PROVINCE_OFFICE, None, "province_dept")
    for u in HUBEI:
        if u.name not in seen:
            seen.add(u.name)
            out.append((u.name, u.parent, u.kind, u.principal))
    assert not set(COUNTY_CITIES) - seen and UNIT_ACCOUNT_UNIT in seen
    return out


def hubei_clerks() -> list[tuple[str, str, str]]:
    """(username, display name, unit) of the Hubei units' clerks."""
    return [(u.username, u.clerk, u.name) for u in HUBEI]


def seed_units(engine, principals: dict[str, str]) -> int:
    """Create the demo's units (those that exist keep their place); returns how many the tree has."""
    from handlers import units

    rows = tree(principals)
    with engine.db.transaction() as session:
        for name, parent, kind, principal in rows:
            units.ensure(session, name, parent=parent, kind=kind, principal=principal)
    return len(rows)
