"""Reports ready when asked (issues 15, 16, 17): PDFs rendered off the request into database caches.

- a gap report is rendered in the background after submit, sign-off and reopen+resubmit, so the first download
  comes from the cache without rendering; a reopening during the render never leaves a file that is served;
- a closed workshop's report is rendered once and served from the cache; reopening it invalidates the file;
- the agency report is never rendered on the request: a "being prepared" page (202) while a background job
  renders it, then the file; a change in the agency makes it stale; one render per key however many ask;
- the gap report PDF lists the unit's planned actions and is rendered again when one of them changes.
"""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from app import background, pdfcache
from app.actions.models import ActionItem
from app.db import db
from app.models import Assessment, PdfCache, ReportCache, Status, utcnow
from app.reports import services as report_services
from app.supervisor import agency_report

from .conftest import email
from .helpers import CONTENT
from .supervisor_data import add_assessment, uniform_plan


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PREPARE_REPORTS": True}  # as in production


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def draft(app: Any, unit_id: int, title: str = "Ready report") -> int:
    """A complete draft of the unit: only the submission is left."""
    with app.app_context(), db.writing():
        return add_assessment(unit_id, uniform_plan("2"), title=title, status=Status.DRAFT.value)


def submit(browser: Any, aid: int) -> None:
    browser.get(f"/assessments/{aid}/review")
    assert browser.post(f"/assessments/{aid}/submit").status_code == 302


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every gap-report render, by assessment id."""
    calls: list[int] = []
    real = report_services.render_report_pdf

    def counted(a: Assessment) -> bytes:
        calls.append(a.id)
        return real(a)

    monkeypatch.setattr(report_services, "render_report_pdf", counted)
    return calls


def cache_rows(app: Any, aid: int) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(ReportCache.language, ReportCache.assessment_version)
                                       .where(ReportCache.assessment_id == aid)).all())


def version(app: Any, aid: int) -> int:
    with app.app_context():
        return db.session.get(Assessment, aid).version_id


def test_submit_renders_the_pdf_off_the_request_and_the_download_is_served_from_the_cache(
        app, world, browser, renders):
    aid = draft(app, world.unit_a1)
    browser.login(email("member_a1"))
    submit(browser, aid)
    assert background.wait_idle()
    assert renders == [aid]  # once, in the background (submitter's language = the default: one file)
    assert cache_rows(app, aid) == {"en": version(app, aid)}
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    assert resp.status_code == 200 and resp.headers["X-Report-Cache"] == "hit"
    assert renders == [aid]  # not rendered again
    assert "Ready report" in pdf_text(resp.data)


def test_sign_off_and_reopen_resubmit_prepare_the_pdf_again(app, world, make_browser, renders):
    aid = draft(app, world.unit_a1)
    member, supervisor = make_browser(), make_browser()
    member.login(email("member_a1"))
    supervisor.login(email("supervisor_a"))
    submit(member, aid)
    assert background.wait_idle()
    supervisor.get(f"/assessments/{aid}")
    assert supervisor.post(f"/assessments/{aid}/signoff", {"remark": "Fine"}).status_code == 302
    assert background.wait_idle()
    assert len(renders) == 2 and cache_rows(app, aid) == {"en": version(app, aid)}
    resp = supervisor.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "hit" and len(renders) == 2
    assert "Fine" in pdf_text(resp.data)  # the signed-off file, not the one made at submission

    assert supervisor.post(f"/assessments/{aid}/reopen", {"reason": "Typo"}).status_code == 302
    assert background.wait_idle()
    assert len(renders) == 2  # a reopened assessment is a draft: nothing to prepare
    submit(member, aid)
    assert background.wait_idle()
    assert len(renders) == 3 and cache_rows(app, aid) == {"en": version(app, aid)}
    resp = member.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "hit" and len(renders) == 3


def test_each_language_once(app, world):
    aid = draft(app, world.unit_a1)
    with app.app_context(), db.writing():
        a = db.session.get(Assessment, aid)
        a.status = Status.SUBMITTED.value
    with app.test_request_context("/"):
        report_services.schedule_pdfs(aid, ["fr", "en", "fr"])
    assert background.wait_idle()
    assert set(cache_rows(app, aid)) == {"fr", "en"}


def test_reopened_during_the_render_leaves_no_file_that_is_served(app, world, make_browser, monkeypatch):
    aid = draft(app, world.unit_a1)
    started, release = threading.Event(), threading.Event()
    real = report_services.render_report_pdf

    def held(a: Assessment) -> bytes:
        started.set()
        assert release.wait(60)
        return real(a)

    monkeypatch.setattr(report_services, "render_report_pdf", held)
    member, supervisor = make_browser(), make_browser()
    member.login(email("member_a1"))
    supervisor.login(email("supervisor_a"))
    submit(member, aid)
    assert started.wait(60)  # the background render has read the submitted assessment
    supervisor.get(f"/assessments/{aid}")
    assert supervisor.post(f"/assessments/{aid}/reopen", {"reason": "Wrong unit"}).status_code == 302
    release.set()
    assert background.wait_idle()
    stored = cache_rows(app, aid)
    assert stored["en"] != version(app, aid)  # kept under the version it was made from, so never served
    monkeypatch.setattr(report_services, "render_report_pdf", real)
    resp = member.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "draft"
    assert "DRAFT" in pdf_text(resp.data)


def test_a_lost_background_job_means_the_download_renders_as_before(app, world, browser, renders):
    aid = draft(app, world.unit_a1)
    browser.login(email("member_a1"))
    submit(browser, aid)
    assert background.wait_idle()
    with app.app_context(), db.writing():  # as if the worker had been killed before storing
        db.session.execute(ReportCache.__table__.delete())
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    assert resp.status_code == 200 and resp.headers["X-Report-Cache"] == "miss" and len(renders) == 2
    assert browser.get(f"/assessments/{aid}/report.pdf").headers["X-Report-Cache"] == "hit"


# --- Planned actions in the gap report (issue 17) ----------------------------------------------------------

def test_pdf_lists_the_units_actions_and_an_action_change_invalidates_the_cache(app, world, browser, renders):
    aid = draft(app, world.unit_a1)
    rec, other = CONTENT.recommendations[0], CONTENT.recommendations[1]
    with app.app_context(), db.writing():
        db.session.add(ActionItem(unit_id=world.unit_a1, recommendation_id=rec.id, content_version=CONTENT.version,
                                  title="Appoint a platform liaison officer", status="planned", description="",
                                  owner_name="", due_date=date.today() - timedelta(days=3)))
        db.session.add(ActionItem(unit_id=world.unit_a1, recommendation_id=rec.id, content_version=CONTENT.version,
                                  title="Draft the referral protocol", status="in_progress", description="",
                                  owner_name="", due_date=date.today() + timedelta(days=30)))
        db.session.add(ActionItem(unit_id=world.unit_a2, recommendation_id=other.id,
                                  content_version=CONTENT.version, title="Another unit's action", status="planned",
                                  description="", owner_name=""))
    browser.login(email("member_a1"))
    submit(browser, aid)
    assert background.wait_idle()
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "hit"
    reader = PdfReader(io.BytesIO(resp.data))
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Actions planned: 2 (1 overdue) for 1 of 10 gaps" in first
    text = pdf_text(resp.data)
    assert "Appoint a platform liaison officer" in text and "Draft the referral protocol" in text
    assert "Overdue" in text and "No action planned for this gap." in text
    assert "Another unit's action" not in text
    assert "Plan an action for this gap" not in text  # read-only: no buttons
    renders.clear()

    with app.app_context(), db.writing():  # the action is edited (its version moves on)
        item = db.session.scalars(select(ActionItem).where(ActionItem.title.startswith("Appoint"))).one()
        item.title = "Appoint two platform liaison officers"
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "miss" and renders == [aid]
    text = pdf_text(resp.data)
    assert "Appoint two platform liaison officers" in text and "Appoint a platform liaison officer" not in text
    assert browser.get(f"/assessments/{aid}/report.pdf").headers["X-Report-Cache"] == "hit"

    with app.app_context(), db.writing():  # another unit's plan is not this report's
        db.session.execute(update(ActionItem).where(ActionItem.unit_id == world.unit_a2)
                           .values(title="Changed elsewhere", version_id=ActionItem.version_id + 1))
    assert browser.get(f"/assessments/{aid}/report.pdf").headers["X-Report-Cache"] == "hit"


def test_plan_key_changes_when_an_open_action_becomes_overdue(app, world):
    from app.actions.services import plan_fingerprint

    with app.app_context(), db.writing():
        db.session.add(ActionItem(unit_id=world.unit_a1, recommendation_id=CONTENT.recommendations[0].id,
                                  content_version=CONTENT.version, title="Due soon", status="planned",
                                  description="", owner_name="", due_date=date(2030, 5, 10)))
    with app.app_context():
        before = plan_fingerprint(db.session, world.unit_a1, date(2030, 5, 10))
        assert plan_fingerprint(db.session, world.unit_a1, date(2030, 5, 1)) == before  # no daily churn
        assert plan_fingerprint(db.session, world.unit_a1, date(2030, 5, 11)) != before  # now overdue


# --- Workshop report -------------------------------------------------------------------------------------

def test_closed_workshop_pdf_is_rendered_once_and_reopening_invalidates_it(app, world, monkeypatch):
    from app.workshops import views as workshop_views

    from .test_workshops import open_workshop, trainer_browser

    calls: list[int] = []
    real = workshop_views._render_report_pdf
    monkeypatch.setattr(workshop_views, "_render_report_pdf",
                        lambda session, wid: calls.append(wid) or real(session, wid))
    trainer = trainer_browser(app)
    wid, _code = open_workshop(trainer)
    resp = trainer.get(f"/workshops/{wid}/report.pdf")  # open: rendered each time, never cached
    assert resp.headers["X-Report-Cache"] == "open" and calls == [wid]
    assert trainer.get(f"/workshops/{wid}/report.pdf").headers["X-Report-Cache"] == "open" and len(calls) == 2

    assert trainer.post(f"/workshops/{wid}/close").status_code == 302
    assert background.wait_idle()
    assert len(calls) == 3  # rendered once, in the background, after closing
    for _ in range(2):
        resp = trainer.get(f"/workshops/{wid}/report.pdf")
        assert resp.status_code == 200 and resp.headers["X-Report-Cache"] == "hit"
    assert len(calls) == 3
    assert "Course A" in pdf_text(resp.data)

    assert trainer.post(f"/workshops/{wid}/reopen").status_code == 302
    assert trainer.get(f"/workshops/{wid}/report.pdf").headers["X-Report-Cache"] == "open" and len(calls) == 4
    assert trainer.post(f"/workshops/{wid}/close").status_code == 302
    assert background.wait_idle()
    assert trainer.get(f"/workshops/{wid}/report.pdf").headers["X-Report-Cache"] == "hit" and len(calls) == 5


# --- Agency report (issue 16) ----------------------------------------------------------------------------

@pytest.fixture
def agency_renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = agency_report.render_agency_pdf

    def counted(session: Any, agency_id: int) -> bytes:
        calls.append(agency_id)
        return real(session, agency_id)

    monkeypatch.setattr(agency_report, "render_agency_pdf", counted)
    return calls


def test_agency_pdf_is_prepared_off_the_request_then_served_and_a_change_makes_it_stale(
        app, world, make_browser, agency_renders):
    with app.app_context(), db.writing():
        add_assessment(world.unit_a2, uniform_plan("3"), title="A2 baseline")
    sup = make_browser()
    sup.login(email("supervisor_a"))
    first = sup.get("/agency/report.pdf")
    assert first.status_code == 202 and first.mimetype == "text/html"
    page = first.data.decode()
    assert "The agency report is being prepared" in page and 'href="/agency/report.pdf"' in page  # no-JS link
    assert "js/preparing.js" in page and first.headers["Retry-After"]
    assert background.wait_idle()
    assert agency_renders == [world.agency_a]
    assert sup.get("/agency/report.pdf/status").get_json() == {"ready": True}
    resp = sup.get("/agency/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["X-Report-Cache"] == "hit" and "attachment" in resp.headers["Content-Disposition"]
    assert "Agency A" in pdf_text(resp.data) and agency_renders == [world.agency_a]

    # A member submits in the agency: the report was asked for before, so it is prepared again right away.
    aid = draft(app, world.unit_a1, title="A1 fresh")
    member = make_browser()
    member.login(email("member_a1"))
    submit(member, aid)
    assert background.wait_idle()
    assert agency_renders == [world.agency_a] * 2
    resp = sup.get("/agency/report.pdf")
    assert resp.status_code == 200 and resp.headers["X-Report-Cache"] == "hit"

    # Any other change (here one not made through a page: no job scheduled) makes the file stale.
    with app.app_context(), db.writing():
        db.session.add(ActionItem(unit_id=world.unit_a2, recommendation_id=CONTENT.recommendations[0].id,
                                  content_version=CONTENT.version, title="New", status="planned", description="",
                                  owner_name=""))
    assert sup.get("/agency/report.pdf/status").get_json() == {"ready": False}
    assert sup.get("/agency/report.pdf").status_code == 202
    assert background.wait_idle()
    assert sup.get("/agency/report.pdf").status_code == 200 and len(agency_renders) == 3


def test_another_agency_never_gets_this_agencys_file(app, world, make_browser):
    with app.app_context(), db.writing():
        add_assessment(world.unit_b1, uniform_plan("1"), title="B1 secret assessment")
    sup_a, sup_b = make_browser(), make_browser()
    sup_a.login(email("supervisor_a"))
    sup_b.login(email("supervisor_b"))
    assert sup_a.get("/agency/report.pdf").status_code == 202
    assert background.wait_idle()
    assert sup_a.get("/agency/report.pdf").status_code == 200
    assert sup_b.get("/agency/report.pdf/status").get_json() == {"ready": False}
    assert sup_b.get("/agency/report.pdf").status_code == 202  # its own agency's file is not there yet
    assert background.wait_idle()
    data = sup_b.get("/agency/report.pdf").data
    assert PdfReader(io.BytesIO(data)).metadata.title == "Agency report: Agency B"
    text = pdf_text(data)
    assert "Unit B1" in text and "Unit A1" not in text and "Unit A2" not in text


def test_two_supervisors_asking_at_once_start_one_render(app, world, make_browser, monkeypatch):
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    real = agency_report.render_agency_pdf

    def held(session: Any, agency_id: int) -> bytes:
        calls.append(agency_id)
        started.set()
        assert release.wait(60)
        return real(session, agency_id)

    monkeypatch.setattr(agency_report, "render_agency_pdf", held)
    one, two = make_browser(), make_browser()
    one.login(email("supervisor_a"))
    two.login(email("supervisor_a"))
    assert one.get("/agency/report.pdf").status_code == 202
    assert started.wait(60)
    assert two.get("/agency/report.pdf").status_code == 202
    assert two.get("/agency/report.pdf/status").get_json() == {"ready": False}
    pdfcache._inflight.clear()  # as if the second request came from another process: the database claim holds
    assert two.get("/agency/report.pdf").status_code == 202
    release.set()
    assert background.wait_idle()
    assert calls == [world.agency_a]
    assert one.get("/agency/report.pdf").status_code == 200


def test_a_stale_claim_is_taken_over(app, world):
    with app.test_request_context("/"):
        with db.writing() as s:
            assert pdfcache.claim(s, "agency", world.agency_a, "en", "k1")
        with db.writing() as s:
            assert not pdfcache.claim(s, "agency", world.agency_a, "en", "k1")  # held by a fresh claim
            assert pdfcache.claim(s, "agency", world.agency_a, "en", "k2")  # a newer key is another job
        with db.writing() as s:  # the worker holding it died minutes ago
            s.execute(update(PdfCache).values(job_started_at=utcnow() - pdfcache.STALE_CLAIM - timedelta(seconds=1)))
        with db.writing() as s:
            assert pdfcache.claim(s, "agency", world.agency_a, "en", "k2")


# --- Real gunicorn workers -------------------------------------------------------------------------------

def test_with_gunicorn_the_submitted_assessments_first_download_comes_from_the_cache(app, world, db_url):
    """The production server (gthread workers forked from a preloaded app): submit over HTTP; the report is
    rendered by the worker's background thread after the response, and the first download is a cache hit."""
    import http.cookiejar
    import os
    import re
    import secrets
    import subprocess
    import sys
    import time
    import urllib.parse
    import urllib.request
    from pathlib import Path

    from .conftest import CSRF_RE, PASSWORD
    from .test_gunicorn import ROOT, _free_port

    aid = draft(app, world.unit_a1, title="Served by gunicorn")
    app.extensions["db_engine"].dispose()
    bind = f"127.0.0.1:{_free_port()}"
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": db_url,
           "SESSION_COOKIE_SECURE": "0", "WEB_CONCURRENCY": "2", "BIND": bind, "BASE_URL": f"http://{bind}",
           "REQUEST_LOG": "0"}
    env.pop("PREPARE_REPORTS", None)  # the default: on
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://{bind}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(path: str) -> Any:
        return opener.open(base + path, timeout=60)

    def post(path: str, data: dict[str, str]) -> Any:
        return opener.open(base + path, data=urllib.parse.urlencode(data).encode(), timeout=60)

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = get("/login").read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        token = CSRF_RE.search(page).group(1)
        post("/login", {"csrf_token": token, "email": email("member_a1"), "password": PASSWORD}).read()
        token = CSRF_RE.search(get(f"/assessments/{aid}/review").read().decode()).group(1)
        resp = post(f"/assessments/{aid}/submit", {"csrf_token": token})
        assert resp.status == 200 and re.search(rf"/assessments/{aid}/results$", resp.url)  # redirect followed
        # The durable state is the cache row: wait (boundedly) until the worker's background thread has stored it.
        deadline = time.monotonic() + 180
        while True:
            with app.app_context():
                a = db.session.get(Assessment, aid)
                row = db.session.get(ReportCache, (aid, "en"))
                ready = row is not None and row.assessment_version == a.version_id
                db.session.rollback()
            if ready or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.5)
        assert ready, "the background render never stored the report"
        resp = get(f"/assessments/{aid}/report.pdf")
        assert resp.status == 200 and resp.headers["X-Report-Cache"] == "hit"
        assert "Served by gunicorn" in pdf_text(resp.read())
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert b"Traceback" not in out, out.decode(errors="replace")


def test_adopting_and_editing_an_action_prepares_the_gap_report_again(app, world, browser, renders):
    """Through the pages: the adopted action is in the downloaded PDF; after an edit the next download shows the
    new title, and it was rendered in the background after the edit (a cache hit)."""
    from .test_actions import REC, _adopt, _form, _version

    aid = draft(app, world.unit_a1)
    browser.login(email("member_a1"))
    submit(browser, aid)
    assert background.wait_idle()
    action_id = _adopt(browser, aid, title="Name a liaison officer")
    assert background.wait_idle()
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "hit"
    assert "Name a liaison officer" in pdf_text(resp.data) and REC.title.split()[0] in pdf_text(resp.data)
    v = _version(browser.get(f"/actions/{action_id}/edit").data.decode())
    assert browser.post(f"/actions/{action_id}/edit", _form(title="Name two liaison officers",
                                                           version=v)).status_code == 302
    assert background.wait_idle()
    count = len(renders)
    resp = browser.get(f"/assessments/{aid}/report.pdf")
    assert resp.headers["X-Report-Cache"] == "hit" and len(renders) == count
    text = pdf_text(resp.data)
    assert "Name two liaison officers" in text and "Name a liaison officer" not in text
