"""Demo data for `make run`: the seeds' cadres as cases a supervision office would recognise.

Xinghua (seed 000): 51 principal leaders — 21 mid-term and 30 on leaving; 30 of towns, townships and
streets (乡镇) and 21 of the city's departments. Suzhou (seed 001): 48 in one year — 7 audited by the city
itself (市本级: as in the seed, the heads of the foreign affairs office and of two city bureaus, and the party
secretaries and heads of 相城区 and 吴中区) and 41 by the county-level cities and districts (their towns,
streets and departments). Units are real and current (after the 2018–2019 institutional reforms: 生态环境局,
应急管理局, not 环保局, 安监局); people are invented; each principal post of a unit has one holder.

The work is where a real office's is: most of it on time (green), some due within three days (yellow), a few
overdue and escalated (red), one case stopped by a failed timer step (error, with an open incident a
supervisor can retry) and one serious case under listed supervision (挂牌督办). Times are relative to the
moment of seeding, so the lights come out the same whenever the demo is made: each case is walked from its
start on a `_DemoClock`, every step completed on its own (working) day, and afterwards the reminders,
escalations and deadline timers that fell due in the past are fired at their own times.

Everything a form says follows from the case's timeline: a notice is dated the day it was issued, its number
carries the issuing office's 机关代字 (兴组通〔2026〕15号), a public notice ends after it starts and before the
entry meeting, the score gives the grade (`grade_for`), votes never outnumber voters.

In the order a seed uses them: places (units, posts), people (invented names) and joint_audit (steps, duties,
findings) → plans (`cast`: each case decided) → timelines (when each step was done) → paperwork (what each
form says) → seeding (`seed`) → guide (`walkthrough`).
"""
from __future__ import annotations

from .guide import walkthrough
from .joint_audit import SUZHOU, XINGHUA
from .paperwork import GRADE_NAMES, grade_for
from .places import UNIT_ACCOUNT_UNIT, Unit
from .plans import Plan, cast, demo_clerks, demo_offices
from .seeding import seed
from .timelines import Timeline, light_of, local_date, timeline

__all__ = ["GRADE_NAMES", "SUZHOU", "UNIT_ACCOUNT_UNIT", "XINGHUA", "Plan", "Timeline", "Unit", "cast",
           "demo_clerks", "demo_offices", "grade_for", "light_of", "local_date", "seed", "timeline", "walkthrough"]
