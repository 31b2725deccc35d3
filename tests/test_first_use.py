"""The rough edges a first-time user hit (issue 14 items 3 onwards): each page says what is true."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import email
from .helpers import agency_pdf, start_assessment
from .test_workshops import FT_RE, open_workshop, participant, trainer_browser


def _member(make_browser: Any, key: str = "member_a1") -> Any:
    b = make_browser()
    b.login(email(key))
    return b


def test_new_assessment_error_keeps_the_list(app, make_browser, world):
    """Item 3: a blank title shows the error and the unit's assessments, not "No assessments yet"."""
    b = _member(make_browser)
    start_assessment(b, world.unit_a1, title="Existing annual review")
    resp = b.post("/assessments/new", {"title": "", "unit": str(world.unit_a1)})
    assert resp.status_code == 422
    body = resp.data.decode()
    assert "This field is required." in body
    assert "Existing annual review" in body
    assert "No assessments yet" not in body


def test_participant_finish_with_nothing_chosen_does_not_claim_saved(app, world):
    """Item 4: "Save and finish" with no answer chosen says nothing was saved."""
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    p = participant(app, code, addr="10.9.0.5")
    page = p.client.get(f"/w/{wid}/r/2")
    ft = FT_RE.search(page.data.decode()).group(1)
    resp = p.client.post(f"/w/{wid}/r/2", data={"ft": ft, "action": "next"})
    assert resp.status_code == 302
    after = p.client.get(resp.headers["Location"]).data.decode()
    assert "are saved" not in after
    assert "You chose no answer for recommendation 2, so nothing was saved for it." in after


def test_workshop_report_says_when_hotspots_are_capped(app, world):
    """Item 5: more disputed questions than listed → "The 8 most disputed of N ... are listed"."""
    from .test_workshops import answer

    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, recs=["r1", "r2", "r3"])
    for n, values in enumerate((["0"] * 5, ["2"] * 5, ["4"] * 5)):
        p = participant(app, code, addr=f"10.9.1.{n + 1}")
        for number in (1, 2, 3):
            assert answer(p, wid, number, values).status_code == 302
    html = trainer.get(f"/workshops/{wid}/report").data.decode()
    m = re.search(r"The 8 most disputed of (\d+) questions with differing answers are listed.", html)
    assert m and int(m.group(1)) > 8


def test_draft_radar_shows_unanswered_recommendations_as_not_answered(app, make_browser, world):
    """Item 6: an unanswered recommendation is not drawn at level 0 and says "not answered"."""
    from .helpers import save_section

    b = _member(make_browser)
    aid = start_assessment(b, world.unit_a1)
    assert save_section(b, aid, 1, ["3", "3", "3", "3"]).status_code == 302
    html = b.get(f"/assessments/{aid}/results").data.decode()
    svg = re.search(r'<svg[^>]*class="chart radar".*?</svg>', html, re.S).group(0)
    assert svg.count("<circle") == 1  # only recommendation 1 has a current level
    assert "2: current not answered" in svg
    assert "2. " in svg and "(not answered)" in svg


def test_agency_report_uses_plural_rules(app, world, browser):
    """Item 7: "1 assessment is in progress", never "1 assessments are in progress"."""
    from app.db import db
    from app.models import Status

    from .supervisor_data import add_assessment
    from .test_supervisor_exports import pdf_text

    with app.app_context(), db.writing():
        add_assessment(world.unit_a2, {"r1_threat_assessment": None}, title="A2 draft", status=Status.DRAFT.value)
    browser.login(email("supervisor_a"))
    text = pdf_text(agency_pdf(browser).data)
    assert "1 assessment is in progress." in text
    assert "1 assessments " not in text and "1 assessment in progress" in text


def test_board_pillar_chips_say_what_they_mean_on_the_page(app, world):
    """Item 8: the chips' meaning is visible text (a projector shows no tooltips)."""
    from .test_workshops import answer

    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, recs=["r1"])
    for n in range(3):
        p = participant(app, code, addr=f"10.9.2.{n + 1}")
        assert answer(p, wid, 1, ["1"] * 5).status_code == 302
    html = trainer.get(f"/workshops/{wid}").data.decode()
    pillars = re.search(r'<span class="ws-pillars">(.*?)</span>\s*</div>', html, re.S).group(1)
    assert "Exposure by pillar (gap × weight):" in pillars
    assert 'title="' not in pillars


def test_draft_pdf_marks_every_inner_page(app, make_browser, world):
    """Item 9: a draft's PDF says DRAFT on each inner page (not only on the cover)."""
    import io

    from pypdf import PdfReader

    from .helpers import save_section

    b = _member(make_browser)
    aid = start_assessment(b, world.unit_a1)
    assert save_section(b, aid, 1, ["2", "2", "2", "2"]).status_code == 302
    pages = PdfReader(io.BytesIO(b.get(f"/assessments/{aid}/report.pdf").data)).pages
    assert len(pages) > 2
    for page in pages[1:]:
        assert "DRAFT – not submitted" in page.extract_text()


def test_right_to_left_override_in_a_title_is_isolated_and_kept(app, make_browser, world):
    """Item 10: a U+202E in a title stays inside <bdi dir="auto">, away from the status badge, kept as typed."""
    b = _member(make_browser)
    title = "report\u202efdp.exe"
    aid = start_assessment(b, world.unit_a1, title=title)
    for url in (f"/assessments/{aid}/results", f"/assessments/{aid}", "/assessments/"):
        html = b.get(url).data.decode()
        assert f'<bdi dir="auto">{title}</bdi>' in html, url
        assert f"{title}</bdi>" in html and f"{title} <span" not in html


def test_newlines_typed_in_comments_are_stored_as_lf(app, make_browser, world):
    """Item 11: browsers send CRLF; the comment is stored with LF."""
    from app.db import db
    from app.models import Answer

    from .helpers import CONTENT, save_section

    b = _member(make_browser)
    aid = start_assessment(b, world.unit_a1)
    resp = save_section(b, aid, 1, ["2"], comments=["line one\r\nline two\rline three"],
                        evidence=["file A\r\nfile B"])
    assert resp.status_code == 302
    q = CONTENT.recommendation_by_number[1].questions[0]
    with app.app_context():
        ans = db.session.query(Answer).filter_by(assessment_id=aid, question_id=q.id).one()
        assert ans.comment == "line one\nline two\nline three"
        assert ans.evidence == "file A\nfile B"


def test_target_level_select_has_an_accessible_name(app, make_browser, world):
    """Item 12: the target-level <select> is labelled (axe: select-name)."""
    b = _member(make_browser)
    aid = start_assessment(b, world.unit_a1)
    html = b.get(f"/assessments/{aid}/section/1").data.decode()
    assert re.search(r'<label for="target"[^>]*>Target level</label>', html)
    assert re.search(r'<select[^>]*id="target"', html)


def _contrast(a: str, b: str) -> float:
    def lum(hex_: str) -> float:
        rgb = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_focus_ring_has_3_to_1_contrast_in_a_real_browser(app, chromium):
    """Item 13: the focus ring of buttons and radios on the white page contrasts at least 3:1 (WCAG 2.2)."""
    from .conftest import PASSWORD

    browser, base = chromium
    pg = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    pg.goto(base + "/login")
    pg.fill("#email", email("member_a1"))
    pg.fill("#password", PASSWORD)
    pg.get_by_role("button", name="Log in", exact=True).click()
    pg.wait_for_url(base + "/assessments/")
    pg.fill("#title", "Focus")
    pg.click("text=Start assessment")
    pg.wait_for_url("**/section/1")
    for selector in ("input[type=radio]", "button[value=save]"):
        pg.locator(selector).first.focus()
        pg.keyboard.press("Shift+Tab")
        pg.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
        color = pg.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
        rgb = [int(x) for x in re.findall(r"\d+", color)[:3]]
        assert _contrast("#" + "".join(f"{c:02x}" for c in rgb), "#ffffff") >= 3, (selector, color)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [1280, 1366, 1920])
def test_live_board_question_column_is_readable(app, chromium, width):
    """Item 14: at 1366 px the board's question column was squeezed to about 110 px."""
    from .conftest import PASSWORD
    from .test_workshops import answer

    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, recs=["r1", "r2"])
    for n in range(3):
        p = participant(app, code, addr=f"10.9.3.{n + 1}")
        for number in (1, 2):
            assert answer(p, wid, number, [str(n)] * 5).status_code == 302
    browser, base = chromium
    pg = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    pg.goto(base + "/login")
    pg.fill("#email", email("trainer_a"))
    pg.fill("#password", PASSWORD)
    pg.get_by_role("button", name="Log in", exact=True).click()
    pg.wait_for_load_state()
    pg.goto(f"{base}/workshops/{wid}")
    widths = pg.eval_on_selector_all(".ws-qtable tbody td:first-child",
                                     "cells => cells.map(c => c.getBoundingClientRect().width)")
    assert widths and min(widths) >= 300, widths


def test_audit_log_shows_names_titles_and_words(app, make_browser, world):
    """Item 15: people's names, object titles with links, and words for actions instead of codes and ids."""
    b = _member(make_browser)
    aid = start_assessment(b, world.unit_a1, title="Annual review 2026")
    sup = _member(make_browser, "supervisor_a")
    html = sup.get("/audit/").data.decode()
    assert "Assessment started" in html and "assessment_created</code>" not in html
    assert f'<a href="/assessments/{aid}"><bdi dir="auto">Annual review 2026</bdi></a>' in html
    assert "Member A1" in html
    assert f"assessment {aid}<" not in html.replace(" ", " ")


def test_accessibility_statement_is_linked_from_the_footer(app, make_browser, world):
    """Item 17: a public accessibility statement (standard, exceptions, contact), linked from every page's footer."""
    anon = make_browser()
    login = anon.get("/login").data.decode()
    footer = login.split('<footer')[1]
    assert 'href="/accessibility"' in footer
    page = anon.get("/accessibility")
    assert page.status_code == 200
    body = page.data.decode()
    for words in ("WCAG", "2.1", "Known exceptions", "Feedback and contact", "2016/2102"):
        assert words in body, words


def test_first_pages_tell_what_to_do(app, make_browser, world):
    """Item 16: login says who resets a forgotten password; trainer's and admin's home offer more than one button;
    trend chart text is at least 13 units (about 11.5 px at the page's scale, was 10–11)."""
    anon = make_browser()
    login = anon.get("/login").data.decode()
    assert "Forgotten your password?" in login and "supervisor" in login.split("Forgotten")[1]
    trainer = _member(make_browser, "trainer_a")
    home = trainer.get("/").data.decode()
    assert 'href="/workshops/new"' in home and "Open a new workshop" in home
    admin = _member(make_browser, "admin")
    home = admin.get("/").data.decode()
    assert 'href="/audit/"' in home and "issue a new password link" in home


def test_trend_chart_text_is_large_enough(app, make_browser, world):
    from pathlib import Path

    from app.supervisor import charts

    sizes = {int(m) for m in re.findall(r'font-size="(\d+)"', Path(charts.__file__).read_text(encoding="utf-8"))}
    assert sizes and min(sizes) >= 12
