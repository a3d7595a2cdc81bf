"""The unit tree campaigns cascade down and reports go out to."""
from __future__ import annotations

import pytest

from engine.errors import InvalidData
from handlers import units


def test_a_tree_of_units_lists_children_and_everything_below(engine):
    with engine.db.transaction() as session:
        units.ensure(session, "省高管局", kind="province_dept", principal="郭小军")
        units.ensure(session, "大桥局", parent="省高管局", kind="bureau")
        units.ensure(session, "随岳管理处", parent="省高管局", kind="unit")
        units.ensure(session, "大桥局养护科", parent="大桥局", kind="office")
    with engine.db.reading() as session:
        assert units.names(units.children(session, "省高管局")) == sorted(["大桥局", "随岳管理处"])
        assert units.names(units.descendants(session, "省高管局"))[-1] == "大桥局养护科"
        assert units.by_name(session, "省高管局").principal == "郭小军"
        assert units.by_name(session, "大桥局").kind_name == "局（委、办）"
        assert units.children(session, "没有这个单位") == []


def test_a_unit_under_a_parent_that_does_not_exist_is_refused_at_the_field(engine):
    with engine.db.transaction() as session, pytest.raises(InvalidData) as refused:
        units.ensure(session, "某科", parent="不存在的局")
    assert "parent" in refused.value.details


def test_ensuring_an_existing_unit_keeps_one_row(engine):
    with engine.db.transaction() as session:
        first = units.ensure(session, "戴窑镇", kind="town")
        again = units.ensure(session, "戴窑镇", kind="town", principal="李强")
        assert first.id == again.id and again.principal == "李强"
