"""The layout of GB/T 9704-2012 (党政机关公文格式) in python-docx: page, fonts, 版头, 主体, 版记, page numbers.

版心 156 mm × 225 mm on A4 (top 37, bottom 35, left 28, right 26 mm); the body is 3号仿宋 on 22 lines of
28 characters: an exact line pitch of 28.95 pt and characters condensed by 0.25 pt (16 pt − 0.25 = 15.75 pt,
28 of them fit the 442 pt line) so Word and LibreOffice break lines alike without relying on the document grid.
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor, Twips

RED = RGBColor(0xFF, 0x00, 0x00)
FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"

SIZE_2 = Pt(22)  # 二号: the title
SIZE_3 = Pt(16)  # 三号: the body
SIZE_4 = Pt(14)  # 四号: page numbers and 版记
LINE_PITCH = Twips(579)  # 28.95 pt: 22 lines fill the 225 mm of the 版心
CONDENSE = -5  # twentieths of a point: 16 pt characters at a 15.75 pt pitch, 28 to the 156 mm line
CHAR = Twips(315)  # one body character (15.75 pt)
LINE_CHARS = 28


# OOXML requires child elements in schema order (Word reports a damaged file otherwise)
_RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                      "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                      "w:specVanish", "w:oMath")
_RPR_AFTER_FONTS = ("w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike", "w:dstrike", "w:outline",
                    "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden",
                    "w:color", "w:spacing") + _RPR_AFTER_SPACING
_PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                     "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
                     "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                     "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                     "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def east_asian(run, name: str, latin: str = LATIN) -> None:
    """Word picks the Chinese face from w:eastAsia; python-docx's font.name sets only the Latin ones."""
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert_element_before(fonts, *_RPR_AFTER_FONTS)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _condense(run, twentieths: int = CONDENSE) -> None:
    rpr = run._element.get_or_add_rPr()
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(twentieths))
    rpr.insert_element_before(spacing, *_RPR_AFTER_SPACING)


def text_chars(text: str) -> float:
    """Width in body characters: a full-width character is one, a half-width digit or letter one half."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.5 for c in text)


def official_date(day: date) -> str:
    """成文日期 in Arabic numerals, no leading zeros (GB/T 9704-2012 7.3.5.1): 2026年12月2日."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class Masthead:
    """版头: the issuing organs (one per line when joint), whether 文件 follows, and the 发文字号."""

    organs: list[str]
    number: str
    file_mark: bool = True  # "…文件" for 文件格式; a letter (函) or notice shows the organs only


@dataclass
class Colophon:
    """版记: 抄送, 印发机关 and 印发日期."""

    copies_to: list[str]
    printed_by: str
    printed_on: date


@dataclass
class Signature:
    organs: list[str]
    on: date


@dataclass
class OfficialDoc:
    """A document being written: call the body methods in order, then `bytes()`."""

    masthead: Masthead
    document: object = field(init=False)
    title_text: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.document = Document()
        self._page()
        self._styles()
        self._masthead()

    # --- page and styles ----------------------------------------------------------------
    def _page(self) -> None:
        section = self.document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance = Mm(15)
        section.footer_distance = Mm(21)  # the page number's "一字线" sits about 7 mm below the 版心
        grid = section._sectPr.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            section._sectPr.append(grid)
        grid.set(qn("w:linePitch"), str(LINE_PITCH.twips))
        self._page_numbers(section)

    def _styles(self) -> None:
        normal = self.document.styles["Normal"]
        normal.font.size = SIZE_3
        normal.font.name = LATIN
        rpr = normal.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert_element_before(fonts, *_RPR_AFTER_FONTS)
        for attr, name in (("w:ascii", LATIN), ("w:hAnsi", LATIN), ("w:eastAsia", FANGSONG)):
            fonts.set(qn(attr), name)
        fmt = normal.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28.95)
        fmt.widow_control = True
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
        self.document.core_properties.language = "zh-CN"

    def _page_numbers(self, section) -> None:
        """页码: 4号半角宋体 "— 1 —"; odd pages right, even pages left, one character in from the edge."""
        self.document.settings.odd_and_even_pages_header_footer = True
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            p = footer.paragraphs[0]
            p.alignment = align
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                p.paragraph_format.right_indent = Pt(14)
            else:
                p.paragraph_format.left_indent = Pt(14)
            self._run(p, "— ", SONGTI, SIZE_4, latin=SONGTI)
            self._field(p, "PAGE")
            self._run(p, " —", SONGTI, SIZE_4, latin=SONGTI)

    def _field(self, paragraph, instruction: str) -> None:
        def piece(tag: str, **attrs: str):
            run = paragraph.add_run()
            east_asian(run, SONGTI, SONGTI)
            run.font.size = SIZE_4
            el = OxmlElement(tag)
            for k, v in attrs.items():
                el.set(qn(k), v)
            if tag == "w:instrText":
                el.set(qn("xml:space"), "preserve")
                el.text = f" {instruction} "
            run._element.append(el)
            return run

        piece("w:fldChar", **{"w:fldCharType": "begin"})
        piece("w:instrText")
        piece("w:fldChar", **{"w:fldCharType": "separate"})
        number = paragraph.add_run("1")
        east_asian(number, SONGTI, SONGTI)
        number.font.size = SIZE_4
        piece("w:fldChar", **{"w:fldCharType": "end"})

    # --- building blocks ------------------------------------------------------------------
    def _run(self, paragraph, text: str, font: str = FANGSONG, size=SIZE_3, *, bold: bool = False,
             color: RGBColor | None = None, latin: str = LATIN, condense: bool = False):
        run = paragraph.add_run(text)
        east_asian(run, font, latin)
        run.font.size = size
        run.bold = bold
        if color is not None:
            run.font.color.rgb = color
        if condense:
            _condense(run)
        return run

    def _paragraph(self, align=WD_ALIGN_PARAGRAPH.JUSTIFY, *, first_line: bool = False, line: Pt | None = None,
                   before: Pt | None = None, after: Pt | None = None, keep_next: bool = False):
        p = self.document.add_paragraph()
        p.alignment = align
        fmt = p.paragraph_format
        if first_line:
            fmt.first_line_indent = Emu(CHAR * 2)
        if line is not None:
            fmt.line_spacing = line
        if before is not None:
            fmt.space_before = before
        if after is not None:
            fmt.space_after = after
        fmt.keep_with_next = keep_next
        return p

    def _border(self, paragraph, edge: str, size_eighths: int, color: str = "FF0000", space: int = 0) -> None:
        ppr = paragraph._p.get_or_add_pPr()
        borders = ppr.find(qn("w:pBdr"))
        if borders is None:
            borders = OxmlElement("w:pBdr")
            ppr.insert_element_before(borders, *_PPR_AFTER_BORDER)
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), str(size_eighths))
        line.set(qn("w:space"), str(space))
        line.set(qn("w:color"), color)
        borders.append(line)

    def blank(self, lines: int = 1) -> None:
        for _ in range(lines):
            self._paragraph()

    # --- 版头 -------------------------------------------------------------------------------
    def _masthead(self) -> None:
        m = self.masthead
        self._paragraph(line=Pt(12), before=Mm(12))  # the 份号/密级 area left empty: the mark stands lower
        if len(m.organs) == 1:
            p = self._paragraph(WD_ALIGN_PARAGRAPH.CENTER, line=Pt(62))
            self._run(p, m.organs[0] + ("文件" if m.file_mark else ""), XIAOBIAOSONG, Pt(42 if m.file_mark else 36),
                      color=RED, latin=XIAOBIAOSONG)
        else:
            self._joint_mark(m.organs, m.file_mark)
        self._paragraph(line=Pt(28.95))
        self._paragraph(line=Pt(28.95))  # 发文机关标志下空二行
        number = self._paragraph(WD_ALIGN_PARAGRAPH.CENTER, after=Mm(4))
        self._run(number, m.number)
        # the red separator: as wide as the 版心, 4 mm below the 发文字号
        self._border(number, "bottom", 18, space=12)
        self._paragraph(line=Pt(28.95))
        self._paragraph(line=Pt(28.95))  # 分隔线下空二行 before the title

    def _joint_mark(self, organs: list[str], file_mark: bool) -> None:
        """Joint organs one per line, evenly spread to one width, 文件 to their right, centred on them."""
        widest = max(text_chars(o) for o in organs)
        room = 156 - (40 if file_mark else 0) - 4  # mm for the names: 文件 takes 40, the cell margins 4
        size = Pt(min(30, int(room / 0.3528 / widest)))
        table = self.document.add_table(rows=1, cols=2 if file_mark else 1)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        organs_width = Mm(min(156 - (40 if file_mark else 0), widest * size.pt * 0.3528 + 5))
        widths = [organs_width] + ([Mm(156) - organs_width] if file_mark else [])
        self._fixed_widths(table, widths)
        left = table.rows[0].cells[0]
        left.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        for i, organ in enumerate(organs):
            p = left.paragraphs[0] if i == 0 else left.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
            p.paragraph_format.line_spacing = Pt(size.pt * 1.35)
            self._run(p, organ, XIAOBIAOSONG, size, color=RED, latin=XIAOBIAOSONG)
        if file_mark:
            right = table.rows[0].cells[1]
            right.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = right.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.line_spacing = Pt(60)
            self._run(p, "文件", XIAOBIAOSONG, Pt(42), color=RED, latin=XIAOBIAOSONG)

    def _fixed_widths(self, table, widths) -> None:
        """Widths on the grid and on each cell, with a fixed layout: Word and LibreOffice then agree."""
        tbl_pr = table._tbl.tblPr
        table.autofit = False  # w:tblLayout fixed
        grid = table._tbl.tblGrid
        for col, width in zip(grid.findall(qn("w:gridCol")), widths):
            col.set(qn("w:w"), str(Emu(int(width)).twips))
        for row in table.rows:
            for cell, width in zip(row.cells, widths):
                cell.width = Emu(int(width))
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), "nil")
            borders.append(el)
        tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                     "w:tblDescription", "w:tblPrChange")

    # --- 主体 -------------------------------------------------------------------------------
    def title(self, *lines: str) -> None:
        """标题: 2号小标宋, centred; given as its lines, so a long title breaks where the words allow (梯形)."""
        self.title_text = "".join(lines)
        p = self._paragraph(WD_ALIGN_PARAGRAPH.CENTER, line=Pt(35), keep_next=True)
        for i, line in enumerate(lines):
            run = self._run(p, line, XIAOBIAOSONG, SIZE_2, latin=XIAOBIAOSONG)
            if i < len(lines) - 1:
                run.add_break()
        self._paragraph()  # 标题下空一行

    def addressee(self, text: str) -> None:
        """主送机关: flush left, ending with a full-width colon."""
        p = self._paragraph(WD_ALIGN_PARAGRAPH.LEFT)
        self._run(p, text.rstrip("：:") + "：", condense=True)

    def para(self, text: str) -> None:
        p = self._paragraph(first_line=True)
        self._run(p, text, condense=True)

    def heading(self, text: str, level: int = 1) -> None:
        """一、黑体 (first level), （一）楷体 (second), 1. 仿宋 bold (third)."""
        font, bold = {1: (HEITI, False), 2: (KAITI, False)}.get(level, (FANGSONG, True))
        p = self._paragraph(first_line=True, keep_next=True)
        self._run(p, text, font, bold=bold, condense=True)

    def lead_para(self, lead: str, text: str, level: int = 2) -> None:
        """A paragraph that opens with its heading on the same line: （一）用人方面。text…"""
        font, bold = {1: (HEITI, False), 2: (KAITI, False)}.get(level, (FANGSONG, True))
        p = self._paragraph(first_line=True)
        self._run(p, lead, font, bold=bold, condense=True)
        self._run(p, text, condense=True)

    def signature(self, sign: Signature) -> None:
        """落款 without a seal (7.3.5.3): 正文下空一行, 署名右空二字, the date one line down two characters to the right."""
        self._paragraph()
        widest = max(text_chars(o) for o in sign.organs)
        start = LINE_CHARS - 2 - widest
        for organ in sign.organs:
            p = self._paragraph(WD_ALIGN_PARAGRAPH.LEFT, keep_next=True)
            p.paragraph_format.left_indent = Emu(int(CHAR * start))
            self._run(p, organ, condense=True)
        when = official_date(sign.on)
        p = self._paragraph(WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.left_indent = Emu(int(CHAR * min(start + 2, LINE_CHARS - text_chars(when))))
        self._run(p, when, condense=True)

    def note(self, label: str, text: str) -> None:
        """附注 or 联系人 lines: 左空二字, in parentheses."""
        p = self._paragraph(first_line=True)
        self._run(p, f"（{label}：{text}）", condense=True)

    # --- 版记 -------------------------------------------------------------------------------
    def colophon(self, c: Colophon) -> None:
        """版记 after the 落款: a thick line, 抄送, a thin line, 印发机关 and 印发日期, a thick line (4号仿宋)."""
        self._paragraph(line=Pt(28.95))
        rows = 2 if c.copies_to else 1
        table = self.document.add_table(rows=rows, cols=1)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        self._fixed_widths(table, [Mm(156)])
        # not floated to the page foot: LibreOffice turns a floating table into a frame it misplaces
        cells = [r.cells[0] for r in table.rows]
        _cell_border(cells[0], "top", 8)  # 0.35 mm (thick) first line
        _cell_border(cells[-1], "bottom", 8)
        if c.copies_to:
            _cell_border(cells[0], "bottom", 4)  # 0.25 mm (thin) between
            p = cells[0].paragraphs[0]
            p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(14)
            p.paragraph_format.line_spacing = Pt(28)
            self._run(p, "抄送：", size=SIZE_4)
            self._run(p, "，".join(c.copies_to) + "。", size=SIZE_4)
        p = cells[-1].paragraphs[0]
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(14)
        p.paragraph_format.line_spacing = Pt(28)
        tabs = p.paragraph_format.tab_stops
        tabs.add_tab_stop(Mm(156) - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
        self._run(p, c.printed_by, size=SIZE_4)
        self._run(p, "\t" + official_date(c.printed_on) + "印发", size=SIZE_4)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()


def _cell_border(cell, edge: str, eighths: int) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.insert_element_before(borders, "w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText",
                                    "w:vAlign", "w:hideMark")
    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(eighths))
    el.set(qn("w:space"), "0")
    el.set(qn("w:color"), "000000")
    borders.append(el)
