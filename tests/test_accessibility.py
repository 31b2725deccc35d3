"""Accessibility: axe-core (WCAG 2.1 A and AA rules) finds no violation on the pages each role uses, at
desktop and phone width, in a real Chromium. The pages are filled with the demo data (drafts, submitted
assessments, an action plan, running and closed workshops), so tables, charts and forms are all there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.actions.models import ActionItem
from app.content.current import current
from app.db import db
from app.demo import load as load_demo
from app.demo import logins
from app.models import Agency, Assessment, Status, Unit, User
from app.workshops.models import Workshop

pytestmark = pytest.mark.browser

WIDTHS = [(1366, 900), (390, 844)]
PREPARING = "/agency/report.pdf"  # the agency report while it is being prepared: a page (202), not yet the file
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _pages(app: Any) -> dict[str, list[str]]:
    """Each role's pages, with the demo's objects."""
    with app.app_context(), db.writing() as s:
        load_demo(s, current("en"))
        empty = Agency(name="Agency without accounts yet")  # an empty table in a scrolling region
        s.add(empty)
        s.flush()
        empty_id = empty.id
        member_unit = s.scalars(select(User.unit_id).where(User.email == "member@demo.example")).one()
        # A workshop's proposal in the plan (adopt and drop-with-reason forms), as a trainer's conversion leaves.
        s.add(ActionItem(unit_id=member_unit, recommendation_id="r8", content_version=current("en").version,
                         title="Agree on 8.2", description="", owner_name="", status="proposed",
                         proposed_by="Demo: Academy seminar", drop_reason="", progress_note="", evidence="",
                         supervisor_remark=""))
    with app.app_context():
        member = db.session.scalars(select(User).where(User.email == "member@demo.example")).one()
        mine = select(Assessment).where(Assessment.unit_id == member.unit_id).order_by(Assessment.id)
        submitted = db.session.scalars(mine.where(Assessment.status == Status.SUBMITTED.value)).all()
        draft = db.session.scalars(mine.where(Assessment.status == Status.DRAFT.value)).first()
        unit = db.session.get(Unit, member.unit_id)
        running = db.session.scalars(select(Workshop).where(Workshop.closed_at.is_(None))).first()
        closed = db.session.scalars(select(Workshop).where(Workshop.closed_at.is_not(None))).first()
        a, d, u = submitted[-1].id, draft.id, unit.id
        return {
            "anon": ["/login", "/w/", "/accessibility"],
            "member": ["/assessments/", f"/assessments/{d}", f"/assessments/{d}/section/1",
                       f"/assessments/{d}/review", f"/assessments/{a}/results", f"/units/{u}/plan",
                       f"/assessments/{a}/actions/new?rec=r4", "/about", "/account/password"],
            "supervisor": ["/agency/", "/agency/?late_sort=rec&late_order=desc", f"/units/{u}/plan",
                           f"/units/{u}/trend", f"/compare?a={submitted[0].id}&b={a}", "/admin/users",
                           "/audit/", PREPARING],
            "trainer": ["/workshops/", "/workshops/new", f"/workshops/{running.id}",
                        f"/workshops/{running.id}/join-screen", f"/workshops/{running.id}/consensus",
                        f"/workshops/{closed.id}/consensus",
                        f"/workshops/{closed.id}/report"],
            "admin": ["/admin/", "/admin/users", f"/admin/users?agency={empty_id}", "/admin/users/new", "/audit/"],
            "participant": [f"/w/{running.id}/", f"/w/{running.id}/r/1"],
            "_code": [running.code],
        }


def _violations(axe: Any, page: Any) -> list[str]:
    result = axe.run(page, options=WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_wcag_violation_on_any_role_page_at_desktop_and_phone_width(app, chromium, monkeypatch):
    from axe_playwright_python.sync_playwright import Axe

    from app.supervisor import agency_report

    # The agency report's "being prepared" page (202) stays that page while it is checked: no render finishes
    # and turns it into the download.
    monkeypatch.setattr(agency_report, "start", lambda *args, **kw: None)

    browser, base = chromium
    pages = _pages(app)
    axe = Axe()
    found: dict[str, list[str]] = {}
    creds: dict[str, tuple[str, str]] = {}
    for mail, pw, role in logins():
        creds.setdefault(role, (mail, pw))  # the first of each role (the member of the unit above)
    for role in ("anon", "member", "supervisor", "trainer", "admin", "participant"):
        for width, height in WIDTHS:
            ctx = browser.new_context(viewport={"width": width, "height": height})
            pg = ctx.new_page()
            if role in creds:
                pg.goto(base + "/login")
                pg.fill("#email", creds[role][0])
                pg.fill("#password", creds[role][1])
                pg.click("main button[type=submit]")
                pg.wait_for_load_state()
            elif role == "participant":
                pg.goto(base + "/w/")
                pg.fill("#code", pages["_code"][0])
                pg.click("main button[type=submit]")
                pg.wait_for_load_state()
            for url in pages[role]:
                resp = pg.goto(base + url)
                expected = 202 if url == PREPARING else 200
                assert resp is not None and resp.status == expected, (role, url, resp and resp.status)
                v = _violations(axe, pg)
                if v:
                    found[f"{role} {width}px {url}"] = v
            ctx.close()
    assert found == {}, "axe-core (WCAG 2.1 A/AA) violations:\n" + "\n".join(
        f"{where}: {v}" for where, vs in found.items() for v in vs)
