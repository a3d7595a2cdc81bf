"""Slowed password guessing: failed sign-ins counted per (name, address), per address, per name and per known
device, in a sliding window, kept in the `sign_in_attempt` table (so every web process sees the same counts).

Like OWASP's device-cookie scheme (and django-axes keyed on username + address): a guesser locks out only
itself — its own (name, address) pair — not the account. A name guessed from many addresses at once, or an
address trying many names, is refused for everyone without a known device; a browser that has signed in as
that user before (a signed cookie, see web/auth.py) keeps getting in, limited only by its own failures.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.orm import Session

from .models import SignInAttempt

WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=1)
PER_PAIR = 5  # one address guessing one name
PER_DEVICE = 5  # a known-device cookie (stolen, or its owner mistyping)
PER_ADDRESS = 20  # one address spraying names (a whole office behind one address still has known devices)
PER_NAME = 100  # one name guessed from many addresses: only known devices get in


def _lock(session: Session, username: str, address: str) -> None:
    """PostgreSQL: count-then-insert under a per-name and a per-address lock, so parallel guesses cannot all
    pass the check before any of them is counted. SQLite's BEGIN IMMEDIATE already serialises writers."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for space, value in ((1, username), (2, address)):  # always names before addresses: no lock cycles
        key = int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": key})


def _wait(session: Session, condition, limit: int, now: datetime) -> float:
    """Seconds until fewer than `limit` failures matching `condition` remain in the window (0: none to wait)."""
    recent = session.scalars(select(SignInAttempt.at).where(condition, SignInAttempt.at >= now - WINDOW)
                             .order_by(SignInAttempt.at.desc()).limit(limit)).all()
    if len(recent) < limit:
        return 0.0
    return max(0.0, (recent[-1] + WINDOW - now).total_seconds())


def begin_attempt(session: Session, username: str, address: str, device: str | None, now: datetime) -> int | None:
    """Refuse (seconds to wait) or allow a sign-in; an allowed one is counted as a failure until `succeeded`.

    Counting before the password is checked is what makes parallel guesses count; the caller hashes the
    password outside this transaction. Refused attempts are not counted: they cannot extend anyone's wait.
    """
    _lock(session, username, address)
    if device:  # a known device of this name: only its own failures count
        limits = [(SignInAttempt.device == device, PER_DEVICE)]
    else:
        limits = [(and_(SignInAttempt.username == username, SignInAttempt.address == address), PER_PAIR),
                  (SignInAttempt.address == address, PER_ADDRESS),
                  (SignInAttempt.username == username, PER_NAME)]
    wait = max(_wait(session, condition, limit, now) for condition, limit in limits)
    if wait > 0:
        return max(1, math.ceil(wait))
    session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - KEEP))
    session.add(SignInAttempt(username=username, address=address, device=device, at=now))
    return None


def succeeded(session: Session, username: str, address: str, device: str | None) -> None:
    """The password was right: forget this pair's (and this device's) failures; other addresses' stay."""
    pair = and_(SignInAttempt.username == username, SignInAttempt.address == address)
    session.execute(delete(SignInAttempt).where(or_(pair, SignInAttempt.device == device) if device else pair))
