"""Languages: complete catalogs and content translations, the reader's choice of language kept where it
should be, locale formatting, and reports whose numbers do not depend on the language they are read in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import BytesIO

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from app import i18n_tools
from app.config import ROOT
from app.content import translation
from app.db import db
from app.models import ReportCache, User

from .conftest import Browser, email
from .helpers import start_assessment
from .test_report_pdf import submitted  # noqa: F401  (fixture: a submitted assessment of unit A1)

LANGS = ["es", "ca", "fr", "de"]
RAW = json.loads((ROOT / "recommendations.json").read_text(encoding="utf-8"))


def test_every_message_is_translated_in_every_language():
    """Every msgid of the sources is in every catalog, translated, not fuzzy, with the same placeholders."""
    assert i18n_tools.languages() == sorted(LANGS)
    problems = i18n_tools.problems()
    assert problems == [], "\n".join(problems[:50])


def test_completeness_check_names_what_is_missing(tmp_path, monkeypatch):
    """The check is not vacuous: an untranslated or placeholder-breaking entry is reported by name."""
    from babel.messages.pofile import read_po, write_po

    src = i18n_tools.po_path("es")
    with src.open("rb") as f:
        cat = read_po(f, locale="es")
    cat["Change language"].string = ""
    cat["Use at most %(n)d characters."].string = "Use como máximo caracteres."
    fake = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    fake.parent.mkdir(parents=True)
    with fake.open("wb") as f:
        write_po(f, cat)
    monkeypatch.setattr(i18n_tools, "TRANSLATIONS", tmp_path)
    found = i18n_tools.problems(["es"])
    assert "es: untranslated 'Change language'" in found
    assert any("Use at most %(n)d characters." in p and "placeholders" in p for p in found)


@pytest.mark.parametrize("lang", LANGS)
def test_content_translation_matches_the_english_ids(lang):
    t = translation.load(ROOT / "recommendations.json", lang)
    assert t is not None, f"recommendations.{lang}.json is missing"
    assert translation.problems(RAW, t) == []
    # Every text translated (a text identical to the English is allowed only for names and short codes).
    same = [k for k, v in translation.flatten(RAW).items() if t.strings[k] == v and len(v) > 25
            and not k.startswith("sources.")]
    assert same == [], same[:10]


def test_content_check_refuses_a_translation_with_a_missing_or_unknown_key(tmp_path):
    data = dict(RAW)
    t = translation.load(ROOT / "recommendations.json", "de")
    strings = dict(t.strings)
    strings.pop("questions.r1_threat_assessment.levels.2")
    strings["questions.r99_nothing.text"] = "Gibt es nicht"
    broken = translation.Translation("de", RAW["version"], strings, "recommendations.de.json")
    found = translation.problems(data, broken)
    assert "recommendations.de.json: missing questions.r1_threat_assessment.levels.2" in found
    assert any("unknown key questions.r99_nothing.text" in p for p in found)


def _page(browser: Browser, url: str, **kw) -> str:
    return browser.get(url, **kw).get_data(as_text=True)


def test_first_visit_follows_the_browser_then_the_cookie(app, browser):
    page = _page(browser, "/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in page and "Anmelden" in page
    page = _page(browser, "/login", headers={"Accept-Language": "xx"})
    assert '<html lang="en">' in page
    resp = browser.post("/language", {"language": "es", "next": "/login"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    cookie = resp.headers["Set-Cookie"]
    assert "thb_lang=es" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = _page(browser, "/login", headers={"Accept-Language": "de"})
    assert '<html lang="es">' in page  # the choice beats the browser
    assert '<html lang="fr">' in _page(browser, "/login?lang=fr")  # an explicit link beats both


def test_language_chooser_refuses_foreign_redirects_and_unknown_languages(app, browser):
    resp = browser.post("/language", {"language": "es", "next": "//evil.example/x"})
    assert resp.status_code == 302 and "evil.example" not in resp.headers["Location"]
    resp = browser.post("/language", {"language": "xx", "next": "/login"})
    assert "Set-Cookie" not in resp.headers or "thb_lang" not in resp.headers["Set-Cookie"]
    resp = browser.post("/language", {"language": "es", "next": "/login"}, csrf=False)
    assert resp.status_code == 400  # CSRF protected like every form


def test_the_account_keeps_its_language_across_logout_and_devices(app, world, make_browser):
    b = make_browser()
    b.login(email("member_a1"))
    b.post("/language", {"language": "de", "next": "/assessments/"})
    with app.app_context():
        assert db.session.get(User, world.users["member_a1"]).language == "de"
    b.post("/logout")
    other = make_browser()  # another device: no cookie, an English browser
    other.get("/login", headers={"Accept-Language": "en"})
    resp = other.post("/login", {"email": email("member_a1"), "password": "correct horse battery staple"})
    assert resp.status_code == 302
    page = _page(other, "/assessments/", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in page and "Bewertungen" in page


def test_questionnaire_content_in_the_readers_language(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    es = translation.load(ROOT / "recommendations.json", "es")
    page = _page(browser, f"/assessments/{aid}/section/1?lang=es")
    assert es.strings["questions.r1_threat_assessment.text"] in page
    assert es.strings["recommendations.r1.title"] in page
    assert RAW["recommendations"][0]["questions"][0]["text"] not in page


def test_numbers_and_dates_follow_the_locale(app):
    from flask_babel import force_locale

    from app.display import fmt_date, fmt_level, fmt_pct

    day = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        assert (fmt_level(1.75), fmt_pct(12.5), fmt_date(day)) == ("1.8", "13%", "2026-12-03")
        with force_locale("es"):
            assert (fmt_level(1.75), fmt_pct(12.5), fmt_date(day)) == ("1,8", "13\u00a0%", "3 dic 2026")
        with force_locale("de"):
            assert (fmt_level(2.25), fmt_date(day)) == ("2,3", "03.12.2026")
        with force_locale("fr"):
            assert fmt_level(1234.56) == "1\u202f234,6"


def test_json_export_is_the_same_in_every_language(app, browser, submitted):  # noqa: F811
    exports = []
    for lang in ["en", *LANGS]:
        data = json.loads(browser.get(f"/assessments/{submitted}/export.json?lang={lang}").data)
        data.pop("generated_at")
        exports.append(data)
    assert all(e == exports[0] for e in exports[1:])


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(BytesIO(data)).pages).split())


def test_pdf_in_the_language_asked_for_and_cached_per_language(app, browser, submitted):  # noqa: F811
    de = _pdf_text(browser.get(f"/assessments/{submitted}/report.pdf?lang=de").data)
    es = _pdf_text(browser.get(f"/assessments/{submitted}/report.pdf?lang=es").data)
    de_content = translation.load(ROOT / "recommendations.json", "de").strings
    es_content = translation.load(ROOT / "recommendations.json", "es").strings
    assert "Seite 2 von" in de and "Página 2 de" in es
    assert " ".join(de_content["pillars.fear.name"].split()) in de
    assert " ".join(es_content["pillars.fear.name"].split()) in es
    with app.app_context():
        cached = db.session.scalars(select(ReportCache.language).where(ReportCache.assessment_id == submitted))
        assert sorted(cached) == ["de", "es"]
    again = _pdf_text(browser.get(f"/assessments/{submitted}/report.pdf?lang=de").data)
    assert "Seite 2 von" in again  # the cached German copy, not the Spanish one


def test_a_participant_picks_a_language_on_the_phone_and_keeps_it(app, world):
    """Workshop participants have no account: the choice lives in the cookie, for every page of the workshop,
    while the trainer's board stays in the trainer's language; answers count together whatever the language."""
    from .test_workshops import open_workshop, participant, trainer_browser

    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, title="Curso de formación")
    phone = participant(app, code, "investigator")
    phone.post("/language", {"language": "ca", "next": f"/w/{wid}/"})
    ca = translation.load(ROOT / "recommendations.json", "ca").strings
    page = _page(phone, f"/w/{wid}/r/1")
    assert '<html lang="ca">' in page and str(escape(ca["questions.r1_threat_assessment.text"])) in page
    assert '<html lang="ca">' in _page(phone, f"/w/{wid}/")  # still Catalan on the next page
    other = participant(app, code, "analyst", addr="10.1.1.2")  # another phone, another language
    other.post("/language", {"language": "de", "next": f"/w/{wid}/"})
    assert '<html lang="de">' in _page(other, f"/w/{wid}/r/1")
    board = _page(trainer, f"/workshops/{wid}", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in board
