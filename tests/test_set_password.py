"""One-time set-password links and the logged-in user's password change."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.account import services
from app.config import load_config
from app.db import db
from app.models import AuditEvent, PasswordToken, User, utcnow

from .conftest import PASSWORD, Browser, email

NEW = "tram lantern quietly 1987"


def issue(app, key: str = "member_a1", hours: int = 72) -> str:
    with app.app_context(), db.writing() as s:
        user = s.scalars(select(User).where(User.email == email(key))).one()
        return services.issue_link(s, user, hours=hours).token


def set_via_link(browser: Browser, token: str, password: str = NEW, confirm: str | None = None):
    browser.get(f"/set-password/{token}")
    return browser.post(f"/set-password/{token}", {"password": password, "confirm": confirm or password})


def can_log_in(app, key: str, password: str) -> bool:
    b = Browser(app.test_client())
    b.get("/login")
    return b.post("/login", {"email": email(key), "password": password}).status_code == 302


def test_link_works_once(app, world, browser):
    token = issue(app)
    page = browser.get(f"/set-password/{token}")
    assert page.status_code == 200 and email("member_a1") in page.data.decode()
    resp = set_via_link(browser, token)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert "Your password has been set" in browser.get("/login").data.decode()
    assert can_log_in(app, "member_a1", NEW)
    assert not can_log_in(app, "member_a1", PASSWORD)

    again = Browser(app.test_client())
    assert again.get(f"/set-password/{token}").status_code == 410
    second = set_via_link(Browser(app.test_client()), token, "another long passphrase 42")
    assert second.status_code == 410 and "already been used" in second.data.decode()
    assert not can_log_in(app, "member_a1", "another long passphrase 42")

    with app.app_context():
        user = db.session.get(User, world.users["member_a1"])
        assert user.password_changed_at is not None and user.session_epoch == 1
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password_set")).all()
        assert len(events) == 1 and events[0].object_id == str(user.id)
        stored = db.session.scalars(select(PasswordToken)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and stored.used_at is not None
        for e in db.session.scalars(select(AuditEvent)):
            assert token not in e.detail and NEW not in e.detail


def test_expired_link_refused(app, world, browser):
    token = issue(app)
    with app.app_context(), db.writing() as s:
        s.scalars(select(PasswordToken)).one().expires_at = utcnow() - timedelta(minutes=1)
    resp = browser.get(f"/set-password/{token}")
    assert resp.status_code == 410 and "expired" in resp.data.decode()
    assert set_via_link(browser, token).status_code == 410
    assert not can_log_in(app, "member_a1", NEW)


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 500, "%3Cscript%3Ealert(1)%3C%3Cscript%3E"])
def test_unknown_token_refused(app, world, browser, token):
    resp = browser.get(f"/set-password/{token}")
    assert resp.status_code == 400 and "not valid" in resp.data.decode()
    assert "<script>alert" not in resp.data.decode()
    assert browser.post(f"/set-password/{token}", {"password": NEW, "confirm": NEW}).status_code == 400


def test_new_link_replaces_older_ones(app, world, browser):
    first, second = issue(app), issue(app)
    assert browser.get(f"/set-password/{first}").status_code == 410
    assert set_via_link(browser, second).status_code == 302


def test_link_of_deactivated_account_refused(app, world, browser):
    token = issue(app)
    with app.app_context(), db.writing() as s:
        s.get(User, world.users["member_a1"]).active = False
    assert browser.get(f"/set-password/{token}").status_code == 410


def test_setting_password_ends_existing_sessions(app, world, make_browser):
    old = make_browser()
    old.login(email("member_a1"))
    set_via_link(make_browser(), issue(app))
    resp = old.get("/assessments/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 12"),
    ("qwerty123456", "commonly used"),
    ("member_a1 is my name", "e-mail"),
])
def test_policy_applied_on_link_page(app, world, browser, password, message):
    token = issue(app)
    resp = set_via_link(browser, token, password)
    assert resp.status_code == 422 and message in resp.data.decode()
    assert browser.get(f"/set-password/{token}").status_code == 200  # still usable


def test_confirmation_must_match(app, world, browser):
    resp = set_via_link(browser, issue(app), NEW, NEW + "x")
    assert resp.status_code == 422 and "differ" in resp.data.decode()


def test_config_from_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PASSWORD_MIN_LENGTH", "14")
    monkeypatch.setenv("SET_PASSWORD_HOURS", "24")
    monkeypatch.setenv("BASE_URL", "https://thb.police.example")
    cfg = load_config(tmp_path, {"APP_ENV": "test"})
    assert (cfg["PASSWORD_MIN_LENGTH"], cfg["SET_PASSWORD_HOURS"], cfg["BASE_URL"]) == \
        (14, 24, "https://thb.police.example")
    monkeypatch.delenv("PASSWORD_MIN_LENGTH")
    monkeypatch.delenv("SET_PASSWORD_HOURS")
    monkeypatch.delenv("BASE_URL")
    cfg = load_config(tmp_path, {"APP_ENV": "test"})
    assert (cfg["PASSWORD_MIN_LENGTH"], cfg["SET_PASSWORD_HOURS"], cfg["BASE_URL"]) == \
        (12, 72, "http://127.0.0.1:5000")


def test_link_lifetime_follows_config(app, world):
    app.config["SET_PASSWORD_HOURS"] = 5
    admin = Browser(app.test_client())
    admin.login(email("admin"))
    admin.get(f"/admin/users/{world.users['member_a1']}")
    assert admin.post(f"/admin/users/{world.users['member_a1']}/reset-password").status_code == 200
    with app.app_context():
        token = db.session.scalars(select(PasswordToken)).one()
        left = token.expires_at - token.created_at
        assert timedelta(hours=4, minutes=59) < left <= timedelta(hours=5)


# --- Password change by the logged-in user -----------------------------------------------------------------------


def change(browser: Browser, current: str = PASSWORD, new: str = NEW, confirm: str | None = None):
    browser.get("/account/password")
    return browser.post("/account/password", {"current": current, "password": new, "confirm": confirm or new})


def test_change_kills_copied_cookie_but_keeps_this_browser(app, world, browser):
    browser.login(email("member_a1"))
    copied = browser.client.get_cookie("thb_session").value
    thief = app.test_client()
    thief.set_cookie("thb_session", copied)
    assert thief.get("/assessments/").status_code == 200  # the copy works until the password changes

    resp = change(browser)
    assert resp.status_code == 302
    here = browser.get("/assessments/")
    assert here.status_code == 200 and "Your password has been changed" in here.data.decode()  # still logged in
    stale = thief.get("/assessments/")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]
    assert can_log_in(app, "member_a1", NEW) and not can_log_in(app, "member_a1", PASSWORD)
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password_changed")).one()


def test_change_needs_the_current_password(app, world, browser):
    browser.login(email("member_a1"))
    resp = change(browser, current="not my password at all")
    assert resp.status_code == 422 and "not your current password" in resp.data.decode()
    assert can_log_in(app, "member_a1", PASSWORD)
    with app.app_context():
        failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password_change_failed")).one()
        assert "not my password" not in failed.detail


@pytest.mark.parametrize(("new", "message"), [
    ("short", "at least 12"),
    ("password1234", "commonly used"),
    ("supervisor_a@example.org", "e-mail"),
    (PASSWORD, "different from your current one"),
])
def test_change_applies_the_policy(app, world, browser, new, message):
    browser.login(email("supervisor_a"))
    resp = change(browser, new=new)
    assert resp.status_code == 422 and message in resp.data.decode(), resp.data.decode()[-3000:]
    assert can_log_in(app, "supervisor_a", PASSWORD)


def test_change_voids_outstanding_links(app, world, browser):
    token = issue(app)
    browser.login(email("member_a1"))
    assert change(browser).status_code == 302
    assert Browser(app.test_client()).get(f"/set-password/{token}").status_code == 410


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_change_attempts_are_rate_limited(app, world, browser):
    app.config["LOGIN_LIMIT"] = "3 per 1 minute"
    browser.login(email("member_a1"))
    for _ in range(3):
        assert change(browser, current="wrong guess number one").status_code == 422
    assert change(browser).status_code == 429


@pytest.mark.parametrize("value", [
    '<script>alert("x")</script> long enough', "before\x00after long enough", "abc\u202eevil.exe\u202c long one",
    "in\u200bvisible\u200d long enough", "A" * 1_000_000,
])
def test_hostile_passwords_never_500(app, world, browser, value):
    token = issue(app)
    resp = set_via_link(browser, token, value)
    assert resp.status_code in (302, 400, 413, 422), resp.status_code
    assert "<script>alert" not in resp.data.decode()
    browser.login(email("supervisor_a"))
    resp = change(browser, current=value, new=value)
    assert resp.status_code in (400, 413, 422) and "<script>alert" not in resp.data.decode()
