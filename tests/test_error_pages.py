"""Generic error pages in the app's look, never a stack trace; 500 rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.access import public
from app.db import db
from app.models import Agency

from .conftest import email
from .helpers import start_assessment


@pytest.fixture
def app_with_boom(app):
    @app.route("/boom")
    @public
    def boom():  # a view that writes, then fails
        db.session.add(Agency(name="half-written"))
        db.session.flush()
        raise RuntimeError("secret internal detail")

    return app


def _is_generic(resp, code):
    body = resp.data.decode()
    assert resp.status_code == code
    assert "Traceback" not in body and "secret internal detail" not in body
    assert 'class="topbar"' in body  # the app's own look
    return body


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_each_error_page(app_with_boom, world, make_browser):
    app = app_with_boom
    anon = make_browser()
    assert "Something went wrong" in _is_generic(anon.get("/boom"), 500)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Agency).where(Agency.name == "half-written")) == 0
    _is_generic(anon.get("/no-such-page"), 404)
    resp = anon.get("/logout")
    _is_generic(resp, 405)
    assert "POST" in resp.headers["Allow"]
    _is_generic(anon.post("/login", {"email": "x"}, csrf=False), 400)
    _is_generic(anon.post("/login", {"email": "x" * 2_000_000}), 413)
    member = make_browser()
    member.login(email("member_a1"))
    _is_generic(member.get("/audit/"), 403)
    aid = start_assessment(member, world.unit_a1)
    sup = make_browser()
    sup.login(email("supervisor_a"))
    sup.get(f"/assessments/{aid}")
    _is_generic(sup.post(f"/assessments/{aid}/reopen", {"reason": "draft cannot be reopened"}), 409)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hsts_only_over_https(app, world):
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
