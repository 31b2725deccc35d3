"""A session that ends while a questionnaire page is open keeps the typed answers through a new login."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from app.db import db
from app.models import Answer

from .conftest import PASSWORD, email
from .helpers import CONTENT, hidden_fields, section_data, start_assessment

Q = [q.id for q in CONTENT.recommendation_by_number[2].questions]


def _age_session(browser, seconds: int) -> None:
    """Pretend the last activity was ``seconds`` ago (the idle clock lives in the signed session)."""
    with browser.client.session_transaction() as sess:
        sess["seen"] = time.time() - seconds


def stored(app, aid):
    with app.app_context():
        return {a.question_id: (a.value, a.comment) for a in
                db.session.scalars(select(Answer).where(Answer.assessment_id == aid))}


def test_idle_session_expires_and_answers_survive_relogin(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    url = f"/assessments/{aid}/section/2"
    page = browser.get(url).data.decode()
    data = section_data(2, ["3", "2", None, "na"], comments=["typed during a long meeting"],
                        base=hidden_fields(page))
    data["action"] = "next"
    _age_session(browser, 31 * 60)
    resp = browser.post(url, data)
    assert resp.status_code == 401
    body = resp.data.decode()
    assert "Your session has ended" in body and "typed during a long meeting" in body
    assert stored(app, aid) == {}
    # A mistyped password keeps the answers on the page too.
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    form.update({"email": email("member_a1"), "password": "wrong password!"})
    resp = browser.client.post("/login", data=form)
    assert resp.status_code == 401 and "typed during a long meeting" in resp.data.decode()
    # Logging in again brings the section page back with the typed (unsaved) answers.
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', resp.data.decode()))
    form.update({"email": email("member_a1"), "password": PASSWORD})
    resp = browser.client.post("/login", data=form)
    assert resp.status_code == 200
    body = resp.data.decode()
    assert "You are logged in again" in body
    assert "typed during a long meeting" in body
    assert f'id="q_{Q[0]}_3" name="q_{Q[0]}" value="3" checked' in body
    assert stored(app, aid) == {}
    # Pressing Save stores them.
    browser._remember(resp.data)
    resp = browser.post(url, {**{k: v for k, v in data.items() if k != "csrf_token"},
                              **hidden_fields(body)})
    assert resp.status_code == 302
    assert stored(app, aid)[Q[0]] == ("3", "typed during a long meeting")


def test_absolute_lifetime_ends_the_session(app, world, browser):
    browser.login(email("member_a1"))
    with browser.client.session_transaction() as sess:
        sess["login_at"] = time.time() - 13 * 3600
    resp = browser.get("/assessments/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_ping_keeps_the_session_alive(app, world, browser):
    browser.login(email("member_a1"))
    _age_session(browser, 25 * 60)
    assert browser.get("/session/ping").json["ok"] is True
    _age_session(browser, 0)
    assert browser.get("/assessments/").status_code == 200


def test_idle_warning_is_wired_without_inline_script(app, world, browser):
    browser.login(email("member_a1"))
    body = browser.get("/assessments/").data.decode()
    assert 'data-idle-seconds="1800"' in body
    assert '<script src="/static/js/session.js"' in body
    assert "<script>" not in body
