"""Reading the cadre roster (干部花名册) an organization department keeps in Excel: .xlsx, or CSV as Excel saves it
(UTF-8 with or without BOM, GBK, or "Unicode text" = UTF-16 with tabs).

Every problem names the row as the office sees it in Excel (the header is row 1), the column by its Chinese
header, and the reason. Parsing writes nothing; `Roster.clean` says whether the file may be imported whole.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Iterator

from ..cadres import LEAVING_REASONS, UNIT_CLASSES, UNIT_LEVELS, id_number_problem, normalize_id_number

MAX_ROWS = 20000  # far more principal leaders than any city has; a bigger file is a mistake, not a roster


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header the office's template uses
    required: bool = False
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("name", "姓名", True),
    Column("id_number", "身份证号", True, ("身份证号码", "公民身份号码", "身份证")),
    Column("post", "职务", True, ("现任职务", "现职务")),
    Column("unit", "单位", True, ("所在单位", "工作单位", "单位名称")),
    Column("unit_level", "单位层级", True, ("单位级别", "层级")),
    Column("unit_class", "单位类别", False, ("审计类别", "类别", "单位类别（A/B/C）")),
    Column("in_post_since", "任现职时间", True, ("任现职日期", "任职时间", "任职日期", "任现职务时间")),
    Column("leaving_date", "离任日期", False, ("离任时间",)),
    Column("leaving_reason", "离任原因", False),
    Column("last_audit_date", "上次审计日期", False, ("上次审计时间", "上次经济责任审计日期", "最近审计日期")),
    Column("unit_principal", "单位主要负责人", False, ("主要负责人", "继任者")),
    Column("unit_deputy", "分管负责人", False, ("分管领导",)),
)
HEADERS = {c.key: c.header for c in COLUMNS}
_BY_NAME = {_n: c for c in COLUMNS for _n in (c.header, *c.aliases)}

# The unit levels and leaving reasons by the names an office writes; the codes themselves are accepted too.
_LEVEL_NAMES = {zh: code for code, (zh, _en) in UNIT_LEVELS.items()} | {
    "乡镇": "town", "镇": "town", "乡": "town", "街道": "town", "乡镇（街道）": "town", "镇（街道）": "town",
    "县级市": "county", "区": "county", "县级市（区）": "county", "县（市、区）": "county",
    "市级机关部门": "municipal_dept", "市级部门": "municipal_dept", "市级机关": "municipal_dept",
    "县级机关部门": "county_dept", "县级部门": "county_dept", "县级机关": "county_dept",
    "直属事业单位": "institution", "人民团体": "institution", "事业单位": "institution",
}
_REASON_NAMES = {zh: code for code, (zh, _en) in LEAVING_REASONS.items()}


@dataclass
class RowProblem:
    row: int  # as Excel numbers it: the header is row 1
    column: str  # the Chinese header, "" for the whole row or file
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        return f"{where}{'「' + self.column + '」' if self.column else ''}：{self.message}"


@dataclass
class RosterRow:
    """One cadre as the roster states them; the attribute names are Person's."""

    row: int
    name: str
    id_number: str
    post: str
    unit: str
    unit_level: str
    unit_class: str
    in_post_since: date
    leaving_date: date | None
    leaving_reason: str
    last_audit_date: date | None
    unit_principal: str = ""
    unit_deputy: str = ""

    def as_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


@dataclass
class Roster:
    filename: str
    rows: list[RosterRow] = field(default_factory=list)  # the rows without problems
    problems: list[RowProblem] = field(default_factory=list)
    total_rows: int = 0  # non-empty data rows read
    header_row: int = 1

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row})

    @property
    def file_problems(self) -> list[RowProblem]:
        """Problems no skipping gets past: the file cannot be read, or its header is wrong."""
        return [p for p in self.problems if p.row == 0]


def restrict_to_units(roster: Roster, in_scope) -> None:
    """A clerk limited to units imports the people of those units only: other rows become bad rows."""
    outside = [row for row in roster.rows if not in_scope(row.unit)]
    if outside:
        roster.problems.extend(RowProblem(row.row, HEADERS["unit"], f"您无权导入单位 {row.unit} 的干部")
                               for row in outside)
        roster.rows = [row for row in roster.rows if in_scope(row.unit)]
        roster.problems.sort(key=lambda p: p.row)


class RosterUnreadable(Exception):
    pass


# --- reading the file -------------------------------------------------------------------------------
def read_roster(content: bytes, filename: str = "", today: date | None = None) -> Roster:
    """Parse and check a roster file; never raises for bad content, every problem is in `Roster.problems`."""
    roster = Roster(filename=filename)
    try:
        cells = list(_cells(content, filename))
    except RosterUnreadable as err:
        roster.problems.append(RowProblem(0, "", str(err)))
        return roster
    _check(cells, roster, today or date.today())
    return roster


def _cells(content: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    """(Excel row number, cell values) of every row of the first sheet."""
    if not content:
        raise RosterUnreadable("文件为空")
    if content[:4] == b"PK\x03\x04":
        yield from _xlsx_cells(content)
    elif content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise RosterUnreadable("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    else:
        yield from _csv_cells(content)


cells_of = _cells  # for other sheets read the same way (the unit tree)


def _xlsx_cells(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as err:  # zip, XML or openpyxl errors: a damaged or foreign file either way
        raise RosterUnreadable(f"无法读取 Excel 文件（{type(err).__name__}），请确认是 .xlsx 格式")
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 10:
                raise RosterUnreadable(f"行数超过 {MAX_ROWS}，请分批导入")
            yield number, list(row)
    finally:
        book.close()


def _decode(content: bytes) -> str:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")  # GBK as Chinese Excel saves CSV, and its superset
    except UnicodeDecodeError:
        raise RosterUnreadable("无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx")


def _csv_cells(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(content)
    if "\x00" in text:
        raise RosterUnreadable("文件不是文本格式的 CSV，也不是 .xlsx")
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;，", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            if number > MAX_ROWS + 10:
                raise RosterUnreadable(f"行数超过 {MAX_ROWS}，请分批导入")
            yield number, row
    except csv.Error as err:
        raise RosterUnreadable(f"CSV 格式有误（第 {reader.line_num} 行）：{err}")


# --- checking the rows ------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header_key(value: Any) -> str:
    text = re.sub(r"\s+", "", _text(value)).replace("(", "（").replace(")", "）").lstrip("*")
    return text


def _find_header(cells: list[tuple[int, list[Any]]]) -> tuple[int, dict[str, int]] | None:
    """The header row (the first of the first five rows naming 姓名 and 身份证号) and column key -> index.
    Offices put a title row above the header now and then; row numbers stay Excel's either way."""
    for number, row in cells[:5]:
        found: dict[str, int] = {}
        for index, value in enumerate(row):
            column = _BY_NAME.get(_header_key(value))
            if column is not None and column.key not in found:
                found[column.key] = index
        if "name" in found and "id_number" in found:
            return number, found
    return None


def _check(cells: list[tuple[int, list[Any]]], roster: Roster, today: date) -> None:
    located = _find_header(cells)
    if located is None:
        roster.problems.append(RowProblem(0, "", "找不到表头：第 1 行应为列名（姓名、身份证号、职务、单位、单位层级……）"))
        return
    header_row, columns = located
    roster.header_row = header_row
    missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
    if missing:
        roster.problems.append(RowProblem(0, "", f"缺少必需的列：{'、'.join(missing)}（表头在第 {header_row} 行）"))
        return
    seen: dict[str, int] = {}
    for number, values in cells:
        if number <= header_row or not any(_text(v) for v in values):
            continue
        roster.total_rows += 1
        raw = {key: (values[index] if index < len(values) else None) for key, index in columns.items()}
        problems: list[RowProblem] = []
        row = _row(number, raw, problems, today)
        if row is not None and not problems:
            first = seen.get(row.id_number)
            if first is not None:
                problems.append(RowProblem(number, HEADERS["id_number"], f"与第 {first} 行是同一人（身份证号重复）"))
            else:
                seen[row.id_number] = number
        elif row is None and raw.get("id_number") is not None:
            seen.setdefault(normalize_id_number(_text(raw["id_number"])), number)
        if problems:
            roster.problems.extend(problems)
        elif row is not None:
            roster.rows.append(row)


def _row(number: int, raw: dict[str, Any], problems: list[RowProblem], today: date) -> RosterRow | None:
    def bad(key: str, message: str) -> None:
        problems.append(RowProblem(number, HEADERS[key], message))

    text = {key: _text(raw.get(key)) for key in HEADERS}
    for column in COLUMNS:
        if column.required and not text[column.key]:
            bad(column.key, "必填，不能为空")

    id_number = normalize_id_number(text["id_number"])
    if isinstance(raw.get("id_number"), (int, float)) and text["id_number"]:
        bad("id_number", "身份证号被 Excel 存成了数字（末几位已丢失）：请把该列设为文本格式后重新填写")
    elif id_number:
        problem = id_number_problem(id_number)
        if problem:
            bad("id_number", f"{problem}（{id_number}）")

    level = ""
    if text["unit_level"]:
        level = _LEVEL_NAMES.get(_header_key(text["unit_level"])) or (
            text["unit_level"] if text["unit_level"] in UNIT_LEVELS else "")
        if not level:
            names = "、".join(zh for zh, _ in UNIT_LEVELS.values())
            bad("unit_level", f"未知的单位层级「{text['unit_level']}」，应为：{names}")
    unit_class = text["unit_class"].upper().removesuffix("类")
    if unit_class and unit_class not in UNIT_CLASSES:
        bad("unit_class", f"未知的单位类别「{text['unit_class']}」，应为 A、B 或 C")
    reason = ""
    if text["leaving_reason"]:
        given = text["leaving_reason"].removesuffix("离任")
        reason = _REASON_NAMES.get(given) or (given if given in LEAVING_REASONS else "")
        if not reason:
            names = "、".join(zh for zh, _ in LEAVING_REASONS.values())
            bad("leaving_reason", f"未知的离任原因「{text['leaving_reason']}」，应为：{names}")

    dates: dict[str, date | None] = {}
    for key in ("in_post_since", "leaving_date", "last_audit_date"):
        dates[key] = None
        if text[key]:
            value, problem = parse_date(raw.get(key))
            if problem:
                bad(key, problem)
            dates[key] = value
    since, leaving = dates["in_post_since"], dates["leaving_date"]
    if since and since > today:
        bad("in_post_since", f"任现职时间 {since.isoformat()} 晚于今天")
    if since and leaving and leaving < since:
        bad("leaving_date", f"离任日期 {leaving.isoformat()} 早于任现职时间 {since.isoformat()}")
    if leaving and not text["leaving_reason"]:
        bad("leaving_reason", "填写了离任日期，须同时填写离任原因")
    if text["leaving_reason"] and not text["leaving_date"]:
        bad("leaving_date", "填写了离任原因，须同时填写离任日期")
    if dates["last_audit_date"] and dates["last_audit_date"] > today:
        bad("last_audit_date", f"上次审计日期 {dates['last_audit_date'].isoformat()} 晚于今天")
    for key, limit in (("name", 50), ("post", 100), ("unit", 200), ("unit_principal", 50), ("unit_deputy", 50)):
        if len(text[key]) > limit:
            bad(key, f"最多 {limit} 个字符")
    if problems or since is None:
        return None
    return RosterRow(number, text["name"], id_number, text["post"], text["unit"], level, unit_class, since, leaving,
                     reason, dates["last_audit_date"], text["unit_principal"], text["unit_deputy"])


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+0{1,2}:0{2}(?::0{2})?)?$")
_MONTH_ONLY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def parse_date(value: Any) -> tuple[date | None, str | None]:
    """A roster date from an Excel date cell or the ways offices type one: 2020-03-15, 2020/3/15, 2020.3.15,
    2020年3月15日, 20200315. A month alone (2020.03) is refused: the completed-years rules need the day."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = _text(value)
    digits = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    match = digits or _DATE.match(text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))), None
        except ValueError:
            return None, f"日期不存在：{text}"
    if _MONTH_ONLY.match(text):
        return None, f"日期须写到日（如 2020-03-15），「{text}」只有年月"
    return None, f"无法识别的日期「{text}」，请写成 2020-03-15"


def rows_of(records: Iterable[dict[str, Any]]) -> list[RosterRow]:
    """RosterRows back from their stored JSON (an import batch keeps its clean rows)."""
    out = []
    for record in records:
        values = dict(record)
        for key in ("in_post_since", "leaving_date", "last_audit_date"):
            values[key] = date.fromisoformat(values[key]) if values.get(key) else None
        out.append(RosterRow(**values))
    return out
