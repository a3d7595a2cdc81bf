"""When a demo case started and each step was done, planned backwards from now so its light shows as planned.

Times are relative to the moment of seeding, so the lights come out the same whenever the demo is made; every
step is done on a working day in office hours (Beijing), in order, and in the past."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..timers import OFFICE_TZ
from .joint_audit import DUTIES, GROUPS, RECTIFY, SEQUENCES, SETS_DEADLINE, VISIT, XINGHUA
from .plans import Plan

# How long a step takes when done on time (days from its arrival), below each step's dueIn.
DURATION = {"issue_notice": (0.8, 3.5), "pre_audit_notice": (0.8, 3.5), "pre_audit_publicity": (5.0, 6.5),
            "entry_meeting": (2.0, 7.0), "mobilization": (3.0, 7.5), "self_report": (1.0, 5.0),
            "democratic_appraisal": (0.1, 3.0), "individual_interviews": (2.0, 7.0), "reviews": (6.0, 13.5),
            "verify": (6.0, 13.5), "feedback": (2.0, 7.0), "consolidate": (2.0, 7.0),
            "follow_up_visit": (4.0, 12.0), "follow_up": (4.0, 12.0), "issue_report": (4.0, 12.0),
            "acceptance": (4.0, 12.0)}
DUE_DAYS = {"issue_notice": 5, "pre_audit_notice": 5, "pre_audit_publicity": 7, "self_report": 7,
            "democratic_appraisal": 7, "reviews": 15, "verify": 15, "follow_up_visit": 15, "follow_up": 15,
            "issue_report": 15, "acceptance": 15}  # fallback when a step's dueIn cannot be read; else 10
GREEN_MARGIN, YELLOW_WINDOW, RED_MARGIN = 3.3, (0.3, 2.9), 1.2  # days; what `light_of` accepts


def _local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    return _local(moment).date()


def _office(moment: datetime, rng: random.Random) -> datetime:
    """The same moment on a working day in office hours (Beijing): weekends go back to Friday."""
    local = _local(moment)
    day = local.date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    tod = local.time()
    if day != local.date() or not (time(8, 40) <= tod <= time(17, 40)):
        tod = time(rng.randint(9, 16), rng.randint(0, 59))
    return _utc(datetime.combine(day, tod, OFFICE_TZ))


def _at_office(day: date, rng: random.Random) -> datetime:
    return _utc(datetime.combine(day, time(rng.randint(9, 16), rng.randint(0, 59)), OFFICE_TZ))


def _due_days(catalogue: dict[str, Any], step: str) -> float:
    sid = GROUPS.get(step, (step,))[0]
    due_in = str((catalogue["steps"].get(sid) or {}).get("due_in") or "")
    if due_in.startswith("P") and due_in.endswith("D") and due_in[1:-1].isdigit():
        return float(due_in[1:-1])
    return float(DUE_DAYS.get(step, 10))


def light_of(due: datetime, now: datetime) -> str:
    """The light a due date gives now, with margins so the demo keeps its lights for a while after seeding."""
    left = (due - now).total_seconds() / 86400
    if left >= GREEN_MARGIN:
        return "green"
    if YELLOW_WINDOW[0] <= left <= YELLOW_WINDOW[1]:
        return "yellow"
    return "red" if left <= -RED_MARGIN else "between"


@dataclass
class Timeline:
    start: datetime
    steps: list[tuple[str, datetime]]  # completions in order: (step id, when)
    deadline: date | None  # the rectification deadline, once set

    def first(self, step: str) -> datetime | None:
        return next((at for sid, at in self.steps if sid == step), None)


@dataclass
class _Walk:
    """A case's completions as days after its start, before the start itself is known."""

    steps: list[tuple[str, float]]
    arrival: float  # when the current work arrived (the last completion, or the split before the reviews)
    setter_at: float | None  # when the rectification deadline was set


def timeline(p: Plan, catalogue: dict[str, Any], now: datetime) -> Timeline:
    """When the case started and each of its steps was done, placed so that its light shows as planned."""
    rng = random.Random(p.seed ^ 0x5EED)
    walk = _walk(p, rng)
    deadline: date | None = None
    age, extra = 0.0, []  # open work outside rectification: how long it has waited, the reviews already in
    if p.stage == "done":
        start = now - timedelta(days=rng.uniform(2, 40) + walk.arrival)
    elif p.stage == RECTIFY[p.key]:
        start, deadline = _start_by_deadline(p, walk, now, rng)
    else:
        start, age, extra = _start_by_light(p, walk, catalogue, now, rng)
    start, steps = _in_office_hours(start, walk.steps + extra, now, rng)
    if p.stage not in ("done", RECTIFY[p.key]):
        start = _light_kept(p, catalogue, now, age, steps, len(walk.steps), start)
    if deadline is None and walk.setter_at is not None:
        set_at = next(at for sid, at in steps if sid == SETS_DEADLINE[p.key])
        deadline = local_date(set_at) + timedelta(days=p.term)
    return Timeline(start, steps, deadline)


def _expanded(p: Plan) -> list[str]:
    seq = SEQUENCES[p.key]
    rect, visit = RECTIFY[p.key], VISIT[p.key]
    cut = seq.index(rect)
    full = seq[:cut] + ([rect, visit] * p.rounds if p.items else []) + seq[cut + 2:]
    return full


def _walk(p: Plan, rng: random.Random) -> _Walk:
    """Each step done up to the planned stage takes its usual days; rectification takes a share of the term."""
    full = _expanded(p)
    done = len(full) if p.stage == "done" else len(full) - 1 - full[::-1].index(p.stage)
    rect, setter = RECTIFY[p.key], SETS_DEADLINE[p.key]
    rel: list[tuple[str, float]] = []
    t, setter_at, round_no = 0.0, None, 0
    for entry in full[:done]:
        if entry in GROUPS:
            spans = sorted(rng.uniform(*DURATION[entry]) for _ in DUTIES)
            for sid, span in zip(rng.sample(GROUPS[entry], 3), spans):
                rel.append((sid, t + span))
            t += spans[-1]
            continue
        if entry == rect:
            round_no += 1
            share = (0.45, 0.85) if p.rounds == 1 else ((0.25, 0.35) if round_no == 1 else (0.15, 0.25))
            t += rng.uniform(*share) * p.term
        elif entry == VISIT[p.key]:
            t += rng.uniform(4.0, 8.0 if p.rounds == 2 and round_no == 1 else 12.0)
        else:
            t += rng.uniform(*DURATION[entry])
        rel.append((entry, t))
        if entry == setter:
            setter_at = t
    return _Walk(rel, t, setter_at)


def _start_by_deadline(p: Plan, walk: _Walk, now: datetime, rng: random.Random) -> tuple[datetime, date]:
    """At rectification the light is the deadline's: green ≥ 5 days ahead, yellow in 1–2 days, red passed, error
    just passed (green: reported within the month, so the report has not waited longer than a month yet)."""
    ahead = {"green": rng.randint(6, 15) if p.rounds == 2 else rng.randint(max(5, p.term - 28), p.term - 5),
             "yellow": rng.randint(1, 2), "red": -rng.randint(3, 7), "error": -2}[p.light]
    deadline = local_date(now) + timedelta(days=ahead)
    set_on = deadline - timedelta(days=p.term)
    while set_on.weekday() >= 5:
        set_on -= timedelta(days=1)
    return _at_office(set_on, rng) - timedelta(days=walk.setter_at), deadline


def _start_by_light(p: Plan, walk: _Walk, catalogue: dict[str, Any], now: datetime,
                    rng: random.Random) -> tuple[datetime, float, list[tuple[str, float]]]:
    """The open work's age gives its light; the reviews already in were each done within their 15 days."""
    due = _due_days(catalogue, p.stage)
    age = {"green": rng.uniform(0.1 if due <= 5 else 0.4, due - GREEN_MARGIN - 0.4),
           "yellow": rng.uniform(due - 2.5, due - 0.7), "red": rng.uniform(due + 1.6, due + 5.5)}[p.light]
    extra = [(f"{'review' if p.key == XINGHUA else 'verify'}_{sid}",
              walk.arrival + rng.uniform(0.2 * age, min(0.9 * age, 13.5))) for sid in p.reviews_done]
    extra.sort(key=lambda e: e[1])
    return now - timedelta(days=age + walk.arrival), age, extra


def _in_office_hours(start: datetime, offsets: list[tuple[str, float]], now: datetime,
                     rng: random.Random) -> tuple[datetime, list[tuple[str, datetime]]]:
    """The steps on working days in office hours, kept in order and in the past."""
    steps = [(sid, _office(start + timedelta(days=off), rng)) for sid, off in offsets]
    start = _office(start, rng)
    last = start
    for i, (sid, at) in enumerate(steps):
        if at <= last:
            at = last + timedelta(minutes=rng.randint(20, 90))
        steps[i] = (sid, at)
        last = at
    limit = now - timedelta(minutes=5)
    for i in range(len(steps) - 1, -1, -1):
        limit = min(steps[i][1], limit)
        steps[i] = (steps[i][0], limit)
        limit -= timedelta(minutes=15)
    return min(start, limit), steps


def _light_kept(p: Plan, catalogue: dict[str, Any], now: datetime, age: float, steps: list[tuple[str, datetime]],
                n_before: int, start: datetime) -> datetime:
    """The office hours moved the work's arrival: keep it if the light still holds, else take the exact time.

    Moves `steps` in place and gives the start."""
    arrived = steps[n_before - 1][1] if n_before else start
    if light_of(arrived + timedelta(days=_due_days(catalogue, p.stage)), now) == p.light:
        return start
    exact = now - timedelta(days=age)
    if n_before:
        steps[n_before - 1] = (steps[n_before - 1][0], exact)
        for i in range(n_before - 2, -1, -1):
            steps[i] = (steps[i][0], min(steps[i][1], steps[i + 1][1] - timedelta(minutes=15)))
        start = min(start, steps[0][1] - timedelta(minutes=15))
    else:
        start = exact
    for i in range(n_before, len(steps)):
        previous = steps[i - 1][1] if i else start
        steps[i] = (steps[i][0], max(steps[i][1], previous + timedelta(minutes=20)))
    return start
