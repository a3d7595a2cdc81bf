"""Spreadsheets in the layout an office prints: title row, (merged group) header, borders, A4 landscape.

Used by the rectification ledger, the visit ledger and the integrity file; one layout so every
exported 台账 looks the same on paper.
"""
from __future__ import annotations

import io
import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "宋体"
HEADER_FONT = "黑体"
MIN_WIDTH = 6  # in Excel's character units (one Latin character; a Chinese character takes two)
MAX_WIDTH = 48  # beyond this the cell wraps rather than the column growing off the page
LINE_POINTS = 15.0  # row height per wrapped line at 11 pt
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="E7E6E6")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def text_width(text: str) -> int:
    """Display width of one line: full-width (Chinese) characters count two, others one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def cell_text(value: Any) -> str:
    """What the cell shows, for measuring and for values openpyxl would not store as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return cell_text(value)
    if isinstance(value, (int, float, Decimal, date, datetime)):
        return value
    return str(value)


def safe_sheet_name(name: str) -> str:
    """Excel refuses []:*?/\\ in a sheet name and more than 31 characters."""
    cleaned = _SHEET_NAME_BAD.sub("", name or "").strip("'").strip()
    return cleaned[:31] or "Sheet1"


def _check_groups(group_headers: list[tuple[str, int]], ncols: int) -> None:
    spans = [span for _, span in group_headers]
    if any(not isinstance(span, int) or span < 1 for span in spans) or sum(spans) != ncols:
        raise ValueError(f"表头分组跨列合计 {sum(spans)} 与列数 {ncols} 不符")


def _write_header(ws: Worksheet, row: int, columns: list[str], groups: list[tuple[str, int]] | None) -> int:
    """Write the header from `row`; return the last header row. A one-column group spans both rows."""
    font = Font(name=HEADER_FONT, bold=True, size=11)
    align = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def style(r: int, c: int, value: str) -> None:
        cell = ws.cell(row=r, column=c, value=value)
        cell.data_type = "s"
        cell.font, cell.alignment, cell.border, cell.fill = font, align, _BORDER, _HEADER_FILL

    if not groups:
        for c, name in enumerate(columns, start=1):
            style(row, c, name)
        return row
    col = 1
    for label, span in groups:
        if span == 1 and label in ("", columns[col - 1]):
            style(row, col, columns[col - 1])
            style(row + 1, col, "")
            ws.merge_cells(start_row=row, start_column=col, end_row=row + 1, end_column=col)
        else:
            for c in range(col, col + span):
                style(row, c, label)
                style(row + 1, c, columns[c - 1])
            if span > 1:
                ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)
        col += span
    return row + 1


def _fit_widths(ws: Worksheet, columns: list[str], rows: list[list[Any]]) -> list[int]:
    widths = []
    for c, name in enumerate(columns):
        longest = max([text_width(line) for line in name.splitlines() or [""]] +
                      [text_width(line) for r in rows if c < len(r) for line in cell_text(r[c]).splitlines()])
        width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))
        ws.column_dimensions[get_column_letter(c + 1)].width = width
        widths.append(width)
    return widths


def _lines(text: str, width: int) -> int:
    usable = max(1, width - 1)
    return sum(max(1, math.ceil(text_width(line) / usable)) for line in text.splitlines() or [""])


def _print_setup(ws: Worksheet, header_first: int, header_last: int, last_col: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need, one page across
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_title_rows = f"{header_first}:{header_last}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.freeze_panes = f"A{header_last + 1}"


def workbook_bytes(title: str, columns: list[str], rows: list[list], *,
                   group_headers: list[tuple[str, int]] | None = None, sheet_name: str = "Sheet1",
                   subtitle: str | None = None) -> bytes:
    """An .xlsx of one sheet: merged title row, optional subtitle, (grouped) header, bordered rows.

    Raises ValueError when the group spans do not add up to the columns or a row is longer than the header.
    """
    if not columns:
        raise ValueError("表格没有列")
    if group_headers:
        _check_groups(group_headers, len(columns))
    for n, r in enumerate(rows, start=1):
        if len(r) > len(columns):
            raise ValueError(f"第 {n} 行有 {len(r)} 格，表头只有 {len(columns)} 列")
    ncols = len(columns)
    last_col = get_column_letter(ncols)
    wb = Workbook()
    ws = wb.active
    ws.title = safe_sheet_name(sheet_name)
    widths = _fit_widths(ws, columns, rows)

    ws.cell(row=1, column=1, value=title).data_type = "s"
    ws["A1"].font = Font(name=TITLE_FONT, size=18)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(f"A1:{last_col}1")
    ws.row_dimensions[1].height = 36
    row = 2
    if subtitle:
        ws.cell(row=2, column=1, value=subtitle).data_type = "s"
        ws["A2"].font = Font(name=BODY_FONT, size=10)
        ws["A2"].alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        ws.merge_cells(f"A2:{last_col}2")
        ws.row_dimensions[2].height = LINE_POINTS * _lines(subtitle, sum(widths))
        row = 3
    header_first = row
    header_last = _write_header(ws, row, columns, group_headers)
    header_lines = max(_lines(name, widths[c]) for c, name in enumerate(columns))
    for r in range(header_first, header_last + 1):
        ws.row_dimensions[r].height = LINE_POINTS * header_lines + 6

    body_font = Font(name=BODY_FONT, size=11)
    for r_index, values in enumerate(rows, start=header_last + 1):
        height = 1
        for c in range(ncols):
            value = values[c] if c < len(values) else None
            cell = ws.cell(row=r_index, column=c + 1, value=_cell_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text from forms is never a formula, even when it starts with "="
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            short = isinstance(value, (int, float, Decimal, date)) or len(cell_text(value)) <= 4
            cell.alignment = Alignment(horizontal="center" if short else "left", vertical="center", wrap_text=True)
            cell.font, cell.border = body_font, _BORDER
            height = max(height, _lines(cell_text(value), widths[c]))
        ws.row_dimensions[r_index].height = LINE_POINTS * height + 3
    _print_setup(ws, header_first, header_last, last_col)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
