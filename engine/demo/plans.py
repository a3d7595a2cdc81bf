"""The demo's cases decided before the engine sees them: who, where, how far each has come, which light it shows."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .joint_audit import DUTIES, FINDINGS, GROUPS, RECTIFY, SEQUENCES, SUZHOU, VISIT, XINGHUA
from .people import LEAVING_REASONS, Names
from .places import (POSTS, SUZHOU_CITY, SUZHOU_COUNTY, UNIT_ACCOUNT_UNIT, XINGHUA_BOTH_POSTS, XINGHUA_DEPTS,
                     XINGHUA_TOWNS, Unit)


# Where the cases stand: (stage, light) — stage is the step with open work, or "done".
def _slots(*groups: tuple[str, dict[str, int]]) -> list[tuple[str, str]]:
    return [(stage, light) for stage, lights in groups for light, n in lights.items() for _ in range(n)]


XINGHUA_SLOTS = _slots(("done", {"": 8}), ("issue_notice", {"green": 2, "yellow": 1}),
                       ("pre_audit_publicity", {"green": 4}), ("entry_meeting", {"green": 3, "yellow": 1}),
                       ("reviews", {"green": 7, "yellow": 1, "red": 1}), ("feedback", {"green": 3, "red": 1}),
                       ("consolidate", {"green": 3, "yellow": 1}),
                       ("report_rectification", {"green": 6, "yellow": 1, "red": 1, "error": 1}),
                       ("follow_up_visit", {"green": 3, "yellow": 1}), ("issue_report", {"green": 2}))
SUZHOU_SLOTS = _slots(("done", {"": 6}), ("pre_audit_notice", {"green": 3}), ("mobilization", {"green": 2, "yellow": 1}),
                      ("self_report", {"green": 3, "red": 1}), ("democratic_appraisal", {"green": 2, "yellow": 1}),
                      ("individual_interviews", {"green": 3}), ("verify", {"green": 6, "yellow": 1, "red": 1}),
                      ("consolidate", {"green": 3}), ("feedback", {"green": 2, "yellow": 1}),
                      ("rectify", {"green": 5, "yellow": 1, "red": 1}), ("follow_up", {"green": 3}),
                      ("acceptance", {"green": 2}))


@dataclass
class Plan:
    """One demo case before it exists: who, where, how far it has come, and how its light should show."""

    key: str
    unit: Unit
    post: str
    leaving: bool
    facts: dict[str, Any]
    stage: str = "done"
    light: str = ""  # green / yellow / red / error for open work; "" when done
    findings: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    reviews_done: tuple[str, ...] = ()  # at the parallel reviews: the duties already reviewed
    rounds: int = 1  # rectification rounds: 2 when the first follow-up visit left items open
    term: int = 45  # days given for rectification
    serious: bool = False  # 挂牌督办
    seed: int = 0

    @property
    def items(self) -> list[tuple[int, str, str, str, str]]:
        """The merged findings as the ledger numbers them: (item_no, duty, description, severity, basis)."""
        out = []
        for duty in DUTIES:
            for description, severity, basis in self.findings.get(duty, []):
                out.append((len(out) + 1, duty, description, severity, basis))
        return out

    @property
    def unit_work(self) -> bool:
        """Whether the unit's clerk has, or had, a step of this case to do."""
        seq = SEQUENCES[self.key]
        reached = len(seq) if self.stage == "done" else seq.index(self.stage)
        if self.key == SUZHOU:
            return reached >= seq.index("self_report")
        return reached > seq.index("feedback")  # the unit signs the feedback (签字确认)


def cast(seed_value: int = 2026) -> list[Plan]:
    """The demo's cases, decided without the engine (the demo accounts are made from it too)."""
    rng = random.Random(seed_value)
    names = Names(rng)
    plans = _xinghua(rng, names)
    plans += _suzhou(rng, names)
    for p in plans:
        _decide_findings(p)
    _single_out(plans)
    return plans


def demo_clerks(seed_value: int = 2026) -> list[tuple[str, str, str]]:
    """(username, display name, unit) of the unit clerks the demo needs: one per audited unit with unit work, and
    one per unit of the Hubei campaign.

    The `unit` account is the clerk of UNIT_ACCOUNT_UNIT and is made with the role accounts."""
    from .org import hubei_clerks

    out: dict[str, tuple[str, str, str]] = {}
    for p in cast(seed_value):
        if p.unit_work and p.unit.name != UNIT_ACCOUNT_UNIT:
            out.setdefault(p.unit.name, (p.unit.username, p.unit.clerk, p.unit.name))
    for username, display, unit in hubei_clerks():  # the campaign's units (engine/demo/org.py)
        out.setdefault(unit, (username, display, unit))
    return sorted(out.values())


def demo_offices() -> list[tuple[str, str, list[str], list[str]]]:
    """(username, display name, roles, units) of the offices scoped to some units: 省高管局's campaign office,
    which runs 省高管局's own campaign (its case is 省高管局's) and reviews what its sub-units hand in (those reviews
    are on 省高管局's scope, unitFrom) — never what 省高管局 itself sends up to the province."""
    from .org import GAOGUAN, GAOGUAN_OFFICE, GAOGUAN_UNITS

    username, display = GAOGUAN_OFFICE
    return [(username, display, ["leading_office"], [GAOGUAN, *GAOGUAN_UNITS])]


def _plan(rng: random.Random, names: Names, key: str, unit: Unit, post: str, leaving: bool) -> Plan:
    mid_term_years = (3, 8) if unit.level in ("town", "county") else (5, 9)  # seed 001: must-audit tenures
    years = rng.randint(2, 8) if leaving else rng.randint(*mid_term_years)
    cadre, principal = names(), names()
    facts = {"cadre_name": cadre, "post": post, "unit": unit.name, "unit_level": unit.level,
             "audit_type": "leaving" if leaving else "mid_term", "years_in_post": years,
             # the contact for major problems: the cadre, or on leaving the successor (新官要理旧账)
             "unit_principal": principal if leaving else cadre, "unit_deputy": names()}
    if leaving:
        facts["leaving_reason"] = rng.choice(LEAVING_REASONS)
    return Plan(key, unit, post, leaving, facts, seed=rng.randrange(1 << 30))


def _xinghua(rng: random.Random, names: Names) -> list[Plan]:
    """30 of towns and streets, 21 departments; 30 on leaving, 21 mid-term."""
    pairs = []
    for name, slug in XINGHUA_TOWNS:
        unit = Unit(name, slug, "兴组")
        posts = POSTS[unit.kind] if name in XINGHUA_BOTH_POSTS else (rng.choice(POSTS[unit.kind]),)
        pairs += [(unit, post) for post in posts]
    for name, slug in XINGHUA_DEPTS:
        unit = Unit(name, slug, "兴组")
        pairs.append((unit, POSTS[unit.kind][0] if rng.random() < 0.8 else POSTS[unit.kind][-1]))
    pinned = {(UNIT_ACCOUNT_UNIT, "镇党委书记"): (True, ("report_rectification", "green")),
              (UNIT_ACCOUNT_UNIT, "镇长"): (False, ("reviews", "green"))}
    leaving = [True] * 29 + [False] * 20
    rng.shuffle(leaving)
    slots = list(XINGHUA_SLOTS)
    for _, slot in pinned.values():
        slots.remove(slot)
    rng.shuffle(slots)
    plans = []
    for unit, post in pairs:
        leaves, slot = pinned.get((unit.name, post)) or (leaving.pop(), slots.pop())
        plans.append(_placed(_plan(rng, names, XINGHUA, unit, post, leaves), slot))
    return plans


def _suzhou(rng: random.Random, names: Names) -> list[Plan]:
    """7 by the city, 41 by the county-level cities and districts (10 of them on leaving)."""
    plans = [_plan(rng, names, SUZHOU, Unit(name, slug, "苏组"), post, leaves)
             for name, slug, post, leaves in SUZHOU_CITY]
    county = [Unit(name, slug, code) for code, units in SUZHOU_COUNTY for name, slug in units]
    leaving = [True] * 10 + [False] * 31
    rng.shuffle(leaving)
    for unit, leaves in zip(county, leaving):
        posts = POSTS[unit.kind]
        post = rng.choice(posts) if unit.level == "town" else (posts[0] if rng.random() < 0.8 else posts[-1])
        plans.append(_plan(rng, names, SUZHOU, unit, post, leaves))
    slots = list(SUZHOU_SLOTS)
    rng.shuffle(slots)
    for p, slot in zip(plans, slots):
        _placed(p, slot)
    return plans


def _placed(p: Plan, slot: tuple[str, str]) -> Plan:
    p.stage, p.light = slot
    return p


def _decide_findings(p: Plan) -> None:
    """What the reviews found, the rectification term and rounds, the reviews already in: from the case's own seed."""
    r = random.Random(p.seed)
    seq = SEQUENCES[p.key]
    at_rectification = p.stage in (RECTIFY[p.key], VISIT[p.key])
    p.findings = _findings(r, needed=at_rectification)
    p.term = r.choice([30, 45, 60])
    if p.stage in GROUPS:
        done = {"green": r.choice([0, 0, 1, 1, 2]), "yellow": r.choice([1, 2]), "red": 2}[p.light]
        p.reviews_done = tuple(r.sample(DUTIES[:2], done)) if p.light == "red" else tuple(r.sample(DUTIES, done))
    finished = p.stage == "done" or seq.index(p.stage) > seq.index(VISIT[p.key])
    if finished and len(p.items) >= 2 and r.random() < 0.4:
        p.rounds, p.term = 2, 60


def _findings(rng: random.Random, needed: bool) -> dict[str, list[tuple[str, str, str]]]:
    found = {duty: rng.sample(FINDINGS[duty], rng.choice([0, 0, 0, 1, 1, 2])) for duty in DUTIES}
    if needed and not any(found.values()):
        duty = rng.choice(DUTIES)
        found[duty] = [rng.choice(FINDINGS[duty])]
    return {duty: items for duty, items in found.items() if items}


def _single_out(plans: list[Plan]) -> None:
    """One serious case under listed supervision, and one whose second report is due: both at Xinghua's
    rectification, green; the demo `unit` account's 戴窑镇 case stays plain."""
    green = [p for p in plans if p.key == XINGHUA and p.stage == "report_rectification" and p.light == "green"
             and p.unit.name != UNIT_ACCOUNT_UNIT]
    listed, second = green[0], green[1]
    listed.serious, listed.term = True, 30
    listed.findings = {"finance": [FINDINGS["finance"][3], FINDINGS["finance"][2]],
                       "personnel": [FINDINGS["personnel"][1]]}
    second.rounds, second.term = 2, 60
    if len(second.items) < 2:
        second.findings = {"establishment": [FINDINGS["establishment"][1], FINDINGS["establishment"][2]]}
