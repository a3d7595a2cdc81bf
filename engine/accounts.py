"""Accounts: creating users, checking passwords, the demo accounts of `duban init --demo`."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

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


def create_demo_accounts(session: Session) -> list[str]:
    """One account per role, named after the role, password `demo`; skips those that exist."""
    made = []
    for role, label in ROLES.items():
        if session.scalar(select(User).where(User.username == role)) is None:
            add_user(session, role, DEMO_PASSWORD, [role], None, f"{label}(演示)", demo=True)
            made.append(role)
    return made


def actor_for(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在: {username}")
    return Actor.of(user)


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


def issue_token(session: Session, user: User, name: str) -> str:
    """A new API token for a user; the token is shown once and only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:200], token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    return token
