"""A Spanish-speaking officer fills a section in a real browser, then hands the PDF to a German colleague."""

from __future__ import annotations

from io import BytesIO

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from pypdf import PdfReader

from app.db import db
from app.models import Answer

from .conftest import PASSWORD, email

pytestmark = pytest.mark.browser


def _t(app, lang: str, msgid: str, **kw) -> str:
    with app.test_request_context("/"), force_locale(lang):
        return _(msgid, **kw)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fill_a_section_in_spanish_and_download_the_pdf_in_german(app, chromium):
    browser, base = chromium
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-ES", accept_downloads=True)
    pg = ctx.new_page()
    pg.goto(base + "/login")
    assert pg.locator("html").get_attribute("lang") == "es"  # the browser's language on the first visit
    pg.fill("#email", email("member_a1"))
    pg.fill("#password", PASSWORD)
    pg.click("main button[type=submit]")
    pg.wait_for_url(base + "/assessments/")
    pg.fill("#title", "Evaluación anual 2026")
    pg.click("text=" + _t(app, "es", "Start assessment"))
    pg.wait_for_url("**/section/1")
    for idx, level in enumerate(["3", "2", "unknown", "na"]):
        pg.locator("fieldset.question").nth(idx).locator(f"input[value='{level}']").check()
    pg.click("button[value=next]")
    pg.wait_for_url("**/section/2")
    assert _t(app, "es", "Saved %(n)d change(s) to recommendation %(num)d.", n=4, num=1) in pg.content()
    # The German colleague's copy: change the language with the chooser, then download the report.
    pg.goto(pg.url.replace("/section/2", "/results"))
    pg.select_option("#lang-select", "de")
    pg.click(".lang-form button[type=submit]")
    pg.wait_for_load_state()
    assert pg.locator("html").get_attribute("lang") == "de"
    with pg.expect_download() as dl:
        pg.click("a[href$='report.pdf']")
    with open(dl.value.path(), "rb") as f:
        data = f.read()
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(BytesIO(data)).pages).split())
    assert _t(app, "de", "Page") + " 2 " + _t(app, "de", "of") in text
    assert "Evaluación anual 2026" in text  # typed text stays as typed
    with app.app_context():
        assert sorted(a.value for a in db.session.query(Answer)) == ["2", "3", "na", "unknown"]
    ctx.close()
