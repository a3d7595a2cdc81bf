"""Who may do what: roles are lanes, units limit which cases and work anyone sees, supervisors included.

Refusals name neither the other unit nor its case: a clerk must not learn which unit an id belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Forbidden
from .roles import ADMIN_ROLES, ROLES
from .models import Case, User, WorkItem

OVERSIGHT_ROLES = {"supervisor"}


@dataclass(frozen=True)
class Actor:
    """The person behind a request; `operator` is the local administrator at the shell."""

    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    units: frozenset[str] | None = None  # None = all units
    operator: bool = False

    @classmethod
    def of(cls, user: User) -> "Actor":
        units = frozenset(user.units) if user.units is not None else None
        return cls(user.username, frozenset(user.roles or []), units)

    def in_scope(self, unit: str) -> bool:
        return self.operator or self.units is None or unit in self.units

    @property
    def oversees(self) -> bool:
        """Holds an oversight role; what it may oversee is still limited to `in_scope` units."""
        return self.operator or bool(self.roles & OVERSIGHT_ROLES)

    @property
    def designs(self) -> bool:
        """May edit, deploy and migrate processes (the `designer` role); supervisors read the library only."""
        return self.operator or "designer" in self.roles

    @property
    def manages_accounts(self) -> bool:
        """May change other accounts' roles and units and disable them (安全管理员); admin roles stay the operator's."""
        return self.operator or "secadmin" in self.roles

    @property
    def reads_audit(self) -> bool:
        """May read and verify the audit log (安全审计员); nobody may change or clear it."""
        return self.operator or "auditadmin" in self.roles

    @property
    def administers(self) -> bool:
        """May run the system's checks and repairs (系统管理员)."""
        return self.operator or "sysadmin" in self.roles

    def require_accounts(self) -> None:
        if not self.manages_accounts:
            raise Forbidden("只有安全管理员可以修改账号和权限")

    def require_audit(self) -> None:
        if not self.reads_audit:
            raise Forbidden("只有安全审计员可以查看审计日志")

    def require_admin(self) -> None:
        if not self.administers:
            raise Forbidden("只有系统管理员可以执行此操作")

    def require_design(self) -> None:
        if not self.designs:
            raise Forbidden("只有流程设计员可以编辑、部署流程或迁移项目")

    def may_see_case(self, case: Case) -> bool:
        # Clerks and supervisors see the cases of their units; designers edit processes, not cases.
        return (self.oversees or bool(self.roles - {"designer"} - ADMIN_ROLES.keys())) and self.in_scope(case.unit)

    def may_work(self, item: WorkItem) -> bool:
        return self.operator or (item.role in self.roles and self.in_scope(item.unit))

    def may_see_work(self, item: WorkItem) -> bool:
        """Those who may work it, and supervisors of its unit (they look, reassign and release)."""
        return self.may_work(item) or (self.oversees and self.in_scope(item.unit))

    def may_release(self, item: WorkItem) -> bool:
        """The clerk holding it, or a supervisor of its unit."""
        if not self.in_scope(item.unit):
            return False
        return self.operator or item.assignee == self.username or self.oversees

    def require_case(self, case: Case) -> None:
        if not self.may_see_case(case):
            raise Forbidden("您无权查看此项目")

    def require_case_unit(self, unit: str) -> None:
        if not self.in_scope(unit):
            raise Forbidden("您无权处理此项目")

    def require_see_work(self, item: WorkItem) -> None:
        if not self.may_see_work(item):
            raise Forbidden("您无权查看此事项")

    def require_release(self, item: WorkItem) -> None:
        self.require_see_work(item)
        if not self.may_release(item):
            raise Forbidden(f"只有签收人或督办人员可以取消签收此事项（签收人：{item.assignee or '无'}）")

    def require_work(self, item: WorkItem) -> None:
        if not self.in_scope(item.unit):
            raise Forbidden("您无权办理此事项")
        if item.role not in self.roles and not self.operator:
            raise Forbidden(f"您没有办理此步骤所需的角色：{ROLES.get(item.role, item.role)}")  # in their unit: naming it tells nothing new
        if item.assignee and item.assignee != self.username and not self.operator:
            raise Forbidden(f"此事项已由 {item.assignee} 签收")


OPERATOR = Actor("cli", operator=True)
