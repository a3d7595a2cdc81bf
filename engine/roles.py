"""The roles of DOMAIN.md: lane ids in BPMN, role names on accounts."""
from __future__ import annotations

ROLES: dict[str, str] = {
    "organization": "组织部",
    "staffing": "编办",
    "audit": "审计局",
    "discipline": "纪委监委",
    "leading_office": "领导小组办公室",
    "unit": "基层单位",
    "supervisor": "领导小组",
    "designer": "流程设计员",
}

# 三员分立 (等保 2.0): the three administrators are accounts of their own. Each of these roles is the only role of
# its account, and only the local operator (`duban user`) grants or removes them, so no single account can both
# change permissions and read the audit log. They are never lanes.
ADMIN_ROLES: dict[str, str] = {
    "sysadmin": "系统管理员",
    "secadmin": "安全管理员",
    "auditadmin": "安全审计员",
}
ACCOUNT_ROLES: dict[str, str] = {**ROLES, **ADMIN_ROLES}

# Lane names designers really write, mapped to the role they stand for.
_ALIASES: dict[str, str] = {
    "组织部": "organization",
    "干部监督科": "organization",
    "编办": "staffing",
    "机构编制委员会办公室": "staffing",
    "审计局": "audit",
    "纪委监委": "discipline",
    "纪委": "discipline",
    "纪检组": "discipline",
    "领导小组办公室": "leading_office",
    "被审单位": "unit",
    "参加单位": "unit",
    "领导小组": "supervisor",
    "分管领导": "supervisor",
}


def role_for_lane(lane_id: str | None, lane_name: str | None) -> str | None:
    """The role a lane stands for: its id if that is a role, else its name or a known alias."""
    for candidate in (lane_id, lane_name):
        if not candidate:
            continue
        key = candidate.strip()
        if key in ROLES:
            return key
        if key in _ALIASES:
            return _ALIASES[key]
        for alias, role in _ALIASES.items():
            if key.startswith(alias):
                return role
    return None
