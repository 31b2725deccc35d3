"""The PDF gap report: its text names every gap and the pillars it exposes; it is cached once submitted."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.db import db
from app.models import Assessment, AuditEvent, ReportCache
from app.reports.pdf import FetchRefused, StaticOnlyFetcher

from .conftest import email
from .helpers import CONTENT, agency_pdf, start_assessment
from .test_questionnaire_flow import TARGETS, fill_all


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(data))
    return reader, "\n".join(p.extract_text() for p in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def submitted(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1, title="Annual review 2026")
    fill_all(browser, aid)
    assert browser.post(f"/assessments/{aid}/submit").status_code == 302
    return aid


def test_pdf_names_every_gap_and_its_pillars(app, browser, submitted):
    resp = browser.get(f"/assessments/{submitted}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    reader, text = pdf_text(resp.data)
    assert 8 <= len(reader.pages) <= 40
    body = flat(text)
    exported = json.loads(browser.get(f"/assessments/{submitted}/export.json").data)
    gaps = [r for r in exported["recommendations"] if r["gap"]]
    assert gaps, "the test plan must leave gaps"
    for g in gaps:
        rec = CONTENT.recommendation_by_id[g["id"]]
        assert flat(rec.title) in body, rec.title
        for p in CONTENT.pillars:
            if rec.pillars[p.id]:
                assert p.name in body
    assert "RESTRICTED" in body
    assert "Annual review 2026" in body
    assert reader.metadata.title and "Annual review 2026" in reader.metadata.title
    assert reader.metadata.author == "Agency A – Unit A1"
    # Threats of the impacts the top gap's recommendation counters appear (society and victims).
    top = CONTENT.recommendation_by_id[exported["gap_ranking"][0]]
    impact = CONTENT.impact_by_id[top.impacts[0]]
    some_threat = next(iter(impact.threats["society"].values()))[0]
    assert flat(some_threat) in body
    assert "Page 2 of" in body


def test_pdf_of_submitted_assessment_is_cached_until_it_changes(app, browser, submitted, monkeypatch):
    from app.reports import services

    calls = []
    real = services.render_report_pdf
    monkeypatch.setattr(services, "render_report_pdf", lambda a: calls.append(a.id) or real(a))
    first = browser.get(f"/assessments/{submitted}/report.pdf").data
    second = browser.get(f"/assessments/{submitted}/report.pdf").data
    assert first == second and calls == [submitted]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportCache)) == 1
        downloads = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "report_downloaded"))
        assert downloads == 2  # every download is audited, cached or not
        # Reopening changes the assessment (its version counter moves): the cache no longer applies.
        a = db.session.get(Assessment, submitted)
        a.status = "reopened"
        db.session.commit()
        a.status = "submitted"
        db.session.commit()
    browser.get(f"/assessments/{submitted}/report.pdf")
    assert calls == [submitted, submitted]


def test_draft_pdf_is_marked_provisional_and_not_cached(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    _reader, text = pdf_text(resp.data)
    assert "Draft (provisional results)" in flat(text)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportCache)) == 0


def test_pdf_fetcher_serves_only_static_files(app):
    fetch = StaticOnlyFetcher(app.static_folder)
    assert fetch("https://report.invalid/static/css/pdf.css").read().startswith(b"/*")
    for url in ("https://example.org/static/css/pdf.css", "file:///etc/passwd",
                "https://report.invalid/static/../../app/config.py", "https://report.invalid/etc/passwd",
                "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises((FetchRefused, ValueError)):
            fetch(url)


def test_targets_recorded_in_export(browser, submitted):
    exported = json.loads(browser.get(f"/assessments/{submitted}/export.json").data)
    assert {r["number"]: r["target"] for r in exported["recommendations"]} == TARGETS


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rendering_does_not_hold_the_write_lock(app, browser, submitted, monkeypatch, db_url):
    """A slow PDF render must not block questionnaire saves: other writers get the lock meanwhile."""
    import sqlite3

    from app.reports import services

    seen = []
    real = services.render_report_pdf

    def render_and_try_to_write(a):
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append("lock free")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        finally:
            other.close()
        return real(a)

    monkeypatch.setattr(services, "render_report_pdf", render_and_try_to_write)
    assert browser.get(f"/assessments/{submitted}/report.pdf").status_code == 200
    assert seen == ["lock free"]


# --- Issue 15: the demo's reports read in five minutes (brief on page 1, half the pages, breaks that hold) ---

@pytest.fixture
def demo_reports(app, make_browser):
    """The demo data loaded, and the PDFs a head of unit and a supervisor download from it."""
    from app import demo
    from app.models import Unit

    with app.app_context():
        with db.writing() as s:
            demo.load(s, app.extensions["content"].current)
        aid = db.session.scalars(select(Assessment.id).join(Unit, Assessment.unit_id == Unit.id).where(
            Unit.name == "Anti-Trafficking Unit", Assessment.title == "Annual self-assessment 2026")).one()
    member = make_browser()
    member.login("member@demo.example", "demo-member-pass")
    supervisor = make_browser()
    supervisor.login("supervisor@demo.example", "demo-supervisor-pass")
    exported = json.loads(member.get(f"/assessments/{aid}/export.json").data)
    return {"gap": member.get(f"/assessments/{aid}/report.pdf").data,
            "docx": member.get(f"/assessments/{aid}/report.docx").data,
            "agency": agency_pdf(supervisor).data, "export": exported}



@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_gap_report_brief_length_and_breaks(demo_reports, db_url):
    reader = PdfReader(BytesIO(demo_reports["gap"]))
    pages = [flat(p.extract_text()) for p in reader.pages]
    assert len(pages) <= 12, len(pages)  # 21 before issue 15
    exported = demo_reports["export"]
    first = pages[0]
    # Page 1 is the brief: maturity, coverage, exposure, top priorities with a first action, what changed.
    assert f"{exported['overall_maturity']:.1f} / 4" in first
    for rec_id in exported["gap_ranking"][:3]:
        rec = CONTENT.recommendation_by_id[rec_id]
        assert flat(f"{rec.number}. {rec.title}") in first
        assert flat(rec.actions[int(exported["recommendations"][rec.number - 1]["current"] or 0)][0]) in first
    for words in ("First action", "Since the previous assessment", "Rose:", "Closed gaps:", "Not signed off yet",
                  "Freedom from fear exposure"):
        assert words in first, words
    assert "Pillar matrix" in pages[1] and "Current level against target" in pages[1]
    # No contents-only page: navigation is in the PDF outline instead.
    assert all(not p.startswith("Contents") and " Contents " not in p[:200] for p in pages)
    assert reader.outline, "headings give the PDF bookmarks"
    # Every gap section's header is followed by its content on the same page.
    body = " ".join(pages)
    for rank, rec_id in enumerate(exported["gap_ranking"], start=1):
        rec = CONTENT.recommendation_by_id[rec_id]
        head = flat(f"{rank} {rec.number}. {rec.title}")
        where = [p for p in pages if head in p]
        assert len(where) == 1, head
        assert "Trafficking stages" in where[0][where[0].index(head):], head
    # Each threat is said once ("Pillars and threats"), not once per gap.
    for rec_id in exported["gap_ranking"]:
        for imp in CONTENT.recommendation_by_id[rec_id].impacts:
            for by_pillar in CONTENT.impact_by_id[imp].threats.values():
                for threats in by_pillar.values():
                    for t in threats:
                        assert body.count(flat(t)) == 1, t
    # The sign-off block, with lines to sign, is on the last page.
    assert "Sign-off" in pages[-1] and "Signature" in pages[-1] and "Head of unit" in pages[-1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_agency_report_short_with_sign_off_status(demo_reports, db_url):
    reader = PdfReader(BytesIO(demo_reports["agency"]))
    pages = [flat(p.extract_text()) for p in reader.pages]
    assert len(pages) <= 4, len(pages)  # 6 before issue 15
    assert not any("Contents" in p for p in pages)
    text = " ".join(pages)
    assert "Not signed off yet" in text
    assert "Progress over time" in text and "1.2 → 1.8" in text  # the Anti-Trafficking Unit's two submissions
    for page in pages[:-1]:
        assert not page.rstrip().endswith("The most common gaps"), "a heading alone at the foot of a page"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_word_report_has_charts_matrix_and_single_numbering(demo_reports, db_url):
    from docx import Document

    doc = Document(BytesIO(demo_reports["docx"]))
    assert len(doc.inline_shapes) >= 1  # the radar, as a PNG
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Current level against target" in headings and "Pillar matrix" in headings
    assert "Pillars and threats" in headings
    assert not any(h.startswith("Priority ") for h in headings)  # was "Priority 1: 4. Develop…"
    gap_heads = [h for h in headings if h.split(". ")[0].isdigit()]
    first = CONTENT.recommendation_by_id[demo_reports["export"]["gap_ranking"][0]]
    assert f"{first.number}. {first.title}" in gap_heads
    matrix = next(t for t in doc.tables if t.rows[0].cells[0].text == "Recommendation"
                  and all(p.short in " ".join(c.text for c in t.rows[0].cells) for p in CONTENT.pillars))
    assert len(matrix.rows) == len(CONTENT.recommendations) + 1
    assert any("(w2)" in c.text for row in matrix.rows for c in row.cells)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pdf_button_says_it_is_preparing_until_the_file_arrives(app, browser, submitted, chromium, monkeypatch,
                                                                db_url):
    """Issue 15: a download that renders for seconds shows "Preparing PDF…" rather than a blank wait."""
    import threading

    from app.reports import services

    release = threading.Event()
    real = services.render_report_pdf

    def held_render(a):
        assert release.wait(30), "the test never released the render"
        return real(a)

    monkeypatch.setattr(services, "render_report_pdf", held_render)
    chrome, base = chromium
    context = chrome.new_context(accept_downloads=True)
    # The member's session from the fixture that submitted the assessment (same app, same database).
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])
    pg = context.new_page()
    pg.goto(f"{base}/assessments/{submitted}/results")
    button = pg.locator("a[data-preparing]").first
    assert button.inner_text() == "Download PDF"
    with pg.expect_download() as download:
        button.click()
        pg.wait_for_selector("a[aria-busy=true]")
        assert button.inner_text() == "Preparing PDF…"
        release.set()
    assert download.value.suggested_filename.endswith(".pdf")
    pg.wait_for_selector("a[data-preparing]:not([aria-busy])")
    assert button.inner_text() == "Download PDF"
