"""Default deny and unit scoping for the questionnaire and reports."""

from __future__ import annotations

import pytest

from app.access import rule_of

from .conftest import email
from .helpers import start_assessment

OBJECT_URLS = ["/assessments/{}", "/assessments/{}/section/1", "/assessments/{}/review", "/assessments/{}/results",
               "/assessments/{}/report.pdf", "/assessments/{}/export.json"]


def test_every_endpoint_declares_who_may_call_it(app):
    missing = [ep for ep, view in app.view_functions.items() if ep != "static" and rule_of(view) is None]
    assert missing == []


def test_anonymous_is_sent_to_login(app, world, make_browser):
    owner = make_browser()
    owner.login(email("member_a1"))
    aid = start_assessment(owner, world.unit_a1)
    anon = make_browser()
    for url in [*OBJECT_URLS, "/assessments/", "/about"]:
        resp = anon.get(url.format(aid))
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    assert anon.post(f"/assessments/{aid}/submit").status_code == 401


@pytest.mark.parametrize(("who", "allowed"), [
    ("member_a1", True), ("member2_a1", True), ("supervisor_a", True),
    ("member_a2", False), ("member_b1", False), ("supervisor_b", False), ("trainer_a", False), ("admin", False),
])
def test_assessment_visible_only_to_its_unit_and_agency_supervisor(app, world, make_browser, who, allowed):
    owner = make_browser()
    owner.login(email("member_a1"))
    aid = start_assessment(owner, world.unit_a1)
    other = make_browser()
    other.login(email(who))
    for url in OBJECT_URLS:
        status = other.get(url.format(aid)).status_code
        if allowed:
            assert status == 200, (url, status)
        else:
            assert status in (403, 404), (url, status)
    listing = other.get("/assessments/")
    if listing.status_code == 200:
        assert ("Self-assessment 2026" in listing.data.decode()) == allowed


def test_security_headers_and_cookie_flags(app, world, browser):
    resp = browser.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"
    login = browser.post("/login", {"email": email("member_a1"), "password": "correct horse battery staple"})
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_inline_script_in_pages(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    for url in OBJECT_URLS[:4]:
        body = browser.get(url.format(aid)).data.decode()
        assert "<script>" not in body and "onclick=" not in body


def test_logout_kills_copied_session_cookie(app, world, browser):
    browser.login(email("member_a1"))
    cookie = browser.client.get_cookie("thb_session").value
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("thb_session", cookie)
    resp = thief.get("/assessments/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_wrong_password_is_refused_and_audited(app, world, browser):
    from sqlalchemy import select

    from app.db import db
    from app.models import AuditEvent

    browser.get("/login")
    resp = browser.post("/login", {"email": email("member_a1"), "password": "wrong password here"})
    assert resp.status_code == 401
    assert "not correct" in resp.data.decode()
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "login_failed" in actions
        events = db.session.scalars(select(AuditEvent)).all()
        assert all("wrong password" not in (e.detail + e.actor) for e in events)


def test_open_redirect_after_login_is_refused(app, world, browser):
    browser.get("/login")
    resp = browser.post("/login?next=//evil.example/x", {"email": email("member_a1"),
                                                          "password": "correct horse battery staple"})
    assert resp.status_code == 302 and "evil.example" not in resp.headers["Location"]
