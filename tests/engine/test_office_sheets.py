"""The office spreadsheet layout: what a clerk sees when the ledger is opened or printed."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from handlers.office_sheets import safe_sheet_name, workbook_bytes

COLUMNS = ["序号", "问题", "整改措施", "责任人", "时限", "进度"]


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_title_header_rows_and_print_layout():
    rows = [[1, "超编进人 3 名，未按规定报批", "清退编外人员", "张伟", date(2026, 12, 31), "整改中"],
            [2, "违规发放津补贴", "追回已发放款项并建立审批制度，" * 4, "李娜", date(2027, 1, 15), "已销号"]]
    ws = _sheet(workbook_bytes("整改台账", COLUMNS, rows, sheet_name="整改台账", subtitle="兴化市某局　导出日期：2026-12-02"))
    assert ws.title == "整改台账"
    assert ws["A1"].value == "整改台账" and "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value.startswith("兴化市某局")
    assert [c.value for c in ws[3]] == COLUMNS
    assert ws["B4"].value == "超编进人 3 名，未按规定报批"
    assert ws["E4"].value.date() == date(2026, 12, 31) and ws["E4"].number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == "$3:$3"
    for cell in ws[5]:
        assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
    # Chinese text is twice as wide as Latin: the 问题 column is wide enough for its 14 characters
    assert ws.column_dimensions["B"].width >= 2 * len("超编进人，未按规定报批")
    # long measures wrap inside a capped column and the row grows to show them
    assert ws.column_dimensions["C"].width <= 48
    assert ws["C5"].alignment.wrap_text and ws.row_dimensions[5].height > ws.row_dimensions[4].height


def test_group_headers_merge_across_and_down():
    groups = [("序号", 1), ("问题", 1), ("整改情况", 3), ("", 1)]
    ws = _sheet(workbook_bytes("回访台账", COLUMNS, [[1, "a", "b", "c", "d", "e"]], group_headers=groups))
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A2:A3", "B2:B3", "C2:E2", "F2:F3"} <= merged
    assert ws["C2"].value == "整改情况" and [ws.cell(3, c).value for c in (3, 4, 5)] == ["整改措施", "责任人", "时限"]
    assert ws["F2"].value == "进度"
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$2:$3"


def test_text_that_looks_like_a_formula_stays_text():
    ws = _sheet(workbook_bytes("台账", ["说明"], [["=HYPERLINK(\"http://x\",\"点我\")"], [None], [True]]))
    assert ws["A3"].data_type == "s" and ws["A3"].value.startswith("=HYPERLINK")
    assert ws["A4"].value in (None, "") and ws["A5"].value == "是"


def test_bad_layout_is_refused_clearly():
    with pytest.raises(ValueError, match="跨列合计 4 与列数 6"):
        workbook_bytes("台账", COLUMNS, [], group_headers=[("问题", 4)])
    with pytest.raises(ValueError, match="第 1 行有 7 格"):
        workbook_bytes("台账", COLUMNS, [[1, 2, 3, 4, 5, 6, 7]])


def test_sheet_names_excel_accepts():
    assert safe_sheet_name("整改台账[2026]/兴化:*?") == "整改台账2026兴化"
    assert len(safe_sheet_name("很" * 40)) == 31
    assert safe_sheet_name("") == "Sheet1"
