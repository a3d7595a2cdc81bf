"""How a deadline reads on every page: overdue by N days, due soon, or on time — one rule (engine.timers) for
the inbox, the task page, the case page and the supervisor's lists."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g
from flask_babel import gettext as _, ngettext

from engine.supervision import LIGHT_NAMES, Settings, light_of
from engine.timers import days_left, days_overdue


@dataclass(frozen=True)
class DueState:
    kind: str  # overdue / soon / ok
    days: int  # overdue: days past due; soon, ok: days left (0 = due today)


def parse_utc(value: str | None) -> datetime | None:
    """The engine's ISO UTC strings ("…Z") back to naive UTC datetimes, for the `local` filters."""
    return datetime.fromisoformat(value.rstrip("Z")) if value else None


_STATE_OF_LIGHT = {"red": "overdue", "yellow": "soon", "green": "ok"}


def _settings() -> Settings:
    """The dashboard's thresholds, read once per request (every row of a list asks)."""
    settings = g.get("duban_settings")
    if settings is None:
        settings = g.duban_settings = Settings.from_config(current_app.config)
    return settings


def due_state(due: datetime | None, now: datetime | None = None) -> DueState | None:
    """The state of a deadline now (the engine's clock), by the supervisor's light rule: red is overdue,
    yellow is due soon."""
    if due is None:
        return None
    now = now or current_app.extensions["duban"].clock()
    kind = _STATE_OF_LIGHT[light_of(due, now, _settings())]
    return DueState(kind, days_overdue(due, now) if kind == "overdue" else days_left(due, now))


@dataclass(frozen=True)
class Light:
    color: str  # red / yellow / green, as on the supervisor's dashboard
    name: str   # 红灯 / 黄灯 / 绿灯 (a coded label: templates pass it through |label)
    why: str


def case_light(status: str, work: list[tuple[datetime | None, str]], now: datetime | None = None) -> Light | None:
    """A running case's light and why, from its open work's (due, step name): the step due first decides."""
    if status != "running":
        return None
    now = now or current_app.extensions["duban"].clock()
    dated = sorted((due, step) for due, step in work if due is not None)
    if not dated:
        return Light("green", LIGHT_NAMES["green"], _("无办理期限"))
    due, step = dated[0]
    state = due_state(due, now)
    color = next(light for light, kind in _STATE_OF_LIGHT.items() if kind == state.kind)
    if state.kind == "overdue":
        why = ngettext("逾期 %(days)s 天：%(step)s", "逾期 %(days)s 天：%(step)s", state.days, days=state.days, step=step)
    elif state.days == 0:
        why = _("今天到期：%(step)s", step=step)
    else:
        why = ngettext("%(days)s 天后到期：%(step)s", "%(days)s 天后到期：%(step)s", state.days, days=state.days,
                       step=step)
    return Light(color, LIGHT_NAMES[color], why)
