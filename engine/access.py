"""Who may do what: roles are lanes, units limit which cases a clerk sees."""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Forbidden
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
        return self.operator or bool(self.roles & OVERSIGHT_ROLES)

    def may_see_case(self, case: Case) -> bool:
        # Clerks see the cases of their units; designers edit processes, not cases.
        return self.oversees or (bool(self.roles - {"designer"}) and self.in_scope(case.unit))

    def may_work(self, item: WorkItem) -> bool:
        return self.operator or (item.role in self.roles and self.in_scope(item.unit))

    def require_case(self, case: Case) -> None:
        if not self.may_see_case(case):
            raise Forbidden(f"用户 {self.username} 无权查看案件 {case.id} (单位: {case.unit})")

    def require_case_unit(self, unit: str) -> None:
        if not (self.oversees or self.in_scope(unit)):
            raise Forbidden(f"用户 {self.username} 无权处理单位 {unit} 的案件")

    def require_work(self, item: WorkItem) -> None:
        if item.role not in self.roles and not self.operator:
            raise Forbidden(f"用户 {self.username} 没有办理此步骤所需的角色: {item.role}")
        if not self.in_scope(item.unit):
            raise Forbidden(f"用户 {self.username} 无权办理单位 {item.unit} 的事项")
        if item.assignee and item.assignee != self.username and not self.operator:
            raise Forbidden(f"此事项已由 {item.assignee} 认领")


OPERATOR = Actor("cli", operator=True)
