"""Official documents (公文) of a joint audit in the layout of GB/T 9704-2012, numbered from a register.

`generate` takes the next 发文字号 of the issuing office's 机关代字 and year, writes the .docx and files it as
the case's attachment, all in the caller's transaction: a document that fails to be written takes no number.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import casefile, caselist
from engine.access import Actor
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import Case, ProcessVersion

from .facts import case_facts, local_date
from .offices import offices_for
from .records import OfficialDocument, document_of_attachment, documents_of, take_number
from .texts import KINDS, Kind, agency_code, write

# Who issues documents: the organization department leads; the other offices with a lane in the case's process
# too. The audited unit receives all four (the notice is addressed to it, the public notice is posted at it, the
# feedback letter and the report are issued to it for rectification): its clerks download, never issue.
ISSUING_ROLES_EXCLUDED = {"unit", "designer"}
UNIT_DOWNLOADS = {"notice", "publicity", "feedback", "report"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def kind_of(code: str) -> Kind:
    if code not in KINDS:
        choices = "、".join(f"{k}（{v.name}）" for k, v in KINDS.items())
        raise InvalidData(f"未知的公文种类：{code}", details={"kind": [f"可选：{choices}"]})
    return KINDS[code]


def lane_roles(session: Session, case: Case) -> set[str]:
    catalogue = session.scalar(select(ProcessVersion.catalogue).where(ProcessVersion.id == case.process_version_id)) or {}
    steps = [catalogue.get("start") or {}, *(catalogue.get("steps") or {}).values()]
    return {s.get("role") for s in steps if s and s.get("role")}


def has_documents(case: Case) -> bool:
    """Whether the case's process is one these documents are for: the joint audits whose offices are configured
    (a complaint or a campaign has no 联审通知)."""
    try:
        offices_for(case.process_key)
    except InvalidData:
        return False
    return True


def may_generate(session: Session, actor: Actor, case: Case) -> bool:
    if not has_documents(case):
        return False
    if actor.operator:
        return True
    if not actor.in_scope(case.unit):
        return False
    issuing = ({"organization"} | lane_roles(session, case)) - ISSUING_ROLES_EXCLUDED
    return bool(actor.roles & issuing)


def may_download(session: Session, actor: Actor, case: Case, kind: str) -> bool:
    if not actor.may_see_case(case):
        return False
    return may_generate(session, actor, case) or ("unit" in actor.roles and kind in UNIT_DOWNLOADS)


def _not_ready(kind: Kind, facts) -> str | None:
    if kind.code == "report" and not facts.consolidated:
        return "项目尚未完成情况汇总，问题清单、评分和评价等次未定，不能出具联审报告"
    if kind.code == "feedback" and not facts.merged:
        return "三方审查的问题尚未汇总成问题清单，不能出具反馈意见书"
    return None


def generate(session: Session, case_id: int, kind_code: str, actor: Actor, now: datetime) -> OfficialDocument:
    """Number, write and attach one document; raises InvalidData / NotFound / Forbidden before any number is taken."""
    kind = kind_of(kind_code)
    case = caselist.seen_case(session, case_id, actor)
    if not may_generate(session, actor, case):
        raise Forbidden("只有组织部和参与本项目的部门可以生成公文")
    facts = case_facts(session, case_id)
    problem = _not_ready(kind, facts)
    if problem:
        raise InvalidData(problem)
    offices = offices_for(case.process_key)
    today = local_date(now)
    row = take_number(session, dict(case_id=case_id, kind=kind.code, agency_code=agency_code(offices, kind),
                                    year=today.year, title=kind.name, issued_at=now, issued_by=actor.username))
    title, content = write(kind, facts, offices, row.number, today)
    attachment = casefile.add_attachment(session, case_id, casefile.Upload(f"{row.number} {title}.docx", content),
                                         actor.username, now)
    row.title, row.attachment_id = title[:500], attachment.id
    session.flush()
    return row


@dataclass
class DocumentView:
    id: int
    kind: str
    kind_name: str
    number: str
    title: str
    issued_at: datetime
    issued_by: str
    attachment_id: int | None


def case_documents(session: Session, case_id: int, actor: Actor) -> tuple[list[DocumentView], bool]:
    """The case's documents `actor` may download, and whether they may generate more."""
    case = caselist.seen_case(session, case_id, actor)
    views = [DocumentView(d.id, d.kind, KINDS[d.kind].name if d.kind in KINDS else d.kind, d.number, d.title,
                          d.issued_at, d.issued_by, d.attachment_id)
             for d in documents_of(session, case_id) if may_download(session, actor, case, d.kind)]
    return views, may_generate(session, actor, case)


def document_file(session: Session, case_id: int, document_id: int, actor: Actor):
    """(register row, attachment row, path) of a document `actor` may download."""
    case = caselist.seen_case(session, case_id, actor)
    row = session.get(OfficialDocument, document_id)
    if row is None or row.case_id != case_id or row.attachment_id is None:
        raise NotFound(f"公文不存在：{document_id}")
    if not may_download(session, actor, case, row.kind):
        raise Forbidden("您无权下载此公文")
    attachment, path = casefile.attachment_file(session, row.attachment_id)
    return row, attachment, path


def attachment_allowed(session: Session, attachment_id: int, actor: Actor) -> bool:
    """For the case file's own download: a generated document follows the documents' rule, other files are free."""
    row = document_of_attachment(session, attachment_id)
    if row is None:
        return True
    case = session.get(Case, row.case_id)
    return case is not None and may_download(session, actor, case, row.kind)


__all__ = ["KINDS", "OfficialDocument", "generate", "case_documents", "document_file", "attachment_allowed",
           "may_generate", "may_download", "kind_of", "DOCX"]
