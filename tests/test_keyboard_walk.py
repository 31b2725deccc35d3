"""Keyboard only (issue 14): answer one question of a section without a mouse — reach a level by Tab,
choose it with the arrow keys, type a comment, reach Save and press Enter — and find it saved."""

from __future__ import annotations

import pytest

from app.db import db
from app.models import Answer

from .test_autosave_browser import _login_and_start

pytestmark = pytest.mark.browser


def _tab_until(pg, predicate: str, limit: int = 250) -> None:
    """Press Tab until the focused element matches ``predicate`` (a JS expression on ``el``)."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_section_answered_and_saved_with_the_keyboard_only(app, chromium):
    browser, base = chromium
    pg = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    section = _login_and_start(pg, base)
    pg.goto(section + "2")
    pg.locator("body").focus()
    first_question = "el.closest('fieldset.question') === document.querySelector('fieldset.question')"
    _tab_until(pg, f"el.type === 'radio' && {first_question}")
    # A radio group takes one Tab stop; the arrow keys move along it and choose, as in every browser.
    for _ in range(2):
        pg.keyboard.press("ArrowDown")
    chosen = pg.evaluate("document.activeElement.value")
    assert pg.locator("fieldset.question").first.locator(f"input[value='{chosen}']").is_checked()
    _tab_until(pg, f"el.tagName === 'TEXTAREA' && {first_question}")
    pg.keyboard.type("Typed without a mouse")
    # Focus must be visible where it lands: the focus ring is drawn (outline or box-shadow).
    _tab_until(pg, "el.tagName === 'BUTTON' && el.name === 'action' && el.value === 'save'")
    ring = pg.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                       "return s.outlineStyle !== 'none' || s.boxShadow !== 'none'; })()")
    assert ring, "the Save button shows no focus indicator"
    with pg.expect_navigation():
        pg.keyboard.press("Enter")
    assert "/section/2" in pg.url
    with app.app_context():
        answers = db.session.query(Answer).all()
        assert [(a.value, a.comment) for a in answers if a.comment] == [(chosen, "Typed without a mouse")]
