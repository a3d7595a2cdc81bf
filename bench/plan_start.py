"""Time to start 1,000 planned joint-audit cases on the SQLite default (target: under 10 s).

A roster of 1,000 principal leaders who all must be audited (each has been in post 6 years in a township) is
read, imported, proposed by the `audit_required` table and confirmed; then the bulk start opens their cases
one engine transaction each, as `duban plan` and the 年度联审计划 page do.

Run: .venv/bin/python bench/plan_start.py [-n 1000] [--processes DIR]   (prints figures; not in the test suite)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.access import OPERATOR  # noqa: E402
from engine.accounts import create_demo_accounts  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.runtime import Engine  # noqa: E402
from handlers.planning import plan, start  # noqa: E402
from handlers.planning.roster import read_roster  # noqa: E402

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(n: int) -> str:
    body = f"3212811970{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    body = f"32128{n // 1000 % 10}" + body[6:]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _W)) % 11]


def roster_csv(n: int) -> bytes:
    lines = ["姓名,身份证号,职务,单位,单位层级,单位类别,任现职时间,离任日期,离任原因,上次审计日期,单位主要负责人,分管负责人"]
    for i in range(n):
        lines.append(f"干部{i},{id_number(i)},党委书记,第{i}镇,乡镇（街道）,B,2020-06-01,,,,干部{i},副职{i}")
    return "\n".join(lines).encode("utf-8")


def main(n: int = 1000, processes: Path = REPO / "processes") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.upgrade()
        with db.transaction() as session:
            create_demo_accounts(session)
        engine = Engine(db)
        engine.deploy([str(processes)])

        began = time.perf_counter()
        roster = read_roster(roster_csv(n), "bench.csv")
        assert roster.clean, roster.problems[:3]
        now = engine.clock()
        with engine.db.transaction() as session:
            batch = plan.import_roster(session, roster, 2026, "bench", now)
            entries = plan.plan_from_import(session, batch, roster.rows, plan.reference_date(2026), now)
            plan.confirm_all(session, 2026, "bench", now)
        planned = time.perf_counter() - began
        assert len(entries) == n

        began = time.perf_counter()
        outcomes = list(start.start_confirmed(engine, 2026, "joint_audit_xinghua", OPERATOR))
        started = time.perf_counter() - began
        assert len(outcomes) == n and all(o.case_id for o in outcomes), [o.problem for o in outcomes if not o.case_id][:3]

    print(f"read, import, propose and confirm {n} people: {planned:.2f} s")
    print(f"start {n} planned cases (joint_audit_xinghua, SQLite): {started:.2f} s "
          f"({started / n * 1000:.1f} ms per case; target < 10 s for 1,000)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="how many people (default 1000)")
    parser.add_argument("--processes", type=Path, default=REPO / "processes", help="the process library to deploy")
    args = parser.parse_args()
    main(args.n, args.processes)
