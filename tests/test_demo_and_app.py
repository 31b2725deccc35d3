"""The demo loads once, with the logins the README promises; configuration refuses unsafe starts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import ConfigError
from app.content.current import current
from app.db import db
from app.demo import load, logins
from app.models import Assessment, User


def test_demo_loads_once_and_its_logins_work(app):
    with app.app_context():
        with db.writing() as s:
            assert load(s, current()) is True
        with db.writing() as s:
            assert load(s, current()) is False
        statuses = sorted(db.session.scalars(select(Assessment.status)).all())
        assert statuses.count("submitted") >= 2 and "draft" in statuses
        assert db.session.scalar(select(func.count()).select_from(User)) == len(logins())
    client = app.test_client()
    from tests.conftest import Browser

    for email, password, role in logins():
        b = Browser(app.test_client())
        b.get("/login")
        assert b.post("/login", {"email": email, "password": password}).status_code == 302, role
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_demo_submitted_assessment_has_gaps(app):
    with app.app_context():
        with db.writing() as s:
            load(s, current())
        from app.assessments.services import scores_for

        a = db.session.scalars(select(Assessment).where(Assessment.title == "Annual self-assessment 2026")).one()
        scores = scores_for(db.session, a, current())
        assert len(scores.ranking) >= 3


def test_demo_unit_has_a_small_plan_that_shows_the_loop(app):
    """A new user of `make run` sees the loop: an action done between the two submissions on a recommendation that
    rose, one in progress, one overdue; the results, the plan and the supervisor's dashboard say so."""
    import re
    from html import unescape

    from tests.conftest import Browser

    with app.app_context():
        with db.writing() as s:
            load(s, current())
        a = db.session.scalars(select(Assessment).where(Assessment.title == "Annual self-assessment 2026")).one()
        aid, unit_id = a.id, a.unit_id
    member = Browser(app.test_client())
    member.login("member@demo.example", "demo-member-pass")
    plan = member.get(f"/units/{unit_id}/plan").data.decode()
    assert re.search(r"<strong>2</strong>\s*open", plan) and re.search(r"<strong>1</strong>\s*overdue", plan)
    assert plan.count('class="action-item status-in_progress"') == 1
    assert plan.count('class="action-item status-planned overdue"') == 1
    results = unescape(member.get(f"/assessments/{aid}/results").data.decode())
    since = results[results.index("Actions completed since the previous assessment"):]
    row = since[since.index("<td>1</td>"):].split("</tr>")[0]
    assert 'class="num change-rose">+' in row and "<span class=\"muted\">none</span>" not in row
    sup = Browser(app.test_client())
    sup.login("supervisor@demo.example", "demo-supervisor-pass")
    dashboard = sup.get("/agency/").data.decode()
    heat = dashboard[dashboard.index('id="heatmap"'):]
    cell = heat[heat.index('<th scope="row">Anti-Trafficking Unit</th>'):].split("</tr>")[0]
    assert ">2 open · <span class=\"overdue\">1 overdue</span></a>" in cell and "1 done in 12 months" in cell


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("BASE_URL", "https://assess.police.example")
    app = create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_production_compiles_every_template_before_the_first_request(monkeypatch):
    """A workshop's join storm is often a worker's first traffic: no request should wait for Jinja's compiler."""
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("BASE_URL", "https://assess.police.example")
    app = create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    names = set(app.jinja_env.list_templates(extensions=("html",)))
    cached = {key[1] for key in app.jinja_env.cache}
    assert {"base.html", "workshops/answer.html", "workshops/join.html"} <= names
    assert names <= cached
    dev = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert not dev.jinja_env.cache  # development compiles on demand, so edited templates show at once


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        create_app({"APP_ENV": "staging"})


@pytest.mark.parametrize("key", ["short", "change-me", "x" * 32])
def test_production_refuses_weak_secret_key(monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_login_rehashes_weaker_password_hashes(app, world):
    from argon2 import PasswordHasher

    from tests.conftest import PASSWORD, Browser, email

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email("member_a1"))).one()
        user.password_hash = weak
        db.session.commit()
    Browser(app.test_client()).login(email("member_a1"))
    with app.app_context():
        stored = db.session.scalars(select(User.password_hash).where(User.email == email("member_a1"))).one()
    assert stored != weak and stored.startswith("$argon2id$")


def test_large_demo_agency_from_the_cli(app):
    """`flask demo large` builds the agency the README points supervisors to, once; its dashboard lists every unit."""
    from app.cli import LARGE_SUPERVISOR
    from app.models import Agency, Unit
    from tests.conftest import Browser

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "large", "--units", "4", "--per-unit", "3"])
    assert first.exit_code == 0, first.output
    assert "Created 12 submitted assessments with" in first.output
    again = runner.invoke(args=["demo", "large", "--units", "4", "--per-unit", "3"])
    assert again.exit_code == 0 and "already there" in again.output
    with app.app_context():
        agency = db.session.scalars(select(Agency).where(Agency.name == "Large Demo Police (4 units)")).one()
        assert db.session.scalar(select(func.count()).select_from(Unit).where(Unit.agency_id == agency.id)) == 4
        latest = db.session.scalars(select(Assessment.submitted_at).join(Unit).where(Unit.agency_id == agency.id)
                                    .order_by(Assessment.submitted_at)).all()
        assert len(latest) == 12 and all(s is not None for s in latest)
    b = Browser(app.test_client())
    b.login(LARGE_SUPERVISOR[0].format(units=4), LARGE_SUPERVISOR[1])
    body = b.get("/agency/").data.decode()
    assert "Large Demo Police (4 units)" in body
    assert body.count("Unit 00") >= 4
    assert runner.invoke(args=["demo", "large", "--units", "0"]).exit_code != 0  # out of range: refused
