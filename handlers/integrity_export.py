"""One cadre's integrity file (廉政档案) as the office files it: an Excel ledger and a Word record (.docx)."""
from __future__ import annotations

import io
from typing import Any

from .demerits import DemeritYear
from .findings import DUTY_NAMES
from .integrity_file import CadreFile, CaseEntry, Sanction
from .ledger import ITEM_STATUS_NAMES, SEVERITY_NAMES
from .office_sheets import workbook_bytes

COLUMNS = ["序号", "类别", "时间", "事项", "情况", "结果"]
BODY_FONT, HEADING_FONT = "仿宋_GB2312", "黑体"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def case_situation(case: CaseEntry) -> str:
    scores = (f"用人 {_score(case.scores['personnel'])}，用编 {_score(case.scores['establishment'])}，"
              f"用财 {_score(case.scores['finance'])}，综合 {_score(case.scores['overall'])}")
    grade = f"，评价等次：{case.grade}" if case.grade else ""
    if not case.findings:
        return f"{scores}{grade}；未发现问题"
    lines = [f"{f.get('item_no', i + 1)}. {f.get('description', '')}（{DUTY_NAMES.get(f.get('duty', ''), '')}，"
             f"{SEVERITY_NAMES.get(f.get('severity', ''), '')}）" + ("【屡查屡犯】" if f.get("repeated") else "")
             + ("【挂牌督办】" if f.get("listed") else "") + (f"：{ITEM_STATUS_NAMES[f['status']]}" if f.get("status") in ITEM_STATUS_NAMES else "")
             for i, f in enumerate(case.findings)]
    return f"{scores}{grade}；问题 {len(case.findings)} 项（重大 {case.major_count} 项）：\n" + "\n".join(lines)


def case_result(case: CaseEntry) -> str:
    parts = [f"整改 {case.rounds} 轮", f"已销号 {case.items_closed} 项", f"未销号 {case.items_open} 项"]
    if case.repeated:
        parts.append(f"屡查屡犯 {case.repeated} 项")
    if case.listed:
        parts.append(f"挂牌督办 {case.listed} 项")
    status = "已归档" if case.archived else "办理中"
    return "，".join(parts) + (f"；结论：{case.conclusion}" if case.conclusion else "") + f"（{status}）"


def case_when(case: CaseEntry) -> str:
    return f"{case.started_on.isoformat()} 至 {case.completed_on.isoformat() if case.completed_on else '今'}"


def demerit_matter(year: DemeritYear) -> str:
    return f"年度累计扣分 {year.points:g} 分（连续两年 {year.two_years:g} 分，连续三年 {year.three_years:g} 分）"


def sanction_result(sanction: Sanction, file: CadreFile) -> str:
    ban = sanction.ban_text()
    if not ban:
        return "无影响期"
    return ban + ("（影响期内）" if sanction.ban_running(file.today) else "（已期满）")


def sanction_situation(sanction: Sanction) -> str:
    ground = f"（{sanction.ground_name}）" if sanction.ground else ""
    return sanction.reason + ground


def rows(file: CadreFile) -> list[list[Any]]:
    """The ledger rows: joint audits, then demerit years, then accountability, each numbered."""
    out: list[list[Any]] = []
    for case in file.cases:
        out.append(["联审", case_when(case), f"{case.title}（{case.audit_type_name}）", case_situation(case), case_result(case)])
    for year in file.demerits:
        entries = [f"{e.points:g} 分 {e.reason}" for e in file.entries if e.year == year.year]
        out.append(["扣分", f"{year.year} 年度", demerit_matter(year), "\n".join(entries) or "无扣分",
                    f"{year.consequence_name}（{year.reason}）"])
    for sanction in file.sanctions:
        out.append(["问责", sanction.decided_on.isoformat(), sanction.outcome_name, sanction_situation(sanction),
                    sanction_result(sanction, file)])
    return [[n, *row] for n, row in enumerate(out, start=1)]


def facts(file: CadreFile) -> list[tuple[str, str]]:
    p = file.person
    return [("姓名", p.name), ("身份证号", p.id_number), ("职务", p.post or "—"), ("单位", p.unit or "—"),
            ("单位层级", file.unit_level_name or "—"),
            ("任现职时间", p.in_post_since.isoformat() if p.in_post_since else "—")]


def xlsx_bytes(file: CadreFile) -> bytes:
    title = f"廉政档案（{file.person.name}）"
    subtitle = "　".join(f"{k}：{v}" for k, v in facts(file)) + f"　导出日期：{file.today.isoformat()}"
    return workbook_bytes(title, COLUMNS, rows(file), sheet_name="廉政档案", subtitle=subtitle)


# --- Word ---------------------------------------------------------------------------------------
def _east_asian(run_or_style, name: str) -> None:
    """Word picks the Chinese font from w:eastAsia; python-docx's font.name sets only the Latin one."""
    from docx.oxml.ns import qn

    run_or_style.font.name = name
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)


def _heading(doc, text: str, size: int = 16):
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(12)
    paragraph.paragraph_format.keep_with_next = True
    run = paragraph.add_run(text)
    _east_asian(run, HEADING_FONT)
    run.font.size = Pt(size)
    return paragraph


def _table(doc, header: list[str] | None, data: list[list[str]], widths_cm: list[float]):
    """A bordered table; its header row (in 黑体) repeats on every page the table runs onto."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=0, cols=len(widths_cm))
    table.style = "Table Grid"
    table.autofit = False
    if header:
        cells = table.add_row().cells
        for cell, text in zip(cells, header):
            run = cell.paragraphs[0].add_run(text)
            _east_asian(run, HEADING_FONT)
            run.font.size = Pt(12)
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for row in data:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.paragraphs[0].add_run(str(text)).font.size = Pt(12)  # 小四 in tables, 四号 in the text
    for column, width in zip(table.columns, widths_cm):  # the grid (LibreOffice) and each cell (Word)
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    return table


def docx_bytes(file: CadreFile) -> bytes:
    """A plain record: title 廉政档案, the person's facts, then joint audits, demerit points, accountability."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = Cm(3.7), Cm(3.5), Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    _east_asian(normal, BODY_FONT)
    normal.font.size = Pt(14)  # 四号
    title = _heading(doc, "廉政档案", 22)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pairs = facts(file)
    _table(doc, None, [[*pairs[i], *pairs[i + 1]] for i in range(0, len(pairs), 2)], [2.6, 4.6, 2.6, 5.8])

    _heading(doc, "一、联审情况")
    if not file.cases:
        doc.add_paragraph("无联审记录。")
    for n, case in enumerate(file.cases, start=1):
        doc.add_paragraph(f"{n}. {case.title}（{case.audit_type_name}，{case_when(case)}）")
        doc.add_paragraph(case_situation(case))
        doc.add_paragraph("整改情况：" + case_result(case))

    _heading(doc, "二、经济责任扣分")
    if file.demerits:
        _table(doc, ["年度", "累计扣分", "连续两年", "连续三年", "处理", "依据"],
               [[str(y.year), f"{y.points:g}", f"{y.two_years:g}", f"{y.three_years:g}", y.consequence_name, y.reason]
                for y in file.demerits], [1.8, 2.1, 2.1, 2.1, 4.1, 3.4])
    else:
        doc.add_paragraph("无扣分记录。")

    _heading(doc, "三、问责处理")
    if file.sanctions:
        _table(doc, ["处理日期", "处理方式", "事由", "影响期"],
               [[s.decided_on.isoformat(), s.outcome_name, sanction_situation(s), sanction_result(s, file)]
                for s in file.sanctions], [3.0, 2.6, 5.6, 4.4])
    else:
        doc.add_paragraph("无问责记录。")
    doc.add_paragraph(f"导出日期：{file.today.isoformat()}").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
