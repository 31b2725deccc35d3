"""Agency dashboard: latest assessment per unit, drafts, overdue units, sortable heat map linking to the detail,
never another agency's data, and a query count that does not grow with the number of units."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from app.db import db
from app.display import fmt_level, fmt_pct
from app.models import Status, Unit, utcnow

from .conftest import email
from .helpers import CONTENT
from .supervisor_data import add_assessment, count_queries, expected_scores, level_plan, uniform_plan

PLAN = {"r1": ["2", "3", "1", "unknown"], "r2": ["1", "1", "0", "2"], "r3": ["4", "3", "3", "4"],
        "r4": ["0", "0", "1", "na"], "r5": ["2", "2", "2", "2"], "r6": ["na", "na", "na", "na"],
        "r7": ["1", "unknown", "0", "1"], "r8": ["3", "2", "2", "1"], "r9": ["2", "1", "2", "3"],
        "r10": ["0", "1", "unknown", "0"]}
TARGETS = {"r1": 3, "r2": 4, "r4": 4, "r5": 2, "r7": 4, "r10": 2}


def text_of(resp) -> str:
    return html.unescape(resp.data.decode())


def row_of(page: str, unit: str) -> str:
    """The units-table row of one unit."""
    m = re.search(r'<tr>\s*<th scope="row">' + re.escape(unit) + r"</th>(.*?)</tr>", page, re.S)
    assert m, unit
    return m.group(1)


def test_no_assessments_every_unit_is_overdue(app, world, browser):
    browser.login(email("supervisor_a"))
    resp = browser.get("/agency/")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "Unit A1" in page and "Unit A2" in page
    assert "never assessed" in page and page.count("Overdue") >= 3  # KPI label + one badge per unit
    assert "No unit has submitted an assessment yet." in page
    assert "Unit B1" not in page and "Agency B" not in page


def test_one_assessment_numbers_come_from_the_scoring_module(app, world, browser):
    with app.app_context(), db.writing():
        aid = add_assessment(world.unit_a1, level_plan(PLAN), targets=TARGETS, title="Annual 2026")
    expected = expected_scores(level_plan(PLAN), TARGETS)
    browser.login(email("supervisor_a"))
    page = text_of(browser.get("/agency/"))
    row = row_of(page, "Unit A1")
    assert "Annual 2026" in row and fmt_level(expected.maturity) in row
    for p in ("fear", "want", "indignity"):
        assert fmt_pct(expected.exposure[p]) in row
    # Heat map: one link per recommendation of Unit A1, to the results page at that recommendation.
    for rec in CONTENT.recommendations:
        rs = expected.by_id[rec.id]
        anchor = f"gap-{rec.id}" if rs.gap else f"rec-{rec.id}"
        link = f'/assessments/{aid}/results#{anchor}'
        assert link in page, link
        if rs.applicable:
            assert re.search(re.escape(link) + r'"[^>]*>\s*<span class="heat-lvl">' + re.escape(fmt_level(rs.current)),
                             page), rec.id
    assert 'aria-label="Unit A1, 6. ' in page and "not applicable" in page  # r6 is all n/a
    # The anchors exist on the results page.
    results = browser.get(f"/assessments/{aid}/results").data.decode()
    assert 'id="rec-r3"' in results and 'id="gap-r4"' in results
    # Unit A2 has nothing submitted: it is overdue; A1 is not.
    assert "Overdue" in row_of(page, "Unit A2") and "Overdue" not in row


def test_many_assessments_latest_drafts_and_overdue(app, world, browser):
    now = utcnow()
    with app.app_context(), db.writing():
        add_assessment(world.unit_a1, uniform_plan("1"), title="Old one", submitted_at=now - timedelta(days=800))
        add_assessment(world.unit_a1, uniform_plan("3"), title="Newest", submitted_at=now - timedelta(days=20))
        add_assessment(world.unit_a1, uniform_plan("2"), title="Middle", submitted_at=now - timedelta(days=300))
        add_assessment(world.unit_a1, uniform_plan("4"), title="Draft in progress", status=Status.DRAFT.value)
        add_assessment(world.unit_a2, uniform_plan("2"), title="A2 long ago", submitted_at=now - timedelta(days=400))
        add_assessment(world.unit_a2, {}, title="A2 reopened", status=Status.REOPENED.value)
        add_assessment(world.unit_b1, uniform_plan("0"), title="B1 secret", submitted_at=now - timedelta(days=1))
    browser.login(email("supervisor_a"))
    page = text_of(browser.get("/agency/"))
    a1, a2 = row_of(page, "Unit A1"), row_of(page, "Unit A2")
    assert "Newest" in a1 and "Old one" not in a1 and "Middle" not in a1
    assert "3.0" in a1 and "Draft in progress" in a1 and "40/40" in a1
    assert "Overdue" not in a1
    assert "A2 long ago" in a2 and "Overdue" in a2 and "A2 reopened" in a2 and "0/40" in a2
    assert "B1 secret" not in page and "Unit B1" not in page
    assert "last submitted" in page  # the overdue list names A2's last date
    # The interval is configurable: with 30 months nothing is overdue.
    app.config["REVIEW_INTERVAL_MONTHS"] = 30
    page = text_of(browser.get("/agency/"))
    assert "Every unit has submitted an assessment within the interval." in page
    assert "Overdue" not in row_of(page, "Unit A2")


def _order(page: str) -> list[str]:
    units = re.search(r'<section class="panel" id="units".*?</section>', page, re.S).group(0)
    return re.findall(r'<th scope="row">([^<]+)</th>', units)


def test_sorting_works_without_javascript(app, world, browser):
    with app.app_context(), db.writing():
        s = db.session
        for name in ("Unit A3", "Unit A4"):
            s.add(Unit(name=name, agency_id=world.agency_a))
        s.flush()
        ids = {u.name: u.id for u in s.query(Unit).all()}
        add_assessment(ids["Unit A1"], uniform_plan("3"))
        add_assessment(ids["Unit A2"], uniform_plan("1"))
        add_assessment(ids["Unit A3"], level_plan({r.id: ["4", "4", "4", "4"] if r.id != "r4" else ["0"] * 4
                                                   for r in CONTENT.recommendations}))
    browser.login(email("supervisor_a"))
    assert _order(text_of(browser.get("/agency/"))) == ["Unit A1", "Unit A2", "Unit A3", "Unit A4"]
    assert _order(text_of(browser.get("/agency/?sort=maturity&order=asc"))) == ["Unit A2", "Unit A1", "Unit A3",
                                                                                 "Unit A4"]
    # No value (A4 never assessed) always goes last, whatever the order.
    assert _order(text_of(browser.get("/agency/?sort=maturity&order=desc"))) == ["Unit A3", "Unit A1", "Unit A2",
                                                                                  "Unit A4"]
    # By a recommendation: the largest gap first (A3 has level 0 on r4: gap 3).
    page = text_of(browser.get("/agency/?sort=r4"))
    assert _order(page)[0] == "Unit A3"
    assert 'aria-sort="descending"' in page and "sort=r4&amp;order=asc" in browser.get("/agency/?sort=r4").data.decode()
    assert _order(text_of(browser.get("/agency/?sort=fear&order=desc")))[0] == "Unit A2"
    # Unknown sort keys and orders fall back to the defaults instead of failing.
    resp = browser.get("/agency/?sort=__class__&order=sideways")
    assert resp.status_code == 200 and _order(text_of(resp))[0] == "Unit A1"


def test_other_agency_sees_only_its_own(app, world, browser):
    with app.app_context(), db.writing():
        add_assessment(world.unit_a1, uniform_plan("2"), title="A1 assessment")
        add_assessment(world.unit_b1, uniform_plan("1"), title="B1 assessment")
    browser.login(email("supervisor_b"))
    page = text_of(browser.get("/agency/"))
    assert "Agency B" in page and "Unit B1" in page and "B1 assessment" in page
    assert "Unit A1" not in page and "A1 assessment" not in page and "Unit A2" not in page


@pytest.mark.parametrize("who", ["member_a1", "trainer_a", "admin"])
def test_dashboard_is_for_supervisors_only(app, world, browser, who):
    browser.login(email(who))
    assert browser.get("/agency/").status_code == 403


def test_nav_link_for_supervisors(app, world, browser):
    browser.login(email("supervisor_a"))
    assert 'href="/agency/"' in browser.get("/assessments/").data.decode()
    member = app.test_client()
    from .conftest import Browser

    m = Browser(member)
    m.login(email("member_a1"))
    assert 'href="/agency/"' not in m.get("/assessments/").data.decode()


def _dashboard_queries(app, browser, agency_id: int, n_units: int) -> tuple[int, int]:
    """Statements run by one dashboard request for an agency of ``n_units`` units, each with history and a draft:
    when it is computed, and when it is viewed again unchanged (served as kept)."""
    with app.app_context(), db.writing():
        for i in range(n_units):
            u = Unit(name=f"Scale unit {n_units}-{i}", agency_id=agency_id)
            db.session.add(u)
            db.session.flush()
            add_assessment(u.id, uniform_plan(str(i % 5)), title=f"Submitted {i}")
            add_assessment(u.id, uniform_plan("1"), title=f"Older {i}", submitted_at=utcnow() - timedelta(days=500))
            add_assessment(u.id, {}, title=f"Draft {i}", status=Status.DRAFT.value)
    browser.get("/agency/")  # warm: login bookkeeping, caches
    seen, stop = count_queries(app)
    try:
        resp = browser.get("/agency/?sort=r3")
    finally:
        stop()
    assert resp.status_code == 200
    assert resp.data.decode().count("Scale unit") >= n_units
    computed = len(seen)
    seen, stop = count_queries(app)
    try:
        again = browser.get("/agency/?sort=r3")
    finally:
        stop()
    assert again.data.decode().count("Scale unit") >= n_units
    return computed, len(seen)


def test_query_count_does_not_depend_on_the_number_of_units(app, world, make_browser):
    from app.models import Agency, Role, User
    from app.passwords import hash_password

    from .conftest import PASSWORD

    counts = {}
    for n in (1, 5):
        with app.app_context(), db.writing():
            agency = Agency(name=f"Scale agency {n}")
            db.session.add(agency)
            db.session.flush()
            agency_id = agency.id
            db.session.add(User(email=f"scale{n}@example.org", name="Scale", role=Role.SUPERVISOR.value,
                                agency_id=agency_id, password_hash=hash_password(PASSWORD), active=True))
        b = make_browser()
        b.login(f"scale{n}@example.org")
        counts[n] = _dashboard_queries(app, b, agency_id, n)
    assert counts[1] == counts[5], counts
    computed, kept = counts[1]
    assert computed <= 15 and kept < computed, counts  # the kept page: the user, the fingerprint, no scoring
