"""Sign-in and who is asking: Flask-Login sessions (revocable), API bearer tokens, CSRF, slowed password guessing,
and the one check of where a `next` link may send the browser."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import unquote, urlparse

from flask import (Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update

from engine import audit, signin
from engine.access import Actor
from engine.accounts import authenticate
from engine.models import ApiToken, User
from engine.roles import ACCOUNT_ROLES as ROLES

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

GENERATION = "_generation"  # the session key holding User.session_generation as of sign-in
DEVICE_COOKIE = "duban_device"
DEVICE_DAYS = 180
DEVICE_USERS = 5  # names remembered per browser: office PCs are shared
ANONYMOUS = "-"  # the actor of a failed or refused sign-in: the typed name is only its subject
REFUSED_AUDIT_EVERY = timedelta(minutes=5)


class SignedIn(UserMixin):
    """The signed-in user as the web layer sees it: id, display name, and the engine's Actor."""

    def __init__(self, user: User) -> None:
        self.id = str(user.id)
        self.username = user.username
        self.display_name = user.display_name
        self.actor = Actor.of(user)
        self.role_names = [ROLES.get(r, r) for r in user.roles or []]

    @property
    def may_start(self) -> bool:
        """Whether some deployed process lets this user open a case (the nav shows 发起联审)."""
        if not hasattr(self, "_may_start"):
            self._may_start = bool(self.actor.roles) and bool(engine().startable(self.actor))
        return self._may_start


def engine():
    return current_app.extensions["duban"]


def current_actor() -> Actor:
    return current_user.actor


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: no //host, no scheme, no backslash, no control
    character, also after percent-decoding (browsers drop tabs and newlines, so `/\\t/evil` means `//evil`)."""
    if not target or len(target) > 2000:
        return None
    candidate, seen = target, set()
    while candidate not in seen:
        seen.add(candidate)
        if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
            return None
        if any(ord(c) < 32 or ord(c) == 127 for c in candidate):
            return None
        parsed = urlparse(candidate)
        if parsed.scheme or parsed.netloc:
            return None
        candidate = unquote(candidate)
    return target


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "strong"
    csrf.init_app(app)

    @login_manager.user_loader
    def _load(user_id: str):
        with engine().db.reading() as db_session:
            user = db_session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 12 else None
            # A session signed before the user's last sign-out (or one from before generations) is over.
            if user is None or user.disabled_at or session.get(GENERATION) != user.session_generation:
                return None
            return SignedIn(user)

    @login_manager.request_loader
    def _from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
        with engine().db.reading() as db_session:
            row = db_session.execute(select(User).join(ApiToken, ApiToken.user_id == User.id)
                                     .where(ApiToken.token_hash == digest)).scalar_one_or_none()
            if row is None or row.disabled_at:
                return None
            g.token_auth = True
            return SignedIn(row)


# --- known devices: a browser that has signed in as a user before --------------------------------------
def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="duban-known-device")


def _device_cookie() -> dict | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 2000:
        return None
    try:
        value = _devices().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("d"), str) or not isinstance(value.get("u"), list):
        return None
    return value


def known_device(username: str) -> str | None:
    """This browser's device id if it has signed in as `username` before, else None."""
    value = _device_cookie()
    return value["d"][:64] if value and username in value["u"] else None


def _remember_device(response, username: str) -> None:
    value = _device_cookie() or {"d": secrets.token_urlsafe(24), "u": []}
    users = [username] + [u for u in value["u"] if u != username and isinstance(u, str)]
    response.set_cookie(DEVICE_COOKIE, _devices().dumps({"d": value["d"], "u": users[:DEVICE_USERS]}),
                        max_age=DEVICE_DAYS * 86400, path=url_for("auth.login"), httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


# --- views ---------------------------------------------------------------------------------------------
def _start_session(user: User) -> None:
    """A fresh session: nothing from before sign-in survives, the CSRF token included (session fixation)."""
    session.clear()
    g.pop("csrf_token", None)
    login_user(SignedIn(user))
    session[GENERATION] = user.session_generation


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error, status, headers = None, 200, {}
    username = (request.form.get("username") or "").strip()[:100]
    if request.method == "POST":
        password = request.form.get("password") or ""
        address = (request.remote_addr or "-")[:100]
        device = known_device(username)
        now = engine().clock()
        with engine().db.transaction() as db_session:
            wait = signin.begin_attempt(db_session, username, address, device, now)
            if wait and not audit.recent(db_session, "sign_in_refused", f"user:{username}", address,
                                         now - REFUSED_AUDIT_EVERY):
                # One row per name and address every few minutes: a locked-out guesser cannot grow the log at will.
                audit.record(db_session, ANONYMOUS, "sign_in_refused", f"user:{username}",
                             {"address": address, "retry_after": wait}, now)
        if wait:
            # Refused without looking at the password: a locked-out guesser learns nothing, right or wrong.
            error, status = _("登录失败次数过多，请 %(minutes)s 分钟后再试", minutes=-(-wait // 60)), 429
            headers["Retry-After"] = str(wait)
        else:
            with engine().db.reading() as db_session:
                user = authenticate(db_session, username, password)  # the slow hash, outside the write lock
            if user is None:
                error, status = _("用户名或密码错误"), 401
                with engine().db.transaction() as db_session:  # counted above, so bounded by the same limits
                    audit.record(db_session, ANONYMOUS, "sign_in_failed", f"user:{username}", {"address": address}, now)
            else:
                with engine().db.transaction() as db_session:
                    signin.succeeded(db_session, username, address, device)
                    audit.record(db_session, user.username, "sign_in", f"user:{user.username}",
                                 {"address": address, "known_device": bool(device)}, now)
                _start_session(user)
                response = redirect(safe_next(request.args.get("next")) or url_for("inbox.index"))
                _remember_device(response, user.username)
                return response
    return render_template("auth/login.html", error=error, username=username), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    with engine().db.transaction() as db_session:
        db_session.execute(update(User).where(User.id == int(current_user.id))
                           .values(session_generation=User.session_generation + 1))
        audit.record(db_session, current_user.username, "sign_out", f"user:{current_user.username}",
                     {"address": (request.remote_addr or "-")[:100]}, engine().clock())
    logout_user()
    session.clear()
    flash(_("已退出登录"))
    return redirect(url_for("auth.login"))
