"""A workshop end to end in real browsers (headless Chromium): a trainer and three participants, each in a
separate browser context. The board refreshes by itself, shows nothing but counts below three answers, and a
participant's page learns that the workshop closed.

Skipped with a clear reason when Chromium is not installed, unless REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import re

import pytest

from .conftest import PASSWORD, email

pytestmark = pytest.mark.browser


def _watch(page, errors: list[str], who: str) -> None:
    page.on("console", lambda m: errors.append(f"{who}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{who}: {e}"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_trainer_and_three_participants_run_a_workshop(chromium):
    from playwright.sync_api import expect

    browser, base = chromium
    errors: list[str] = []
    trainer = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    _watch(trainer, errors, "trainer")
    trainer.goto(base + "/login")
    trainer.fill("#email", email("trainer_a"))
    trainer.fill("#password", PASSWORD)
    trainer.click("main button[type=submit]")
    trainer.goto(base + "/workshops/new")
    trainer.fill("#title", "Browser workshop")
    for box in trainer.locator("input[name=recommendations]").all()[2:]:
        box.uncheck()  # only recommendations 1 and 2
    trainer.click("text=Open the workshop")
    trainer.wait_for_url(re.compile(r".*/workshops/\d+$"))
    board_url = trainer.url
    code = trainer.locator(".ws-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{3}-[A-Z2-9]{3}", code)
    assert "0 answered" in trainer.content()

    people = []
    for i in range(3):
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page = ctx.new_page()
        _watch(page, errors, f"participant {i}")
        if i == 0:  # types the code
            page.goto(base + "/w/")
            page.fill("#code", code.lower())
        else:  # scans the QR code: the join link with the code filled in
            page.goto(base + "/w/j/" + code.replace("-", ""))
            assert "Browser workshop" in page.content()
        page.fill("#role_label", "investigator")
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/w/\d+/$"))
        people.append(page)

    def answer_first_question(page, level: str) -> None:
        page.click("text=Understand the problem")
        page.wait_for_url(re.compile(r".*/w/\d+/r/1$"))
        q = page.locator("fieldset.question").first
        q.locator(f"label.choice:has(input[value='{level}'])").click()  # saved at once, no button pressed
        expect(page.locator("[data-saved-for]").first).to_contain_text("Saved")

    # One participant: the board (refreshing by itself) shows the count only.
    answer_first_question(people[0], "1")
    expect(trainer.locator("#board")).to_contain_text("1 answered", timeout=15000)
    first_row = trainer.locator("table.ws-qtable tbody tr").first
    assert "fewer than 3 answers" in first_row.inner_text()
    assert first_row.locator("svg.hist").count() == 0
    # Three participants: the distribution appears, still without a reload.
    answer_first_question(people[1], "4")
    answer_first_question(people[2], "4")
    expect(trainer.locator("#board")).to_contain_text("3 answered", timeout=15000)
    first_row = trainer.locator("table.ws-qtable tbody tr").first
    assert first_row.locator("svg.hist").count() == 1
    assert "median 4.0" in " ".join(first_row.inner_text().split())
    assert trainer.url == board_url
    # A participant changes an answer with the plain Save button (the page also works without the script).
    people[0].locator("fieldset.question").nth(1).locator("label.choice:has(input[value='2'])").click()
    people[0].click("button[value=save]")
    assert "are saved" in people[0].content()
    # The notice came in the address (?saved=N); the script takes it out, so a reload does not repeat it.
    expect(people[0]).not_to_have_url(re.compile(r"saved="))
    people[0].reload()
    assert "are saved" not in people[0].content()
    # A participant cannot read the board.
    people[0].goto(board_url)
    assert "/login" in people[0].url
    people[0].go_back()
    # The trainer closes the workshop; the participant's open page says so by itself.
    trainer.click("text=Close the workshop")
    assert "Workshop closed" in trainer.content()
    expect(people[1].locator("[data-banner]")).to_be_visible(timeout=15000)
    assert "closed" in people[1].locator("[data-banner]").inner_text()
    assert people[1].locator("fieldset.question input").first.is_disabled()
    assert errors == []
