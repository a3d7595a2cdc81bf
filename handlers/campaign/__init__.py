"""治庸问责 accountability campaigns (seed 003, DOMAIN.md §2): a leading office launches a campaign of four phases
(宣传发动, 自查整改, 督查问责, 总结提高) to its participating units, each unit hands in its deliverables to the office's
review, the office inspects (明查暗访), a unit may launch the campaign further down, and the office commends the
advanced units at the end.

records.py holds the tables; windows.py the phases' dates (defaults, edits, checks, drafts); steps.py what the
processes' service tasks do (see its docstring for why each unit's side is a case of its own); dashboard.py the
read queries of the campaign pages and the dashboard.
"""
from __future__ import annotations

from . import records  # noqa: F401  (registers the tables on Base.metadata)
from . import steps  # noqa: F401  (registers the handlers and form options)
from .dashboard import dashboard_rows  # noqa: F401  (the contract other parts read)
