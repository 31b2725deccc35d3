"""Nothing typed is lost, in a real browser (issue 14 item 1): autosave, leaving by the section bar, offline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, email

pytestmark = pytest.mark.browser


def _login_and_start(pg, base):
    pg.goto(base + "/login")
    pg.fill("#email", email("member_a1"))
    pg.fill("#password", PASSWORD)
    pg.get_by_role("button", name="Log in", exact=True).click()
    pg.wait_for_url(base + "/assessments/")
    pg.fill("#title", "Autosave walk")
    pg.click("text=Start assessment")
    pg.wait_for_url("**/section/1")
    return pg.url.replace("/section/1", "/section/")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("javascript", [True, False])
def test_leaving_section_by_the_bar_keeps_level_and_comment(app, chromium, javascript):
    browser, base = chromium
    pg = browser.new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=javascript).new_page()
    section = _login_and_start(pg, base)
    pg.goto(section + "7")
    first = pg.locator("fieldset.question").first
    first.locator("input[value='2']").check()
    first.locator("textarea").first.fill("Typed on section 7")
    pg.locator("nav.sections").get_by_text("Prevention campaigns").click()
    pg.wait_for_url("**/section/8")
    pg.goto(section + "7")
    first = pg.locator("fieldset.question").first
    assert first.locator("input[value='2']").is_checked()
    assert first.locator("textarea").first.input_value() == "Typed on section 7"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_autosave_says_saved_and_survives_a_reload(app, chromium):
    browser, base = chromium
    pg = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    section = _login_and_start(pg, base)
    pg.goto(section + "7")
    first = pg.locator("fieldset.question").first
    first.locator("input[value='3']").check()
    first.locator("textarea").first.fill("Saved as I type")
    expect(pg.locator("#autosave-status")).to_have_text("Saved")
    pg.reload()
    first = pg.locator("fieldset.question").first
    assert first.locator("input[value='3']").is_checked()
    assert first.locator("textarea").first.input_value() == "Saved as I type"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_offline_input_is_announced_warned_about_and_restored(app, chromium):
    browser, base = chromium
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = ctx.new_page()
    section = _login_and_start(pg, base)
    pg.goto(section + "7")
    leave_warns = """() => { const e = new Event('beforeunload', {cancelable: true});
                              window.dispatchEvent(e); return e.defaultPrevented; }"""
    assert not pg.evaluate(leave_warns)  # nothing typed yet: no warning
    ctx.set_offline(True)
    first = pg.locator("fieldset.question").first
    first.locator("input[value='1']").check()
    first.locator("textarea").first.fill("Typed while offline")
    expect(pg.locator("#autosave-status")).to_contain_text("offline")
    status = pg.locator("#autosave-status")
    assert status.get_attribute("aria-live") == "polite"
    assert "Not saved — you are offline" in status.inner_text()
    # Leaving now asks first (beforeunload is armed only while something is unsaved).
    assert pg.evaluate(leave_warns)
    ctx.set_offline(False)
    pg.evaluate("window.dispatchEvent(new Event('offline'))")  # keep it unsaved: we leave before it retries
    ctx.set_offline(True)
    pg.on("dialog", lambda d: d.accept())
    pg.goto("about:blank")
    ctx.set_offline(False)
    pg.goto(section + "7")
    first = pg.locator("fieldset.question").first
    assert first.locator("input[value='1']").is_checked()
    assert first.locator("textarea").first.input_value() == "Typed while offline"
    assert "put back" in pg.locator("#autosave-status").inner_text()
    expect(pg.locator("#autosave-status")).to_have_text("Saved")
    pg.reload()
    assert pg.locator("fieldset.question").first.locator("textarea").first.input_value() == "Typed while offline"
    # Once saved, nothing is left to put back.
    assert "put back" not in pg.locator("#autosave-status").inner_text()

