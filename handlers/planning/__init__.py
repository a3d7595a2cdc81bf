"""Annual planning (年度联审计划, seeds 001 and 002): the cadre roster taken in from Excel or CSV, the year's
subjects proposed by the `audit_required` decision table, confirmed or removed by the organization department
or the leading group, and their joint-audit cases opened in bulk on the city's variant.

roster.py reads and checks the file (writes nothing); plan.py imports it and keeps the plan; start.py opens
the cases; records.py holds the tables.
"""
from __future__ import annotations

from .. import field_titles
from . import records  # noqa: F401  (registers the tables on Base.metadata)

field_titles({"unit_class": ("单位类别", "Unit class")})
