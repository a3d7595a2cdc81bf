"""单位管理: the offices see the unit tree; the organization department and the leading office add units and
import a sheet, which lands whole or, with a wrong row, not at all and names the row."""
from __future__ import annotations

import io
from html import unescape

import pytest
from openpyxl import Workbook

from handlers import units
from tests.conftest import make_engine


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path}/u.db"
    eng = make_engine(url)
    with eng.db.transaction() as s:
        units.ensure(s, "省高管局", kind="province_dept")
    from web import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})


def login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def sheet(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_leading_office_imports_a_tree_whose_children_come_before_their_parents(app):
    client = login(app, "leading_office")
    content = sheet([["单位名称", "上级单位", "类别", "主要负责人"],
                     ["大桥局养护科", "大桥局", "处室（科室）", ""],
                     ["大桥局", "省高管局", "局（委、办）", "郭小军"],
                     ["随岳管理处", "省高管局", "基层单位", ""]])
    done = client.post("/units/import", data={"sheet": (io.BytesIO(content), "units.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True)
    page = text(done)
    assert "已导入 3 个单位" in page
    assert page.index("省高管局") < page.index("大桥局") < page.index("大桥局养护科")
    assert "郭小军" in page


def test_a_sheet_with_a_wrong_row_imports_nothing_and_names_the_row(app):
    client = login(app, "organization")
    content = sheet([["单位名称", "上级单位", "类别"], ["甲单位", "省高管局", "基层单位"], ["乙单位", "不存在的局", ""],
                     ["丙单位", "", "司令部"]])
    refused = client.post("/units/import", data={"sheet": (io.BytesIO(content), "units.xlsx")},
                          content_type="multipart/form-data")
    page = text(refused)
    assert refused.status_code == 400 and "未导入任何单位" in page
    assert "第 3 行" in page and "不存在的局" in page and "第 4 行" in page and "司令部" in page
    assert "甲单位" not in text(client.get("/units/"))


def test_adding_a_unit_and_stopping_it(app):
    client = login(app, "organization")
    added = client.post("/units/", data={"name": "戴窑镇", "parent": "省高管局", "kind": "town", "principal": "李强"},
                        follow_redirects=True)
    assert "已添加单位：戴窑镇" in text(added)
    again = client.post("/units/", data={"name": "戴窑镇"})
    assert again.status_code == 400 and "已有同名单位" in text(again)
    with app.extensions["duban"].db.reading() as s:
        unit_id = units.by_name(s, "戴窑镇").id
    client.post(f"/units/{unit_id}/active", data={"active": "0"})
    with app.extensions["duban"].db.reading() as s:
        assert units.names(units.all_active(s)) == ["省高管局"]


@pytest.mark.parametrize("username,status", [("unit", 403), ("supervisor", 200), ("discipline", 200)])
def test_unit_clerks_see_no_tree_and_only_keepers_change_it(app, username, status):
    client = login(app, username)
    assert client.get("/units/").status_code == status
    assert client.post("/units/", data={"name": "新单位"}).status_code == 403
