"""A real browser (headless Chromium via Playwright) answers a section, saves, and reads the results.

Skipped with a clear reason when Chromium is not installed, unless REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import pytest

from app.db import db
from app.models import Assessment

from .conftest import PASSWORD, email

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium):
    browser, base = chromium
    pg = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return pg, base, errors


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_member_answers_and_sees_results_in_a_real_browser(app, page):
    pg, base, errors = page
    pg.goto(base + "/login")
    pg.fill("#email", email("member_a1"))
    pg.fill("#password", PASSWORD)
    pg.get_by_role("button", name="Log in", exact=True).click()
    pg.wait_for_url(base + "/assessments/")
    pg.fill("#title", "Browser-filled assessment <b>2026</b>")
    pg.click("text=Start assessment")
    pg.wait_for_url("**/section/1")
    assert "0 of 40 questions answered" in pg.content()
    # Choose levels by clicking the labels, as a person would.
    for idx, level in enumerate(["3", "2", "unknown", "na"]):
        pg.locator("fieldset.question").nth(idx).locator(f"input[value='{level}']").check()
    pg.select_option("#target", "4")
    pg.locator("fieldset.question").first.locator("textarea").first.fill("Seen in <i>browser</i>")
    pg.click("button[value=next]")
    pg.wait_for_url("**/section/2")
    assert "Saved 4 change(s) to recommendation 1" in pg.content()
    assert "4 of 40 questions answered" in pg.content()  # na and "don't know" are answers too
    pg.goto(pg.url.replace("/section/2", "/section/1"))
    assert pg.locator("fieldset.question").first.locator("input[value='3']").is_checked()
    assert pg.input_value("#target") == "4"
    pg.goto(pg.url.replace("/section/1", "/results"))
    content = pg.content()
    assert "Provisional" in content and "Browser-filled assessment &lt;b&gt;2026&lt;/b&gt;" in content
    assert pg.locator("svg.radar").count() == 1
    with app.app_context():
        a = db.session.query(Assessment).one()
        assert a.title == "Browser-filled assessment <b>2026</b>"
    assert errors == []
