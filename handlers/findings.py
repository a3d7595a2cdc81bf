"""Merging the three departments' findings (用人/用编/用财) into one numbered list."""
from __future__ import annotations

from typing import Any

from . import HandlerContext, field_titles, handler

DUTIES = ("personnel", "establishment", "finance")
DUTY_NAMES = {"personnel": "用人", "establishment": "用编", "finance": "用财"}
DUTY_NAMES_EN = {"personnel": "appointments", "establishment": "establishment", "finance": "finance"}

field_titles({"findings": ("问题清单", "Findings"), "finding_count": ("问题数", "Number of findings")})


@handler("findings.merge")
def merge_findings(ctx: HandlerContext) -> dict[str, Any]:
    """Tag each department's findings with its duty and number them 1..n (情况汇总)."""
    merged = []
    for duty in DUTIES:
        for finding in ctx.data.get(f"{duty}_findings") or []:
            merged.append({**finding, "duty": duty, "item_no": len(merged) + 1})
    ctx.data["findings"] = merged
    ctx.data["finding_count"] = len(merged)
    return {"finding_count": len(merged)}
