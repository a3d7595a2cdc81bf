"""How cases are titled in inboxes and lists: a cadre's by name and post, others by their process's caseTitle."""
from __future__ import annotations

from engine.runtime import _title


def test_a_cadres_case_reads_name_post_and_unit():
    assert _title({"cadre_name": "张伟", "post": "镇党委书记", "unit": "戴窑镇"}, "三责联审") == "张伟 镇党委书记 （戴窑镇）"


def test_a_process_title_template_reads_only_the_start_datas_plain_values():
    data = {"complaint_id": 6, "complaint_unit": "省人社厅", "cadre_name": "王某", "nested": {"a": 1}}
    assert _title(data, "信访举报办理", "信访举报第{complaint_id}号（{complaint_unit}）") == "信访举报第6号（省人社厅）"
    # nothing but a field's own value: no attributes, no nesting, no formatting
    assert _title(data, "信访举报办理", "{__class__}{nested}{complaint_id.real}{complaint_id!r}") \
        == "{complaint_id.real}{complaint_id!r}"
    assert _title({}, "信访举报办理", "{missing}") == "信访举报办理"


def test_a_title_that_names_its_unit_is_not_followed_by_it_again():
    assert _title({"title": "活动（省审计厅）", "unit": "省审计厅"}, "治庸问责") == "活动（省审计厅）"
