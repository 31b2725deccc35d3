"""Login attempts are limited per account and per address, with a clear message and an audit entry."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.db import db
from app.models import AuditEvent

from .conftest import PASSWORD, Browser, email


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_LIMIT": "3 per 2 seconds", "LOGIN_IP_LIMIT": "5 per 2 seconds"}


def attempt(app, who: str, password: str, addr: str = "10.0.0.1"):
    b = Browser(app.test_client())
    b.client.environ_base["REMOTE_ADDR"] = addr
    b.get("/login")
    return b.post("/login", {"email": email(who), "password": password})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_account_limit_reached_and_lifted(app, world):
    for _ in range(3):
        assert attempt(app, "member_a1", "wrong guess 123").status_code == 401
    resp = attempt(app, "member_a1", PASSWORD)  # even the right password waits until the limit lifts
    assert resp.status_code == 429
    assert "Too many attempts" in resp.data.decode()
    assert attempt(app, "member_a2", PASSWORD).status_code == 302  # other accounts are not affected
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_rate_limited")).first()
        assert event is not None and event.actor == email("member_a1")
    time.sleep(2.2)
    assert attempt(app, "member_a1", PASSWORD).status_code == 302


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_address_limit_and_successes_do_not_count(app, world):
    for _ in range(8):  # successful logins from one address (a whole office) are never throttled
        assert attempt(app, "member_a2", PASSWORD, addr="10.0.0.9").status_code == 302
    who = ["member_a1", "member2_a1", "supervisor_a", "trainer_a", "admin"]
    codes = [attempt(app, w, "bad password!", addr="10.0.0.9").status_code for w in who]
    assert codes == [401] * 5
    assert attempt(app, "supervisor_b", "bad password!", addr="10.0.0.9").status_code == 429
    assert attempt(app, "supervisor_b", PASSWORD, addr="10.0.0.10").status_code == 302
