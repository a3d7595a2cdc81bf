"""Who issues a case's documents: the city's three offices and their 机关代字, by the process the case runs.

Xinghua (兴化, joint_audit_xinghua) is a county-level city of Taizhou; Suzhou (苏州, joint_audit_suzhou) audits
at the municipal level, so its documents go out under the municipal offices. The 机关代字 is the
organization department's (it leads the joint audit and numbers joint documents, GB/T 9704 7.2.4): 兴组 / 苏组,
with 发 for 文件 (notice, report), 通 for public notices, 函 for letters (the feedback letter).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import InvalidData


@dataclass(frozen=True)
class Offices:
    city: str  # 兴化市
    organization: str  # 中共兴化市委组织部
    staffing: str  # 兴化市机构编制委员会办公室
    audit: str  # 兴化市审计局
    code: str  # 兴组: the organization department's 机关代字 stem
    discipline: str  # 抄送 of the report: the discipline body
    leading_group: str  # 主送 of the report
    basis: str  # the rule the notice cites

    @property
    def joint(self) -> list[str]:
        return [self.organization, self.staffing, self.audit]


CITIES: dict[str, Offices] = {
    "xinghua": Offices("兴化市", "中共兴化市委组织部", "兴化市机构编制委员会办公室", "兴化市审计局", "兴组",
                       "兴化市纪委监委", "兴化市“三责联审”工作领导小组",
                       "根据市委关于开展党政领导干部“三责联审”工作的部署要求"),
    "suzhou": Offices("苏州市", "中共苏州市委组织部", "苏州市机构编制委员会办公室", "苏州市审计局", "苏组",
                      "苏州市纪委监委", "苏州市“三责联审”工作领导小组",
                      "根据《苏州市党政领导干部“三责联审”工作实施方案》"),
}


def offices_for(process_key: str) -> Offices:
    """The issuing offices of a case by its process key (joint_audit_xinghua → 兴化, …_suzhou → 苏州)."""
    for city, offices in CITIES.items():
        if city in (process_key or "").lower():
            return offices
    raise InvalidData(f"流程 {process_key} 未配置发文机关（支持：兴化、苏州）",
                      details={"process_key": [process_key]})
