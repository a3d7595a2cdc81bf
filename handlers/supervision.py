"""Supervision of rectification (整改督查): listed supervision (挂牌督办) and late reports (逾期未报).

Seed 000 (四、几点建议): serious problems are put under listed supervision with a fixed deadline
(挂牌督办、限期解决); rectification results must be reported by a deadline, and units that delay
(拖延整改) are held to account (整改结果限期报告制度). The handlers write what they decide into the
case data, so the step's event in the case history carries it.

A late report is noticed twice, on purpose:
- `supervision.escalate_overdue_report` runs on the branch of the non-interrupting deadline timer
  (整改期限届满) while the report is still outstanding. SpiffWorkflow never merges a boundary
  branch's data back into the main path, so what it records lives in that step's event and in the
  final case data only.
- `supervision.check_report_deadline` runs on the main path right after the report: it records the
  same late report (same round and deadline) in the case data the rest of the case carries, and
  catches late reports the timer missed (a worker that was down).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from engine.models import Case
from . import HandlerContext, field_titles, handler

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
LISTED_DEFAULT_DAYS = 30  # a listed case without a rectification deadline gets one month

field_titles({
    "listed": ("挂牌督办", "Listed supervision"), "listed_deadline": ("督办期限", "Supervision deadline"),
    "listed_at": ("挂牌时间", "Listed on"), "listed_note": ("督办意见", "Supervision note"),
    "late_reports": ("逾期未报记录", "Late reports"), "overdue_reported": ("逾期未报", "Report overdue"),
    "accountability_flag": ("追究责任", "Held to account"), "accountability_note": ("追责意见", "Accountability note"),
    "report_in_time": ("按期报送", "Reported in time"),
    "report_sent_to_discipline": ("联审报告已送纪委监委", "Report sent to the discipline body"),
})


def _local(moment: datetime) -> datetime:
    """The handler's `now` (naive UTC) as Beijing time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(OFFICE_TZ)


def _deadline(value: Any) -> date | None:
    """The date of a deadline entered in a form (YYYY-MM-DD), or None when missing or unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _overdue(deadline: date, now: datetime) -> bool:
    """A deadline date runs to the end of that day in Beijing (as the work item's due date does)."""
    return _local(now) > datetime.combine(deadline, time(23, 59, 59), OFFICE_TZ)


def _record_late_report(ctx: HandlerContext, deadline: date | None, **extra: Any) -> dict[str, Any]:
    """Append the late report to `late_reports` once per deadline and raise the accountability flags.

    A deadline is missed once: later rounds under the same deadline add no entry, so the list
    stays short however long the rectification loops. `round` is the rectification round whose
    report was late (1 = the first report).
    """
    deadline_text = deadline.isoformat() if deadline else ""
    report_round = int(ctx.data.get("rectification_round") or 0)
    if not ctx.data.get("rounds"):  # earlier versions count a round once its visit is done
        report_round += 1
    late = [dict(entry) for entry in ctx.data.get("late_reports") or [] if isinstance(entry, dict)]
    entry = next((e for e in late if e.get("deadline") == deadline_text), None)
    if entry is None:
        note = (f"第 {report_round} 轮整改情况逾期未报（整改期限 {deadline_text or '未定'}），"
                f"已督办并记录在案，追究相关人员责任")
        entry = {"round": report_round, "deadline": deadline_text,
                 "noticed_at": _local(ctx.now).isoformat(timespec="seconds"), "note": note, **extra}
        late.append(entry)
    ctx.data["late_reports"] = late
    ctx.data["overdue_reported"] = True
    ctx.data["accountability_flag"] = True
    ctx.data["accountability_note"] = entry["note"]
    return entry


@handler("supervision.list_case")
def list_case(ctx: HandlerContext) -> dict[str, Any]:
    """Put a serious case under listed supervision (挂牌督办) with a fixed deadline (限期解决).

    Sets the case row's `listed` column (lists and dashboards read it) and, in the case data,
    `listed = True` and `listed_deadline`: the rectification deadline, or 30 days from today
    (Beijing) when none was set.
    """
    deadline = _deadline(ctx.data.get("rectification_deadline"))
    if deadline is None:
        deadline = _local(ctx.now).date() + timedelta(days=LISTED_DEFAULT_DAYS)
    ctx.session.execute(update(Case).where(Case.id == ctx.case_id).values(listed=True)
                        .execution_options(synchronize_session=False))
    note = f"问题性质严重、影响较坏，挂牌督办，限 {deadline.isoformat()} 前整改到位并报送结果"
    ctx.data["listed"] = True
    ctx.data["listed_deadline"] = deadline.isoformat()
    ctx.data["listed_at"] = _local(ctx.now).isoformat(timespec="seconds")
    ctx.data["listed_note"] = note
    return {"listed": True, "listed_deadline": deadline.isoformat(), "note": note}


@handler("supervision.escalate_overdue_report")
def escalate_overdue_report(ctx: HandlerContext) -> dict[str, Any]:
    """The rectification deadline passed without a report (逾期未报): record it for accountability.

    Called by the deadline timer's branch, so the deadline has passed by definition. Appends
    `{round, deadline, noticed_at, note}` to `late_reports` (once per deadline) and sets
    `overdue_reported` and `accountability_flag`.
    """
    deadline = _deadline(ctx.data.get("rectification_deadline"))
    entry = _record_late_report(ctx, deadline)
    return {"overdue_reported": True, "round": entry["round"], "deadline": entry["deadline"],
            "note": entry["note"]}


@handler("supervision.check_report_deadline")
def check_report_deadline(ctx: HandlerContext) -> dict[str, Any]:
    """After the unit's report: was it within the rectification deadline (整改结果限期报告)?

    A report after the end of the deadline day (Beijing) is recorded like a missed deadline
    (`late_reports`, `overdue_reported`, `accountability_flag`), with `reported_at`; a report in
    time records nothing. `report_in_time` tells which it was; no deadline means in time.
    """
    deadline = _deadline(ctx.data.get("rectification_deadline"))
    reported_at = _local(ctx.now).isoformat(timespec="seconds")
    if deadline is None or not _overdue(deadline, ctx.now):
        ctx.data["report_in_time"] = True
        return {"report_in_time": True, "reported_at": reported_at}
    entry = _record_late_report(ctx, deadline, reported_at=reported_at)
    ctx.data["report_in_time"] = False
    return {"report_in_time": False, "round": entry["round"], "deadline": entry["deadline"], "note": entry["note"]}


@handler("supervision.send_report")
def send_report(ctx: HandlerContext) -> dict[str, Any]:
    """The approved (审定) joint-audit report goes to the discipline body (纪委监委) for the record and for any
    leads it holds: recorded in the case data and in this step's event."""
    sent_at = _local(ctx.now).isoformat(timespec="seconds")
    ctx.data["report_sent_to_discipline"] = True
    ctx.data["report_sent_at"] = sent_at
    return {"sent_to": "discipline", "sent_at": sent_at, "report_no": ctx.data.get("report_no")}
