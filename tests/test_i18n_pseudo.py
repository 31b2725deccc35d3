"""No hard-coded text: every page each role can reach, and each kind of PDF, rendered in a pseudo-locale
in which every catalog string and every content text is written with accented letters. A plain ASCII
word left on the page that is not user data (names, titles, comments, e-mail addresses, the configured
organisation name) was never translated, and would show in English to a Spanish or German reader."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import String, Text, select

from app.content.current import current
from app.db import db
from app.demo import load as load_demo
from app.demo import logins
from app.models import Assessment, Base, Status
from app.workshops.models import Workshop
from app.workshops.services import format_code

from .conftest import Browser
from .helpers import agency_pdf
from .i18n_support import PSEUDO, build

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

SKIP_EXT = (".pdf", ".csv", ".xlsx", ".docx", ".json", ".svg", ".png", ".ics")
MAX_PAGES = 120
# Not words of any language: units, file formats and standards named as such on purpose.
ALLOWED = {"PDF", "CSV", "XLSX", "JSON", "QR", "UTC", "ID", "URL", "HTTPS", "HTTP", "CSRF", "WCAG", "ISO",
           "EU", "UN", "DSA", "AI", "THB", "OK", "Word", "Excel", "n", "Deutsch", "English", "Español",
           "Català", "Français", "el"}
# In PDFs, where markup is gone: the formulas' symbols (marked translate="no" in the HTML).
FORMULA = {"max", "Gr", "Tr", "Cr", "Ep", "Pr", "wrp", "rp", "Σr", "Σp"}
WORD = re.compile(r"[A-Za-z]{2,}")
URL = re.compile(r"https?://\S+")
# Not prose: formulas and machine text the page shows as such.
NOT_PROSE = ("script", "style", "template", "code", "var", "kbd", "samp")
# Values a machine reads (kept as codes on purpose in exports): statuses, value codes, ids, dates.
MACHINE = re.compile(r"scored|draft|submitted|reopened|signed_off|not_applicable|applicable|gap|on_target|na|unknown|"
                     r"yes|no|true|false|[a-z]+_[a-z_]+|r\d+|\d[\d.:T+ -]*")
VISIBLE_ATTRS = ("title", "aria-label", "placeholder", "alt")


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    translations, content = build(tmp_path / "pseudo")
    return {**app_config, "LANGUAGES": ["en", PSEUDO], "DEFAULT_LANGUAGE": PSEUDO,
            "CONTENT_FILE": str(content), "CONTENT_ARCHIVE_DIR": str(tmp_path / "none"),
            "BABEL_TRANSLATION_DIRECTORIES": f"translations;{translations}"}


class _Text(HTMLParser):
    """Visible text nodes and labelling attributes, outside script/style and outside elements that say
    they are in another language (the language chooser names each language in itself)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _hidden(self) -> bool:
        return any(tag in NOT_PROSE or other for tag, other in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        other = (bool(a.get("lang")) and a.get("lang") != PSEUDO) or a.get("translate") == "no"
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "col", "wbr"):
            self.stack.append((tag, other))
        if self._hidden() or other:
            return
        self.found += [v for k, v in attrs if k in VISIBLE_ATTRS and v]
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.found.append(a["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._hidden():
            self.found.append(data)


def _user_data(app: Any) -> list[str]:
    """Every text stored in the database (typed by people) and the configured names: allowed in English."""
    out = {app.config["ORGANISATION_NAME"], app.config["HANDLING_MARKING"]}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text)]
            if cols:
                for row in db.session.execute(select(*cols)):
                    out.update(v for v in row if isinstance(v, str) and len(v) >= 2)
        out.update(r.title_en for r in current("en").recommendations)
        out.update(format_code(w.code) for w in db.session.scalars(select(Workshop)))  # shown as ABC-234
    return sorted(out, key=len, reverse=True)


def _untranslated(texts: list[str], user_data: list[str], allowed: set[str] = ALLOWED) -> list[str]:
    bad = []
    for t in texts:
        rest = URL.sub(" ", t)
        for value in user_data:
            if value in rest:
                rest = rest.replace(value, " ")
        words = [w for w in WORD.findall(rest) if w not in allowed]
        if words:
            bad.append(t.strip()[:120] if len(t) < 200 else "… " + " ".join(words[:12]) + " …")
    return bad


def _links(body: str) -> list[str]:
    return re.findall(r'href="(/[^"]*)"', body)


def _crawl(browser: Browser, start: list[str], user_data: list[str]) -> dict[str, list[str]]:
    seen: set[str] = set()
    queue = list(start)
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0).replace("&amp;", "&").split("#")[0]
        path = urlsplit(url).path
        if url in seen or path.startswith("/static") or path.endswith(SKIP_EXT) or "lang=" in url:
            continue
        seen.add(url)
        resp = browser.get(url)
        if resp.mimetype != "text/html" or resp.status_code >= 300:
            continue
        body = resp.get_data(as_text=True)
        parser = _Text()
        parser.feed(body)
        bad = _untranslated(parser.found, user_data)
        if bad:
            problems[url] = bad
        queue += [u for u in _links(body) if u not in seen]
    return problems


@pytest.fixture
def demo(app: Any) -> None:
    with app.app_context(), db.writing() as s:
        load_demo(s, current("en"))


def _report(problems: dict[str, list[str]]) -> str:
    """Each English text once, with the first page it was seen on."""
    first: dict[str, str] = {}
    for url, texts in problems.items():
        for t in texts:
            first.setdefault(t, url)
    return "\n".join(f"{url}: {t!r}" for t, url in first.items())


@pytest.mark.parametrize("role", ["member", "supervisor", "trainer", "admin"])
def test_every_page_is_translated(app, demo, role):
    email, password, _role = next(x for x in logins() if x[2] == role)
    browser = Browser(app.test_client())
    browser.get("/login")
    assert browser.post("/login", {"email": email, "password": password}).status_code == 302
    problems = _crawl(browser, ["/", "/about", "/account/password"], _user_data(app))
    assert problems == {}, "English left in the pseudo-locale:\n" + _report(problems)


def test_anonymous_and_participant_pages_are_translated(app, demo):
    with app.app_context():
        w = db.session.scalars(select(Workshop).where(Workshop.closed_at.is_(None))).first()
        code = w.code
    browser = Browser(app.test_client())
    problems = _crawl(browser, ["/login", "/set-password/invalid-token", "/no-such-page", "/w/"],
                      _user_data(app))
    browser.get("/w/")
    assert browser.post("/w/join", {"code": code, "role_label": "investigator"}).status_code == 302
    problems.update(_crawl(browser, [f"/w/{w.id}/", f"/w/{w.id}/r/1"], _user_data(app)))
    assert problems == {}, "English left in the pseudo-locale:\n" + _report(problems)


def _pdf_words(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def test_pdfs_are_translated(app, demo):
    user_data = _user_data(app)
    with app.app_context():
        a = db.session.scalars(select(Assessment).where(Assessment.status == Status.SUBMITTED.value)).first()
        w = db.session.scalars(select(Workshop)).first()
        assessment_id, workshop_id = a.id, w.id
    downloads = {}
    for role, url in [("member", f"/assessments/{assessment_id}/report.pdf"),
                      ("supervisor", "/agency/report.pdf"),
                      ("trainer", f"/workshops/{workshop_id}/report.pdf")]:
        email, password, _role = next(x for x in logins() if x[2] == role)
        browser = Browser(app.test_client())
        browser.get("/login")
        browser.post("/login", {"email": email, "password": password})
        resp = agency_pdf(browser) if url == "/agency/report.pdf" else browser.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        downloads[url] = resp.data
    problems = {}
    # PDF text breaks lines inside typed comments and addresses: compare whitespace-normalised pages.
    flat_user_data = sorted({" ".join(v.split()) for v in user_data}, key=len, reverse=True)
    for url, data in downloads.items():
        pages = [" ".join(page.split()) for page in _pdf_words(data)]
        pages = [re.sub(r"\S*/\S*", " ", p) for p in pages]  # addresses broken over lines
        bad = _untranslated(pages, flat_user_data, ALLOWED | FORMULA)
        if bad:
            problems[url] = bad
    assert problems == {}, "English left in the pseudo-locale PDFs:\n" + _report(problems)


def _sheet_words(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(data), read_only=True)
    out = []
    for ws in wb.worksheets:
        out.append(ws.title)
        for row in ws.iter_rows(values_only=True):
            out += [v for v in row if isinstance(v, str)]
    return out


def _docx_words(data: bytes) -> list[str]:
    from docx import Document

    doc = Document(BytesIO(data))
    out = [p.text for p in doc.paragraphs if p.text.strip()]
    for table in doc.tables:
        out += [c.text for row in table.rows for c in row.cells if c.text.strip()]
    return out


def test_word_excel_and_csv_downloads_are_translated(app, demo):
    """Column headers, sheet names and the Word report's text; machine values (ids, statuses as codes,
    ISO dates, numbers) are not prose and pass the check by construction."""
    user_data = _user_data(app)
    with app.app_context():
        a = db.session.scalars(select(Assessment).where(Assessment.status == Status.SUBMITTED.value)).first()
        assessment_id = a.id
    email, password, _role = next(x for x in logins() if x[2] == "supervisor")
    browser = Browser(app.test_client())
    browser.get("/login")
    browser.post("/login", {"email": email, "password": password})
    problems = {}
    for url, kind in [(f"/assessments/{assessment_id}/export.csv", "csv"),
                      (f"/assessments/{assessment_id}/export.xlsx", "xlsx"),
                      (f"/assessments/{assessment_id}/report.docx", "docx"),
                      ("/agency/export.csv", "csv"), ("/agency/export.xlsx", "xlsx")]:
        resp = browser.get(url)
        assert resp.status_code == 200, url
        if kind == "csv":
            texts = [next(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))]
            texts = texts[0]
        elif kind == "xlsx":
            texts = _sheet_words(resp.data)
        else:
            texts = _docx_words(resp.data)
        texts = [t for t in texts if not MACHINE.fullmatch(t.strip())]
        bad = _untranslated(texts, user_data, ALLOWED | FORMULA)
        if bad:
            problems[url] = bad
    assert problems == {}, "English left in the pseudo-locale downloads:\n" + _report(problems)
