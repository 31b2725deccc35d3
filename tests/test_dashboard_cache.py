"""The supervisor dashboard is computed once per change of what it shows, not per view (issue 16).

Its body is kept per process under a key read from the database on every view (the agency's fingerprint, the day,
the language, the sort order), so every change made anywhere shows at once, and supervisors of another agency
never get it. Builds are counted by wrapping ``supervisor.services.dashboard``; nothing here measures time.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.actions.models import ActionItem
from app.db import db
from app.models import Role, Unit, User
from app.passwords import hash_password
from app.supervisor import services as supervisor_services
from app.supervisor import views as supervisor_views

from .conftest import PASSWORD, World, email
from .helpers import CONTENT, save_section, start_assessment
from .test_questionnaire_flow import fill_all


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per dashboard computed (the scores, the rows, the heat map's data)."""
    supervisor_views.DASHBOARD_PAGES.clear()
    seen: list[int] = []
    real = supervisor_services.dashboard

    def counted(session: Any, user: Any, *args: Any, **kw: Any) -> Any:
        seen.append(user.agency_id)
        return real(session, user, *args, **kw)

    monkeypatch.setattr(supervisor_services, "dashboard", counted)
    return seen


def _body(html: str) -> str:
    """The page's main content (the kept part), without what changes with every request."""
    main = html[html.index("<main"):html.index("</main>")]
    main = re.sub(r'<input[^>]*csrf_token[^>]*>', "", main)
    return re.sub(r'<div class="flashes".*?</div>', "", main, flags=re.S)


def _add_supervisor(app: Any, world: World, key: str) -> None:
    with app.app_context(), db.writing() as s:
        s.add(User(email=f"{key}@example.org", name=key, role=Role.SUPERVISOR.value, agency_id=world.agency_a,
                   password_hash=hash_password(PASSWORD), active=True))


def test_a_second_view_and_a_second_supervisor_reuse_the_first_computation(app, world, make_browser, builds):
    _add_supervisor(app, world, "supervisor2_a")
    sup = make_browser()
    sup.login(email("supervisor_a"))
    first = sup.get("/agency/")
    assert first.status_code == 200 and builds == [world.agency_a]
    again = sup.get("/agency/")
    assert builds == [world.agency_a] and _body(again.data.decode()) == _body(first.data.decode())
    colleague = make_browser()
    colleague.login("supervisor2_a@example.org")
    assert _body(colleague.get("/agency/").data.decode()) == _body(first.data.decode())
    assert builds == [world.agency_a]
    # Another agency's supervisor gets its own dashboard, never agency A's.
    other = make_browser()
    other.login(email("supervisor_b"))
    page = other.get("/agency/").data.decode()
    assert builds == [world.agency_a, world.agency_b]
    assert "Unit B1" in page and "Unit A1" not in page and "Agency A" not in page
    assert "Unit A1" not in other.get("/agency/").data.decode() and len(builds) == 2
    # Another sort order is another page; an unknown one is the default's page.
    assert sup.get("/agency/?sort=maturity").status_code == 200 and len(builds) == 3
    assert sup.get("/agency/?sort=nonsense&order=up").status_code == 200 and len(builds) == 3
    # Another language is another page, and the first is still kept.
    assert sup.post("/language", {"language": "es", "next": "/agency/"}).status_code == 302
    assert '<html lang="es">' in sup.get("/agency/").data.decode() and len(builds) == 4
    assert sup.post("/language", {"language": "en", "next": "/agency/"}).status_code == 302
    assert _body(sup.get("/agency/").data.decode()) == _body(first.data.decode()) and len(builds) == 4


def test_every_change_the_dashboard_shows_is_seen_at_once(app, world, make_browser, builds, monkeypatch):
    sup, member = make_browser(), make_browser()
    sup.login(email("supervisor_a"))
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1, title="Cache check")
    n = len(CONTENT.questions)

    def view(expect_build: bool = True) -> str:
        before = len(builds)
        html = sup.get("/agency/").data.decode()
        assert len(builds) == before + (1 if expect_build else 0), (before, builds)
        return html

    assert f"0/{n}" in view()
    view(expect_build=False)
    # A save of a draft: the answered count moves.
    assert save_section(member, aid, 1, ["2", "3"]).status_code == 302
    assert f"2/{n}" in view()
    view(expect_build=False)
    # Submission: the assessment is the unit's latest, with its scores.
    fill_all(member, aid)
    assert member.post(f"/assessments/{aid}/submit").status_code == 302
    page = view()
    assert f'href="/assessments/{aid}/results"' in page and "Signed off" not in page
    # Sign-off.
    sup.get(f"/assessments/{aid}")
    assert sup.post(f"/assessments/{aid}/signoff", {"remark": "Fine"}).status_code == 302
    assert "Signed off" in view()
    view(expect_build=False)
    # Reopening: the unit has nothing submitted any more, and a reopened assessment in progress.
    assert sup.post(f"/assessments/{aid}/reopen", {"reason": "Check recommendation 4"}).status_code == 302
    page = view()
    assert f'href="/assessments/{aid}/results"' not in page and "Signed off" not in page
    # An action added, then changed, and its owner renamed.
    with app.app_context(), db.writing() as s:
        owner = s.scalars(select(User).where(User.email == email("member_a1"))).one()
        item = ActionItem(unit_id=world.unit_a1, recommendation_id=CONTENT.recommendations[0].id,
                          content_version=CONTENT.version, title="Late action", status="planned", description="",
                          owner_id=owner.id, owner_name="", due_date=date.today() - timedelta(days=3))
        s.add(item)
        s.flush()
        item_id = item.id
    page = view()
    assert "Late action" in page and "Member A1" in page
    with app.app_context(), db.writing() as s:
        s.get(ActionItem, item_id).title = "Late action, renamed"  # the mapper bumps its version
    assert "Late action, renamed" in view()
    with app.app_context(), db.writing() as s:
        s.execute(update(User).where(User.email == email("member_a1")).values(name="Owner Renamed"))
    assert "Owner Renamed" in view()
    view(expect_build=False)
    # A unit renamed.
    with app.app_context(), db.writing() as s:
        s.execute(update(Unit).where(Unit.id == world.unit_a2).values(name="Unit A2 renamed"))
    assert "Unit A2 renamed" in view()
    # The next day (overdue marks move with the date).
    from app.actions import services as action_services

    monkeypatch.setattr(action_services, "today_utc", lambda: date.today() + timedelta(days=1))
    view()
    view(expect_build=False)
    # Nothing in agency B changes agency A's page.
    other = make_browser()
    other.login(email("member_b1"))
    start_assessment(other, world.unit_b1, title="Agency B draft")
    view(expect_build=False)


def test_the_overdue_lists_sort_order_is_part_of_the_key(app, world, make_browser, builds):
    """The overdue list sorts on the server (?late_sort, ?late_order): each order is its own kept page, an unknown
    one is the default's, and a kept page never answers for another order."""
    with app.app_context(), db.writing() as s:
        for unit_id in (world.unit_a1, world.unit_a2):
            s.add(ActionItem(unit_id=unit_id, recommendation_id="r1", content_version=CONTENT.version,
                             title=f"Late {unit_id}", due_date=date.today() - timedelta(days=3)))
    sup = make_browser()
    sup.login(email("supervisor_a"))
    default = sup.get("/agency/").data.decode()
    assert len(builds) == 1 and "Late " in default
    by_unit = sup.get("/agency/?late_sort=unit&late_order=desc").data.decode()
    assert len(builds) == 2
    assert 'aria-sort="descending"' in by_unit and 'aria-sort="descending"' not in default
    assert _body(sup.get("/agency/?late_sort=unit&late_order=desc").data.decode()) == _body(by_unit)
    assert len(builds) == 2
    assert _body(sup.get("/agency/?late_sort=bogus&late_order=sideways").data.decode()) == _body(default)
    assert len(builds) == 2
