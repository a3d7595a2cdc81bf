"""Official documents (公文): what a clerk gets when generating the notice, the public notice, the feedback letter
and the report — a .docx Word opens, in the GB/T 9704 layout, stating the case, numbered from the register."""
from __future__ import annotations

import io
import shutil
import subprocess
import threading
from datetime import datetime

import pytest
from click.testing import CliRunner
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import func, select

from engine import casefile
from engine.access import OPERATOR
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import Attachment
from handlers import documents
from handlers.documents.records import OfficialDocument, next_serial, take_number
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine
from tests.processes.walk import walk

NOW = datetime(2026, 12, 2, 2, 30)  # 10:30 in Xinghua


@pytest.fixture(autouse=True)
def attachments_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_ATTACHMENTS", str(tmp_path / "attachments"))


def _finding(text, severity, category, **extra):
    return {"description": text, "severity": severity, "problem_category": category, "responsibility_type": "direct",
            **extra}


FINDINGS = {
    "review_personnel": {"personnel_score": 80, "personnel_findings": [_finding("超职数配备副科级干部2名", "major", "over_quota_posts",
                                                         requirement="按核定职数消化超配干部", standard="职数不超核定数")]},
    "review_establishment": {"establishment_score": 85, "establishment_findings": [_finding("3名事业编制人员长期在行政岗位工作", "general", "mixed_posts")]},
    "review_finance": {"finance_score": 70, "finance_findings": [_finding("账外设账，资金56万元未纳入单位财务统一核算", "major", "slush_fund",
                                                     demerit_points=2, amount=560000)]},
}
STEP_DATA = {**FINDINGS,
             "issue_notice": {"notice_date": "2026-09-01", "audit_period_start": "2022-01-01",
                              "audit_period_end": "2026-06-30", "planned_entry_date": "2026-09-15", "team_leader": "陈明"},
             "pre_audit_publicity": {"publicity_start": "2026-09-05", "publicity_end": "2026-09-12",
                                     "publicity_channels": ["unit_bulletin", "website"]},
             "entry_meeting": {"meeting_date": "2026-09-15"},
             "feedback": {"feedback_date": "2026-10-20"}}


def _case(engine, key="joint_audit_xinghua", until="consolidate") -> int:
    case_id = engine.start_case(key, dict(CASE_FACTS), as_user(engine, "organization"))
    walk(engine, case_id, until, STEP_DATA)
    return case_id


@pytest.fixture
def consolidated(engine) -> int:
    case_id = _case(engine)
    complete_step(engine, case_id, "consolidate", rectification_deadline="2027-03-31",
                  consolidate_summary="该同志履职总体较好，但用财方面问题较突出。")
    return case_id


def _generate(engine, case_id, kind, actor=OPERATOR, now=NOW) -> OfficialDocument:
    with engine.db.transaction() as s:
        return documents.generate(s, case_id, kind, actor, now)


def _docx(engine, row) -> Document:
    with engine.db.reading() as s:
        _, path = casefile.attachment_file(s, row.attachment_id)
    return Document(io.BytesIO(path.read_bytes()))


def _text(doc) -> str:
    cells = [p.text for t in doc.tables for r in t.rows for c in r.cells for p in c.paragraphs]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _east_asian(run) -> str | None:
    fonts = run._element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def test_the_report_states_the_case_in_the_gbt9704_layout(engine, consolidated):
    row = _generate(engine, consolidated, "report")
    assert row.number == "兴组发〔2026〕1号"
    doc = _docx(engine, row)
    text = _text(doc)
    # the case: cadre, post, unit, dates of the steps, scores and grade, every finding, the rectification deadline
    data = engine.case(consolidated)["data"]
    assert data["overall_score"] and data["evaluation_grade"]  # computed by the evaluation_grade table
    grade = {"good": "好", "fairly_good": "较好", "average": "一般", "poor": "差"}.get(data["evaluation_grade"],
                                                                                     data["evaluation_grade"])
    for expected in ("戴窑镇党委书记张伟同志", "2026年9月1日下发联审通知", "2026年9月15日进点动员",
                     "用人责任80分，用编责任85分，用财责任70分", f"综合评分{data['overall_score']:g}分",
                     f"评价等次为“{grade}”", "该同志履职总体较好", "超职数配备副科级干部2名", "3名事业编制人员长期在行政岗位工作",
                     "账外设账，资金56万元未纳入单位财务统一核算", "涉及金额560,000.00元", "按核定职数消化超配干部",
                     "2027年3月31日前完成", "兴化市“三责联审”工作领导小组："):
        assert expected in text, expected
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)] == [37, 35, 28, 26]
    # 发文机关标志: the three offices in red 小标宋 and 文件
    mark = [r for t in doc.tables[:1] for c in t.rows[0].cells for p in c.paragraphs for r in p.runs]
    assert [r.text for r in mark] == ["中共兴化市委组织部", "兴化市机构编制委员会办公室", "兴化市审计局", "文件"]
    assert all(str(r.font.color.rgb) == "FF0000" and _east_asian(r) == "方正小标宋简体" for r in mark)
    number = next(p for p in doc.paragraphs if p.text == "兴组发〔2026〕1号")
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"  # the red separator under the 发文字号
    title = next(p for p in doc.paragraphs if p.text.startswith("关于"))
    assert title.alignment == 1 and title.runs[0].font.size.pt == 22 and _east_asian(title.runs[0]) == "方正小标宋简体"
    body = next(p for p in doc.paragraphs if "超职数配备副科级干部2名" in p.text)
    assert body.runs[0].font.size.pt == 16 and _east_asian(body.runs[0]) == "仿宋_GB2312"
    heading = next(p for p in doc.paragraphs if p.text == "一、基本情况")
    assert _east_asian(heading.runs[0]) == "黑体"
    assert _east_asian(next(p for p in doc.paragraphs if p.text == "（一）用人方面").runs[0]) == "楷体_GB2312"
    normal = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert [p.text for p in doc.paragraphs if p.text][-4:] == ["中共兴化市委组织部", "兴化市机构编制委员会办公室", "兴化市审计局",
                                                     "2026年12月2日"]
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —") and "PAGE" in footer._p.xml
    colophon = [c.text for r in doc.tables[-1].rows for c in r.cells]
    assert colophon == ["抄送：兴化市纪委监委，戴窑镇。", "中共兴化市委组织部办公室\t2026年12月2日印发"]


def test_each_document_is_attached_to_its_case_and_the_feedback_lists_what_to_rectify(engine, consolidated):
    rows = {kind: _generate(engine, consolidated, kind) for kind in ("notice", "publicity", "feedback", "report")}
    assert {k: r.number for k, r in rows.items()} == {"notice": "兴组发〔2026〕1号", "publicity": "兴组通〔2026〕1号",
                                                     "feedback": "兴组函〔2026〕1号", "report": "兴组发〔2026〕2号"}
    with engine.db.reading() as s:
        files = {a.id: a.filename for a in casefile.case_file(s, consolidated)[0]}
    for row in rows.values():
        assert files[row.attachment_id] == f"{row.number} {row.title}.docx"
    notice = _text(_docx(engine, rows["notice"]))
    assert "关于对戴窑镇党委书记张伟同志" in notice and "开展离任“三责联审”的通知" in notice
    assert "审查期间为2022年1月1日至2026年6月30日" in notice and "拟于2026年9月15日进点" in notice
    publicity = _text(_docx(engine, rows["publicity"]))
    assert "公示时间：2026年9月5日至2026年9月12日" in publicity and "公示方式：单位公示栏、门户网站" in publicity
    red = [r.text for p in _docx(engine, rows["publicity"]).paragraphs for r in p.runs
           if r.font.color.type is not None and str(r.font.color.rgb) == "FF0000"]
    assert red == ["中共兴化市委组织部"]  # its own office alone, and no 文件
    feedback = _text(_docx(engine, rows["feedback"]))
    assert "1.超职数配备副科级干部2名（重大问题" in feedback
    assert "整改要求：按核定职数消化超配干部。整改标准：职数不超核定数。整改时限：2027年3月31日前。" in feedback
    assert "戴窑镇、张伟同志：" in feedback


def test_generating_twice_gives_the_next_number_and_each_office_and_year_counts_alone(engine, consolidated):
    first = _generate(engine, consolidated, "notice")
    second = _generate(engine, consolidated, "notice")
    assert (first.number, second.number) == ("兴组发〔2026〕1号", "兴组发〔2026〕2号")
    assert _text(_docx(engine, second)).count("兴组发〔2026〕2号") == 1
    suzhou = engine.start_case("joint_audit_suzhou", dict(CASE_FACTS), as_user(engine, "organization"))
    assert _generate(engine, suzhou, "notice").number == "苏组发〔2026〕1号"
    # 1:00 on 1 January in the office is still 31 December in UTC: the new year's register starts again
    assert _generate(engine, consolidated, "notice", now=datetime(2026, 12, 31, 17, 0)).number == "兴组发〔2027〕1号"
    assert _generate(engine, consolidated, "notice").number == "兴组发〔2026〕3号"


def test_a_report_before_the_findings_are_consolidated_takes_no_number(engine):
    case_id = _case(engine, until="feedback")
    with pytest.raises(InvalidData, match="尚未完成情况汇总"):
        _generate(engine, case_id, "report")
    with engine.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(OfficialDocument)) == 0
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
    assert _generate(engine, case_id, "notice").number == "兴组发〔2026〕1号"  # the report took none


def test_feedback_needs_the_merged_findings_and_bad_requests_are_named(engine):
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    with pytest.raises(InvalidData, match="尚未汇总成问题清单"):
        _generate(engine, case_id, "feedback")
    with pytest.raises(InvalidData, match="未知的公文种类：minutes") as err:
        _generate(engine, case_id, "minutes")
    assert "report（联审报告）" in err.value.one_line()
    with pytest.raises(NotFound):
        _generate(engine, 9999, "notice")


def test_who_may_generate_and_download(engine, consolidated):
    unit = as_user(engine, "unit")  # the clerk of 戴窑镇, the audited unit
    with pytest.raises(Forbidden):
        _generate(engine, consolidated, "feedback", unit)  # the unit downloads, never issues
    staffing = as_user(engine, "staffing")  # a department with a lane in the case's process
    feedback = _generate(engine, consolidated, "feedback", staffing)
    report = _generate(engine, consolidated, "report", as_user(engine, "organization"))
    other_unit = as_user(engine, "unit_anfeng")  # the clerk of 安丰镇
    with engine.db.reading() as s:
        rows, may = documents.case_documents(s, consolidated, unit)
        # the documents are issued to the audited unit: its clerk gets every one of them, but may not generate
        assert (sorted(r.kind for r in rows), may) == (["feedback", "report"], False)
        for row in (feedback, report):
            documents.document_file(s, consolidated, row.id, unit)
            assert documents.attachment_allowed(s, row.attachment_id, unit) is True
            with pytest.raises(Forbidden):  # another unit's clerk gets nothing of this case
                documents.document_file(s, consolidated, row.id, other_unit)
            assert documents.attachment_allowed(s, row.attachment_id, other_unit) is False
        with pytest.raises(NotFound):
            documents.document_file(s, consolidated + 1, report.id, OPERATOR)


def test_a_number_taken_meanwhile_by_another_request_is_not_issued_again(engine, consolidated):
    taken = _generate(engine, consolidated, "notice")
    reads = []

    def stale_then_fresh(session, code, year):  # the first read is the one another request made before us
        reads.append(code)
        return taken.serial if len(reads) == 1 else next_serial(session, code, year)

    with engine.db.transaction() as s:
        row = take_number(s, dict(case_id=consolidated, kind="notice", agency_code="兴组发", year=2026, title="t",
                                  issued_at=NOW, issued_by="cli"), stale_then_fresh)
        assert row.serial == taken.serial + 1 and len(reads) == 2


def test_concurrent_requests_on_postgresql_get_distinct_consecutive_numbers(pg_url, tmp_path):
    engine = make_engine(pg_url)
    case_id = engine.start_case("joint_audit_xinghua", dict(CASE_FACTS), as_user(engine, "organization"))
    numbers, errors, start = [], [], threading.Barrier(6)

    def request():
        start.wait()
        try:
            numbers.append(_generate(engine, case_id, "notice").serial)
        except Exception as err:  # noqa: BLE001 — reported below
            errors.append(err)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_duban_document_saves_the_docx_and_fails_clearly(engine, consolidated, tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_DATABASE_URL", str(engine.db.engine.url))
    from engine.cli import main

    out = tmp_path / "report.docx"
    result = CliRunner().invoke(main, ["document", str(consolidated), "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("兴组发〔2026〕1号\t关于戴窑镇党委书记张伟同志")
    assert "张伟" in _text(Document(str(out)))
    for args, message in (([str(consolidated), "minutes"], "未知的公文种类：minutes"),
                          (["9999", "notice"], "项目不存在：9999"),
                          ([str(consolidated), "notice", "--as", "unit"], "只有组织部和参与本项目的部门可以生成公文")):
        result = CliRunner().invoke(main, ["document", *args, "--out", str(tmp_path / "x.docx")])
        assert result.exit_code != 0 and message in result.output, result.output
        assert not (tmp_path / "x.docx").exists()
    result = CliRunner().invoke(main, ["document", str(consolidated), "notice", "--out", str(tmp_path / "no" / "x.docx")])
    assert result.exit_code != 0 and "文件夹不存在" in result.output
    with engine.db.reading() as s:  # only the report was numbered
        assert s.scalars(select(OfficialDocument.serial)).all() == [1]


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-writer")
def test_libreoffice_converts_the_report_to_pdf(engine, consolidated, tmp_path):
    row = _generate(engine, consolidated, "report")
    with engine.db.reading() as s:
        _, path = casefile.attachment_file(s, row.attachment_id)
    source = tmp_path / "report.docx"
    source.write_bytes(path.read_bytes())
    proc = subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--convert-to",
                           "pdf", "--outdir", str(tmp_path), str(source)], capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "report.pdf"
    assert proc.returncode == 0 and pdf.exists(), proc.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        flat = text.replace(" ", "")  # pdftotext spaces out Latin next to Chinese
        assert "兴组发〔2026〕1号" in flat and "超职数配备副科级干部2名" in flat
        pages = [p for p in text.split("\f") if p.strip()]
        for page in pages:  # 22 lines of body text at most on a page (the page number line aside)
            assert len([line for line in page.splitlines() if line.strip()]) <= 23
