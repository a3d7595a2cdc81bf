"""Sign-in and who is asking: Flask-Login sessions, API bearer tokens, CSRF, slowed password guessing."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from urllib.parse import urlparse

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import delete, func, select

from engine.access import Actor
from engine.accounts import authenticate
from engine.models import ApiToken, SignInAttempt, User
from engine.roles import ROLES

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)


class SignedIn(UserMixin):
    """The signed-in user as the web layer sees it: id, display name, and the engine's Actor."""

    def __init__(self, user: User) -> None:
        self.id = str(user.id)
        self.username = user.username
        self.display_name = user.display_name
        self.actor = Actor.of(user)
        self.role_names = [ROLES.get(r, r) for r in user.roles or []]


def engine():
    return current_app.extensions["duban"]


def current_actor() -> Actor:
    return current_user.actor


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "strong"
    csrf.init_app(app)

    @login_manager.user_loader
    def _load(user_id: str):
        with engine().db.reading() as session:
            user = session.get(User, int(user_id)) if user_id.isdigit() else None
            return SignedIn(user) if user else None

    @login_manager.request_loader
    def _from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
        with engine().db.reading() as session:
            row = session.execute(select(User).join(ApiToken, ApiToken.user_id == User.id)
                                  .where(ApiToken.token_hash == digest)).scalar_one_or_none()
            if row is None:
                return None
            g.token_auth = True
            return SignedIn(row)


def _too_many_failures(session, username: str, address: str, now: datetime) -> bool:
    since = now - FAILURE_WINDOW
    by_user = session.scalar(select(func.count()).select_from(SignInAttempt).where(
        SignInAttempt.username == username, SignInAttempt.at >= since))
    by_address = session.scalar(select(func.count()).select_from(SignInAttempt).where(
        SignInAttempt.address == address, SignInAttempt.at >= since))
    return by_user >= MAX_FAILURES_PER_USER or by_address >= MAX_FAILURES_PER_ADDRESS


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error, status = None, 200
    username = (request.form.get("username") or "").strip()[:100]
    if request.method == "POST":
        password = request.form.get("password") or ""
        address = (request.remote_addr or "-")[:100]
        now = engine().clock()
        with engine().db.transaction() as session:
            if _too_many_failures(session, username, address, now):
                error, status = "登录失败次数过多, 请 15 分钟后再试", 429
            else:
                user = authenticate(session, username, password)
                if user is None:
                    session.add(SignInAttempt(username=username, address=address, at=now))
                    error, status = "用户名或密码错误", 401
                else:
                    session.execute(delete(SignInAttempt).where(SignInAttempt.username == username))
                    login_user(SignedIn(user))
                    return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("已退出登录"))
    return redirect(url_for("auth.login"))
