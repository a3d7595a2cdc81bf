"""Accounts: creating users, checking passwords, the demo accounts of `duban init --demo`."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .access import Actor
from .errors import Forbidden, InvalidData, NotFound
from .models import ApiToken, User
from .roles import ACCOUNT_ROLES, ADMIN_ROLES

DEMO_PASSWORD = "demo"
MIN_PASSWORD = 10


def check_roles(roles: list[str]) -> None:
    """Known roles, and 三员分立: an administrator's role is the only role of its account."""
    unknown = [r for r in roles if r not in ACCOUNT_ROLES]
    if unknown:
        raise InvalidData("未知角色", details={"roles": [", ".join(unknown)]})
    admin = [r for r in roles if r in ADMIN_ROLES]
    if admin and len(set(roles)) > 1:
        raise InvalidData("三员分立：系统管理员、安全管理员、安全审计员各用专门账号，不能兼任其他角色",
                          details={"roles": ["、".join(ACCOUNT_ROLES[r] for r in dict.fromkeys(roles))]})


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def add_user(session: Session, username: str, password: str, roles: list[str], units: list[str] | None = None,
             display_name: str | None = None, demo: bool = False, by: str = "cli") -> User:
    """Create an account; real accounts need a real password (demo ones are marked as such). Audited."""
    check_roles(roles)
    if not demo and len(password) < MIN_PASSWORD:
        raise InvalidData("密码太短", details={"password": [f"至少 {MIN_PASSWORD} 个字符"]})
    if session.scalar(select(User).where(User.username == username)):
        raise InvalidData("用户名已存在", details={"username": [username]})
    user = User(username=username, display_name=display_name or username, roles=roles, units=units,
                password_hash=generate_password_hash(password), is_demo=demo)
    session.add(user)
    session.flush()
    audit.record(session, by, "user_created", f"user:{username}", {"roles": roles, "units": units, "demo": demo}, _now())
    return user


def set_access(session: Session, actor: Actor, username: str, roles: list[str], units: list[str] | None) -> User:
    """Change an account's roles and units (a permission change), audited with before and after.

    The security administrator changes clerks' and offices' accounts; administrator roles, administrators'
    accounts and one's own account are the local operator's (`duban user role`)."""
    actor.require_accounts()
    check_roles(roles)
    user = _editable_account(session, actor, username, roles)
    before = {"roles": list(user.roles or []), "units": user.units}
    after = {"roles": list(dict.fromkeys(roles)), "units": sorted(set(units)) if units is not None else None}
    if before == after:
        return user
    user.roles, user.units = after["roles"], after["units"]
    user.session_generation = (user.session_generation or 0) + 1  # open sessions end: the new rights apply at once
    audit.record(session, actor.username, "roles_changed", f"user:{username}", {"before": before, "after": after}, _now())
    return user


USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{1,99}")


def create_account(session: Session, actor: Actor, username: str, display_name: str, password: str,
                   roles: list[str], units: list[str] | None) -> User:
    """A new clerk's or office's account, by the security administrator (or the operator); audited.

    Administrator roles are the operator's to grant (`duban user add` / `duban user role`)."""
    actor.require_accounts()
    check_roles(roles)
    problems: dict[str, list[str]] = {}
    if not USERNAME.fullmatch(username or ""):
        problems["username"] = ["以字母开头，2–100 个字母、数字、下划线、点或连字符"]
    if not (display_name or "").strip():
        problems["display_name"] = ["请填写姓名或科室"]
    if problems:
        raise InvalidData("账号信息有误", details=problems)
    _refuse_admin_roles(actor, roles)
    return add_user(session, username, password, roles, units, display_name.strip()[:200], by=actor.username)


def reset_password(session: Session, actor: Actor, username: str, password: str) -> User:
    """A new password set by the security administrator: open sessions end; audited (never the password)."""
    user = _editable_account(session, actor, username)
    if len(password) < MIN_PASSWORD:
        raise InvalidData("密码太短", details={"password": [f"至少 {MIN_PASSWORD} 个字符"]})
    user.password_hash = generate_password_hash(password)
    user.session_generation = (user.session_generation or 0) + 1
    audit.record(session, actor.username, "password_changed", f"user:{username}", {"by": "administrator"}, _now())
    return user


def set_disabled(session: Session, actor: Actor, username: str, disabled: bool) -> User:
    """Disable (no sign-in, no token, open sessions end) or enable an account; audited."""
    user = _editable_account(session, actor, username)
    if bool(user.disabled_at) == disabled:
        return user
    user.disabled_at = _now() if disabled else None
    user.session_generation = (user.session_generation or 0) + 1
    audit.record(session, actor.username, "account_disabled" if disabled else "account_enabled", f"user:{username}",
                 {}, _now())
    return user


def _refuse_admin_roles(actor: Actor, roles: list[str]) -> None:
    if not actor.operator and set(roles) & ADMIN_ROLES.keys():
        raise Forbidden("三员账号的权限只能由服务器上的运维人员用 duban user role 修改")


def _editable_account(session: Session, actor: Actor, username: str, roles: list[str] = ()) -> User:
    """The account the security administrator (or the operator) is about to change: on the web, never one's own
    account, an administrator's, or one given an administrator role."""
    actor.require_accounts()
    user = _account(session, username)
    if not actor.operator and (user.username == actor.username or set(user.roles or []) & ADMIN_ROLES.keys()):
        raise Forbidden("三员账号和自己的账号只能由服务器上的运维人员用 duban user 命令修改")
    _refuse_admin_roles(actor, list(roles))
    return user


def _account(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在：{username}")
    return user


DEMO_ROLE_NAMES = {"organization": "组织部干部监督科（演示）", "staffing": "编办监督检查科（演示）",
                   "audit": "审计局经济责任审计科（演示）", "discipline": "纪委监委（演示）",
                   "leading_office": "领导小组办公室（三责联审、治庸问责，演示）", "supervisor": "三责联审领导小组（演示）",
                   "designer": "流程设计员（演示）", "sysadmin": "系统管理员（演示）", "secadmin": "安全管理员（演示）",
                   "auditadmin": "安全审计员（演示）"}


def create_demo_accounts(session: Session) -> list[str]:
    """The demo accounts, password `demo`; skips those that exist.

    One account per role, named after the role. The `unit` account is the clerk of one audited unit
    (engine.demo.UNIT_ACCOUNT_UNIT) and sees that unit's work only; each other audited unit the demo
    gives unit work gets a clerk of its own, scoped to it (unit_daiyao style names, engine.demo.demo_clerks), and
    an office that reviews its own sub-units' work is scoped to them (engine.demo.demo_offices).
    Demo accounts share one password hash: they share the password, and hashing is slow.
    """
    from .demo import UNIT_ACCOUNT_UNIT, demo_clerks, demo_offices

    accounts = [(role, [role], [UNIT_ACCOUNT_UNIT] if role == "unit" else None,
                 f"{UNIT_ACCOUNT_UNIT}党政办（演示）" if role == "unit" else DEMO_ROLE_NAMES.get(role, f"{label}（演示）"))
                for role, label in ACCOUNT_ROLES.items()]
    accounts += [(username, ["unit"], [unit], display) for username, display, unit in demo_clerks()]
    accounts += [(username, roles, units, display) for username, display, roles, units in demo_offices()]
    existing = set(session.scalars(select(User.username).where(User.username.in_([a[0] for a in accounts]))).all())
    password_hash = None
    made = []
    for username, roles, units, display in accounts:
        if username in existing:
            continue
        password_hash = password_hash or generate_password_hash(DEMO_PASSWORD)
        session.add(User(username=username, display_name=display, roles=roles, units=units,
                         password_hash=password_hash, is_demo=True))
        made.append(username)
    session.flush()
    if made:
        audit.record(session, "cli", "user_created", "user:*demo*", {"usernames": made, "demo": True}, _now())
    return made


def actor_for(session: Session, username: str) -> Actor:
    user = _account(session, username)
    if user.disabled_at:
        raise Forbidden(f"账号已停用：{username}")
    return Actor.of(user)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right; an unknown name costs the same hash, so timing tells no names."""
    user = session.scalar(select(User).where(User.username == username))
    right = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    return user if user is not None and right and not user.disabled_at else None


def issue_token(session: Session, user: User, name: str, by: str = "cli") -> str:
    """A new API token for a user; the token is shown once and only its hash is stored. Audited."""
    token = secrets.token_urlsafe(32)
    audit.record(session, by, "token_issued", f"user:{user.username}", {"name": name[:200]}, _now())
    session.add(ApiToken(user_id=user.id, name=name[:200], token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=_now()))
    return token


@dataclass(frozen=True)
class Person:
    """How a user is named in front of others: display name and departments (their roles' names)."""

    name: str
    departments: tuple[str, ...] = ()

    @property
    def department(self) -> str:
        return "、".join(self.departments)


def people(session: Session, usernames: set[str]) -> dict[str, Person]:
    """Display names and departments of the given users (unknown names are left out)."""
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.display_name, User.roles).where(User.username.in_(sorted(usernames))))
    return {u: Person(name or u, tuple(ACCOUNT_ROLES.get(r, r) for r in roles or [])) for u, name, roles in rows}


def display_names(session: Session) -> dict[str, str]:
    """Every user's display name by username (an office has hundreds of accounts, not millions)."""
    return dict(session.execute(select(User.username, User.display_name)).all())
