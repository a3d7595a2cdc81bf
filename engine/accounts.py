"""Accounts: creating users, checking passwords, the demo accounts of `duban init --demo`."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .access import Actor
from .errors import InvalidData, NotFound
from .models import ApiToken, User
from .roles import ROLES

DEMO_PASSWORD = "demo"
MIN_PASSWORD = 10


def add_user(session: Session, username: str, password: str, roles: list[str], units: list[str] | None = None,
             display_name: str | None = None, demo: bool = False) -> User:
    """Create an account; real accounts need a real password (demo ones are marked as such)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidData("未知角色", details={"roles": [", ".join(unknown)]})
    if not demo and len(password) < MIN_PASSWORD:
        raise InvalidData("密码太短", details={"password": [f"至少 {MIN_PASSWORD} 个字符"]})
    if session.scalar(select(User).where(User.username == username)):
        raise InvalidData("用户名已存在", details={"username": [username]})
    user = User(username=username, display_name=display_name or username, roles=roles, units=units,
                password_hash=generate_password_hash(password), is_demo=demo)
    session.add(user)
    session.flush()
    return user


DEMO_ROLE_NAMES = {"organization": "组织部干部监督科（演示）", "staffing": "编办监督检查科（演示）",
                   "audit": "审计局经济责任审计科（演示）", "discipline": "纪委监委（演示）",
                   "leading_office": "领导小组办公室（三责联审、治庸问责，演示）", "supervisor": "三责联审领导小组（演示）",
                   "designer": "流程设计员（演示）"}


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
                for role, label in ROLES.items()]
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
    return made


def actor_for(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在：{username}")
    return Actor.of(user)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right; an unknown name costs the same hash, so timing tells no names."""
    user = session.scalar(select(User).where(User.username == username))
    right = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    return user if user is not None and right else None


def issue_token(session: Session, user: User, name: str) -> str:
    """A new API token for a user; the token is shown once and only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:200], token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=datetime.now(timezone.utc).replace(tzinfo=None)))
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
    return {u: Person(name or u, tuple(ROLES.get(r, r) for r in roles or [])) for u, name, roles in rows}


def display_names(session: Session) -> dict[str, str]:
    """Every user's display name by username (an office has hundreds of accounts, not millions)."""
    return dict(session.execute(select(User.username, User.display_name)).all())
