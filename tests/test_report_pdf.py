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
from .helpers import CONTENT, start_assessment
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
