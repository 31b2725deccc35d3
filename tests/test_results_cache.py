"""A submitted assessment's results page keeps its rendered report (issue 16), per context, plan, reader's
right to plan and day, and shows every change at once: the plan's actions, the reader, a reopening."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from app.actions.models import ActionItem
from app.db import db
from app.reports import views as report_views

from .conftest import email
from .helpers import CONTENT, start_assessment
from .test_questionnaire_flow import fill_all


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """One entry per report rendered and kept."""
    report_views.REPORTS.clear()
    seen: list[Any] = []
    real = report_views.REPORTS.put
    monkeypatch.setattr(report_views.REPORTS, "put", lambda key, html: seen.append(key) or real(key, html))
    return seen


def _article(html: str) -> str:
    return html[html.index('<article class="report panel">'):html.index("</article>")]


def test_the_report_is_rendered_once_per_change(app, world, make_browser, renders):
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    fill_all(member, aid)
    assert member.post(f"/assessments/{aid}/submit").status_code == 302
    url = f"/assessments/{aid}/results"
    first = member.get(url).data.decode()
    assert len(renders) == 1
    again = member.get(url).data.decode()
    assert len(renders) == 1 and _article(again) == _article(first)
    assert "Plan an action for this gap" in first
    # A supervisor may not plan: another report, without the button; kept for the next supervisor view.
    sup = make_browser()
    sup.login(email("supervisor_a"))
    page = sup.get(url).data.decode()
    assert len(renders) == 2 and "Plan an action for this gap" not in page
    sup.get(url)
    assert len(renders) == 2
    # An action added to the plan, then changed: shown at once.
    gap_rec = re.search(r'/actions/new\?rec=([\w-]+)', first)
    assert gap_rec
    with app.app_context(), db.writing() as s:
        item = ActionItem(unit_id=world.unit_a1, recommendation_id=gap_rec.group(1), content_version=CONTENT.version,
                          title="Train the analysts", status="planned", description="", owner_name="",
                          due_date=date.today() + timedelta(days=30))
        s.add(item)
        s.flush()
        item_id = item.id
    assert "Train the analysts" in member.get(url).data.decode() and len(renders) == 3
    with app.app_context(), db.writing() as s:
        s.get(ActionItem, item_id).status = "in_progress"
    page = member.get(url).data.decode()
    assert len(renders) == 4
    assert re.search(r"Train the analysts</a>\s*<span class=\"badge\">In progress", page)
    # The language is in the key.
    assert member.post("/language", {"language": "fr", "next": url}).status_code == 302
    assert '<html lang="fr">' in member.get(url).data.decode() and len(renders) == 5
    # Reopened: rendered on every view and never kept.
    sup.get(f"/assessments/{aid}")
    assert sup.post(f"/assessments/{aid}/reopen", {"reason": "Check recommendation 4"}).status_code == 302
    member.get(url)
    member.get(url)
    assert len(renders) == 5
