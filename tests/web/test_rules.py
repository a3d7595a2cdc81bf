"""决策规则: the deployed decision tables, readable by the offices that act on them."""
from __future__ import annotations

from html import unescape

import pytest

from tests.conftest import make_engine


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    make_engine(url)
    from web import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "TESTING": True, "WTF_CSRF_ENABLED": False})


def signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo"}).status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_organization_department_reads_the_must_audit_rules_in_order(app):
    client = signed_in(app, "organization")
    listing = text(client.get("/rules/"))
    for name in ("是否必须联审（必审对象）", "经济责任扣分的处理（廉政监督卡）", "联审综合评价等次"):
        assert name in listing
    assert 'href="/rules/"' in text(client.get("/"))  # in the nav of those who oversee
    assert 'href="/rules/"' not in text(signed_in(app, "unit").get("/"))
    page = text(client.get("/rules/audit_required"))
    assert page.index("因任期届满离任：离任必审") < page.index("在县级市（区）、镇（街道）同一职位任职满3年：必审") \
        < page.index("A类单位两年一审") < page.index("不属于必审情形")
    assert "同一职位任职整年数" in page and "≥ 3" in page and "县级市（区）、乡镇（街道）" in page
    assert "term_ended" not in page and "任期届满" in page


def test_an_unknown_table_is_404_and_signing_in_is_required(app):
    assert signed_in(app, "organization").get("/rules/nope").status_code == 404
    assert app.test_client().get("/rules/").status_code == 302
