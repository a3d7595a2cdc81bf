"""The demo's complaints and key tasks as the discipline body sees them in a real browser: the complaint list with a
complaint of each routing and the overdue reply, a substantiated complaint's page with the informant (shown to
the discipline body only) and the accountability outcome, and a key task lit each quarter. The pages are
photographed for the README."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.browser.conftest import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_discipline_reads_complaints_and_a_key_task(site, page):
    from handlers.complaint import Complaint
    from handlers.key_tasks import KeyTask

    base = site["base"]
    with site["engine"].db.reading() as session:
        direct = session.scalar(select(Complaint.id).where(Complaint.routing == "direct", Complaint.finding == "substantiated"))
        task = session.scalar(select(KeyTask.id).where(KeyTask.unit == "安丰镇"))
    sign_in(page, base, "discipline")
    page.goto(f"{base}/complaints/")
    listing = page.inner_text("main")
    for routing in ("直办", "交办", "转办", "督办"):
        assert routing in listing
    assert "省交通运输厅" in listing and "戴窑镇" in listing
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "complaints.png"), full_page=True)

    page.goto(f"{base}/complaints/{direct}")
    text = page.inner_text("main")
    assert "郑凯文" in text and "属实" in text and "刘建伟" in text  # the informant: the discipline body's page only
    assert "信访约谈" in text
    page.screenshot(path=str(SHOTS / "complaint_page.png"), full_page=True)

    page.goto(f"{base}/responsibility/tasks/{task}")
    text = page.inner_text("main")
    assert "征地拆迁补偿资金监管" in text and "红灯" in text and "黄灯" in text
    page.screenshot(path=str(SHOTS / "key_task.png"), full_page=True)
