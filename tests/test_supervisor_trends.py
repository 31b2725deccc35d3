"""Progress over time and comparisons: trend pages with no, one and many assessments, the comparison page,
the gap report's "since the previous assessment" (same code), and comparisons across content versions."""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.config import ROOT
from app.content import load_file
from app.content.current import for_version
from app.db import db
from app.display import fmt_level, fmt_pct
from app.models import Assessment, Status, utcnow
from app.reports import context as report_context

from .conftest import email
from .helpers import CONTENT
from .supervisor_data import add_assessment, expected_scores, level_plan, uniform_plan


def text_of(resp) -> str:
    return html.unescape(resp.data.decode())


def chart_desc(page: str, chart_id: str) -> str:
    m = re.search(rf'<desc id="{chart_id}-d">(.*?)</desc>', page, re.S)
    assert m, chart_id
    return m.group(1)


def test_trend_without_any_submitted_assessment(app, world, browser):
    with app.app_context(), db.writing():
        add_assessment(world.unit_a1, {}, title="Just started", status=Status.DRAFT.value)
    browser.login(email("supervisor_a"))
    resp = browser.get(f"/units/{world.unit_a1}/trend")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "has not submitted an assessment yet" in page and "Just started" in page
    assert "<svg" not in page


def test_trend_with_one_assessment_shows_points(app, world, browser):
    plan = uniform_plan("2")
    with app.app_context(), db.writing():
        add_assessment(world.unit_a1, plan, title="First")
    browser.login(email("supervisor_a"))
    page = text_of(browser.get(f"/units/{world.unit_a1}/trend"))
    assert "One submitted assessment so far" in page
    assert re.fullmatch(r"Overall maturity: \d{4}-\d{2} 2\.0", chart_desc(page, "trend-maturity"))
    maturity_svg = re.search(r'<svg[^>]*aria-labelledby="trend-maturity-t.*?</svg>', page, re.S).group(0)
    assert "<circle" in maturity_svg and "<polyline" not in maturity_svg
    assert page.count('class="chart spark"') == len(CONTENT.recommendations)


def test_trend_with_many_assessments_matches_the_scoring_module(app, world, browser):
    now = utcnow()
    plans = [uniform_plan("1"), level_plan({r.id: ["2", "3", "na", "unknown"] for r in CONTENT.recommendations}),
             uniform_plan("3")]
    targets = [{}, {"r1": 4, "r2": 2}, {"r3": 1}]
    ids = []
    with app.app_context(), db.writing():
        for k, (plan, tg) in enumerate(zip(plans, targets, strict=True)):
            ids.append(add_assessment(world.unit_a1, plan, targets=tg, title=f"Round {k + 1}",
                                      submitted_at=now - timedelta(days=700 - 300 * k)))
        add_assessment(world.unit_a2, uniform_plan("4"), title="Other unit")
    browser.login(email("supervisor_a"))
    page = text_of(browser.get(f"/units/{world.unit_a1}/trend"))
    expected = [expected_scores(p, t) for p, t in zip(plans, targets, strict=True)]
    desc = chart_desc(page, "trend-maturity")
    assert [fmt_level(e.maturity) for e in expected] == re.findall(r"\d{4}-\d{2} ([\d.–]+)", desc)
    exposure = chart_desc(page, "trend-exposure")
    for pillar in CONTENT.pillars:
        part = re.search(re.escape(pillar.short) + r": ([^;]*)", exposure).group(1)
        assert re.findall(r"\d{4}-\d{2} (\d+%)", part) == [fmt_pct(e.exposure[pillar.id]) for e in expected]
    r1 = chart_desc(page, "trend-r1")
    assert [fmt_level(e.by_id["r1"].current) for e in expected] == re.findall(r": ([\d.]+) \(", r1)
    assert "Other unit" not in page and "<polyline" in page
    for a, b in itertools.pairwise(ids):  # "compare with previous" on every row but the first
        assert f"/compare?a={a}&b={b}" in page


def test_member_sees_own_unit_trend_only(app, world, browser):
    browser.login(email("member_a1"))
    assert browser.get(f"/units/{world.unit_a1}/trend").status_code == 200
    assert browser.get(f"/units/{world.unit_a2}/trend").status_code == 404
    assert browser.get(f"/units/{world.unit_b1}/trend").status_code == 404


def _two(app, world, unit_b=None):
    first = level_plan({"r1": ["1", "1", "1", "1"], "r2": ["3", "3", "3", "3"], "r3": ["2", "2", "2", "2"]})
    first.update({q: "2" for q in CONTENT.questions if q not in first})
    second = dict(first)
    for q in CONTENT.recommendation_by_id["r1"].questions:
        second[q.id] = "4"  # r1 rises 1 -> 4: its gap closes
    for q in CONTENT.recommendation_by_id["r2"].questions:
        second[q.id] = "1"  # r2 falls 3 -> 1: a new gap
    with app.app_context(), db.writing():
        a = add_assessment(world.unit_a1, first, title="Before", submitted_at=utcnow() - timedelta(days=200))
        b = add_assessment(unit_b or world.unit_a1, second, title="After", submitted_at=utcnow() - timedelta(days=2))
    return a, b, first, second


def test_comparison_page_rose_fell_new_and_closed_gaps(app, world, browser):
    a, b, first, second = _two(app, world)
    browser.login(email("supervisor_a"))
    for url in (f"/compare?a={a}&b={b}", f"/compare?a={b}&b={a}"):  # the earlier one is always "before"
        page = text_of(browser.get(url))
        assert "From “Before” to “After”" in page
        rose = re.search(r"<h3>Rose</h3>(.*?)<h3>Fell</h3>", page, re.S).group(1)
        fell = re.search(r"<h3>Fell</h3>(.*?)</section>", page, re.S).group(1)
        assert "1. Understand the problem" in rose and "+3.0" in rose
        assert "2. Keep abreast" in fell and "-2.0" in fell
        new_gaps = re.search(r"<h3>New gaps</h3>(.*?)<h3>Closed gaps</h3>", page, re.S).group(1)
        closed = re.search(r"<h3>Closed gaps</h3>(.*?)</section>", page, re.S).group(1)
        assert "2. Keep abreast" in new_gaps and "1. Understand" in closed
        before, after = expected_scores(first), expected_scores(second)
        assert f"{fmt_level(before.maturity)}</td><td class=\"num\">{fmt_level(after.maturity)}" in page
        assert page.count('class="change-rose"') == 4 and page.count('class="change-fell"') == 4  # answers changed
    # Two different units of the agency compare too, with a note.
    _a, c, _f, _s = _two(app, world, unit_b=world.unit_a2)
    assert "two different units" in text_of(browser.get(f"/compare?a={a}&b={c}"))


def test_comparison_refuses_what_the_user_may_not_see(app, world, browser, make_browser):
    a, _b, _f, _s = _two(app, world)
    with app.app_context(), db.writing():
        foreign = add_assessment(world.unit_b1, uniform_plan("2"), title="Foreign")
        sibling = add_assessment(world.unit_a2, uniform_plan("2"), title="Sibling")
    browser.login(email("member_a1"))
    assert browser.get(f"/compare?a={a}&b={sibling}").status_code == 404
    assert browser.get(f"/compare?a={a}&b={foreign}").status_code == 404
    page = text_of(browser.get("/compare"))
    assert "Sibling" not in page and "Foreign" not in page and "Before" in page
    assert browser.get("/compare?a=x&b=1").status_code == 200  # not a number: just the form
    browser = make_browser()
    browser.login(email("supervisor_a"))
    assert browser.get(f"/compare?a={a}&b={foreign}").status_code == 404
    assert browser.get(f"/compare?a={a}&b={sibling}").status_code == 200
    assert "Choose two different assessments" in text_of(browser.get(f"/compare?a={a}&b={a}"))


def test_gap_report_since_previous_uses_the_same_comparison(app, world, browser):
    a, b, _f, _s = _two(app, world)
    with app.test_request_context():
        before, after = db.session.get(Assessment, a), db.session.get(Assessment, b)
        ctx = report_context.build_report_context(db.session, after, CONTENT, marking="R", organisation="O",
                                                  content_for=for_version)
        _x, _y, page_comparison = report_context.compare_assessments(db.session, before, after, for_version)
        assert ctx.comparison == page_comparison
    browser.login(email("member_a1"))
    results = text_of(browser.get(f"/assessments/{b}/results"))
    assert "Since the previous assessment" in results and "Compared with “Before”" in results


# --- Two content versions ----------------------------------------------------------------------------------------

OLD_VERSION = "2025.1"
LEGACY_QUESTION = "r3_legacy_register"
DROPPED_QUESTION = "r2_empact"  # present now, absent from the old version: "added since"


@pytest.fixture
def app_config(app_config, tmp_path):
    """An archived content version with one question fewer (r2) and one question more (r3)."""
    data = json.loads((ROOT / "recommendations.json").read_text(encoding="utf-8"))
    data["version"] = OLD_VERSION
    r2 = next(r for r in data["recommendations"] if r["id"] == "r2")
    r2["questions"] = [q for q in r2["questions"] if q["id"] != DROPPED_QUESTION]
    r3 = next(r for r in data["recommendations"] if r["id"] == "r3")
    legacy = dict(r3["questions"][0], id=LEGACY_QUESTION, text="Does the unit keep a register of its contacts?")
    r3["questions"].append(legacy)
    archive = tmp_path / "content_versions"
    archive.mkdir()
    (archive / f"{OLD_VERSION}.json").write_text(json.dumps(data), encoding="utf-8")
    return {**app_config, "CONTENT_ARCHIVE_DIR": str(archive)}


def _old_content(tmp_path: Path):
    return load_file(tmp_path / "content_versions" / f"{OLD_VERSION}.json")


def test_comparison_across_content_versions(app, world, browser, tmp_path):
    old = _old_content(tmp_path)
    assert DROPPED_QUESTION not in old.questions and LEGACY_QUESTION in old.questions
    old_plan = uniform_plan("1", old)
    old_plan[LEGACY_QUESTION] = "4"
    new_plan = uniform_plan("2")
    with app.app_context(), db.writing():
        a = add_assessment(world.unit_a1, old_plan, title="Old version", content=old,
                           submitted_at=utcnow() - timedelta(days=300))
        b = add_assessment(world.unit_a1, new_plan, title="New version", submitted_at=utcnow() - timedelta(days=3))
    browser.login(email("supervisor_a"))
    page = text_of(browser.get(f"/compare?a={a}&b={b}"))
    assert "Content version 2025.1 before, 2026.1 after" in page and "1 added, 1 removed" in page
    added = re.search(re.escape(DROPPED_QUESTION) + r".*?</tr>", page, re.S).group(0)
    removed = re.search(re.escape(LEGACY_QUESTION) + r".*?</tr>", page, re.S).group(0)
    assert "question added" in added and "2 – Defined" in added
    assert "question removed" in removed and "4 – Measured and improved" in removed
    # Every recommendation is matched by id; r3's level before counts its legacy question (1,1,1,1,4 -> 1.6).
    before, after = expected_scores(old_plan, content=old), expected_scores(new_plan)
    assert fmt_level(before.by_id["r3"].current) == "1.6"
    assert re.search(r"<td>3</td><td>Formal channels with stakeholders</td><td class=\"num\">1.6</td>"
                     r"<td class=\"num\">2.0</td>", page)
    assert fmt_level(before.maturity) in page and fmt_level(after.maturity) in page
    # The gap report of the new assessment says the same, through the same code.
    results = text_of(browser.get(f"/assessments/{b}/results"))
    assert f"Questions added since: {DROPPED_QUESTION}. Questions removed: {LEGACY_QUESTION}." in results
    # The trend scores the old assessment with its own version (five questions in r3).
    trend = text_of(browser.get(f"/units/{world.unit_a1}/trend"))
    assert re.findall(r"\d{4}-\d{2}: ([\d.]+) \(", chart_desc(trend, "trend-r3")) == ["1.6", "2.0"]
    assert "2025.1" in trend


def test_report_comparison_counts_removed_recommendations(app, world, tmp_path):
    """A recommendation only the earlier version has is listed as removed, not silently dropped."""
    from app.reports.context import Side, compare
    from app.scoring import score

    old = _old_content(tmp_path)
    trimmed = type(old)(**{**old.__dict__, "recommendations": old.recommendations[:9]})
    before = Side("B", None, old, score(old, uniform_plan("1", old)), {})
    after = Side("A", None, trimmed, score(trimmed, uniform_plan("2", trimmed)), {})
    c = compare(before, after)
    assert [r.change for r in c.rows][-1] == "removed" and c.rows[-1].number == 10
    assert len(c.questions_removed) == len(old.recommendations[9].questions)
