"""The cadre's integrity file (廉政档案): audit results and rectification go in at the end of a case."""
from __future__ import annotations

from typing import Any

from . import HandlerContext, field_titles, handler
from .records import IntegrityRecord

field_titles({"archived": ("已存入廉政档案", "Filed in the integrity file")})


@handler("integrity_file.archive")
def archive(ctx: HandlerContext) -> dict[str, Any]:
    """File the joint-audit result and its rectification record under the cadre's name."""
    findings = ctx.data.get("findings") or []
    ctx.session.add(
        IntegrityRecord(
            case_id=ctx.case_id,
            cadre_name=str(ctx.data.get("cadre_name") or ""),
            unit=ctx.unit,
            audit_type=str(ctx.data.get("audit_type") or ""),
            finding_count=len(findings),
            major_count=sum(1 for f in findings if f.get("severity") == "major"),
            rectification_rounds=int(ctx.data.get("rectification_round") or 0),
            conclusion=str(ctx.data.get("report_conclusion") or ctx.data.get("conclusion") or ""),
            archived_at=ctx.now,
        )
    )
    ctx.data["archived"] = True
    return {"archived": True}
