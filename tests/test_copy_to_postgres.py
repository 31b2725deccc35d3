"""`flask copy-to-postgres`: a trial's SQLite database (the demo) moved into a fresh PostgreSQL database."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.config import normalise_database_url
from app.content.current import current
from app.db import db
from app.demo import load as load_demo
from app.models import Agency, Answer, Assessment, AuditEvent, ReportCache
from app.ops.copy import checksum, tables

from .conftest import Browser


@pytest.fixture
def trial(sqlite_template: Path, tmp_path: Path):
    """A SQLite trial with the demo loaded (`flask demo load`'s code path), an audit event and a cached PDF."""
    path = tmp_path / "trial.sqlite3"
    shutil.copy(sqlite_template, path)
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        with db.writing() as s:
            assert load_demo(s, current())
        with db.writing() as s:
            a = s.scalars(select(Assessment).where(Assessment.status == "submitted")).first()
            a.title = a.title + " (edited)"  # version counter moves past 1
            s.add(AuditEvent(actor="trial", action="edited", object_type="assessment", object_id=str(a.id)))
        with db.writing() as s:
            a = s.get(Assessment, a.id)
            s.add(ReportCache(assessment_id=a.id, language="en", assessment_version=a.version_id,
                              pdf=b"%PDF-1.7 cached\x00\xff"))
    yield app
    app.extensions["db_engine"].dispose()


def counts(url: str) -> dict[str, int]:
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables()}
    engine.dispose()
    return out


def sums(url: str) -> dict[str, tuple[int, str]]:
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        out = {t.name: checksum(conn, t) for t in tables()}
    engine.dispose()
    return out


def test_demo_trial_is_copied_whole_and_verified(trial, fresh_pg_url: str) -> None:
    src = trial.config["SQLALCHEMY_DATABASE_URI"]
    out = trial.test_cli_runner().invoke(args=["copy-to-postgres", "--to", fresh_pg_url])
    assert out.exit_code == 0, out.output
    assert "every table verified" in out.output
    for name in ("agency", "assessment", "answer", "audit_event", "workshop", "workshop_answer", "report_cache"):
        assert f"  {name} " in out.output

    want = counts(src)
    assert want["answer"] > 100 and want["workshop_answer"] > 0 and want["audit_event"] > 0
    assert counts(fresh_pg_url) == want
    assert sums(fresh_pg_url) == sums(src)  # ids, revisions, timestamps, PDF bytes: identical

    prod = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": normalise_database_url(fresh_pg_url),
                       "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "RATELIMIT_STORAGE_URI": "memory://"})
    try:
        with prod.app_context():
            max_id = db.session.scalar(select(func.max(Agency.id)))
            with db.writing() as s:  # sequences were moved on: a new row does not collide with a copied id
                s.add(Agency(name="First agency created in production"))
                s.add(AuditEvent(actor="prod", action="first"))
            assert db.session.scalar(select(func.max(Agency.id))) == max_id + 1
            a = db.session.scalars(select(Assessment).where(Assessment.title.like("%(edited)"))).one()
            assert a.version_id > 1
            cached = db.session.get(ReportCache, (a.id, "en"))
            assert cached.assessment_version == a.version_id and cached.pdf == b"%PDF-1.7 cached\x00\xff"
            assert db.session.scalar(select(func.max(Answer.rev))) >= 1
            db.session.close()
        b = Browser(prod.test_client())  # the demo's logins work on the production database
        b.get("/login")
        assert b.post("/login", {"email": "member@demo.example", "password": "demo-member-pass"}).status_code == 302
        assert "Annual self-assessment 2026" in b.get("/assessments/").get_data(as_text=True)
    finally:
        prod.extensions["db_engine"].dispose()


def test_a_non_empty_target_is_refused_and_left_alone(trial, fresh_pg_url: str) -> None:
    runner = trial.test_cli_runner()
    assert runner.invoke(args=["copy-to-postgres", "--to", fresh_pg_url]).exit_code == 0
    before = sums(fresh_pg_url)
    again = runner.invoke(args=["copy-to-postgres", "--to", fresh_pg_url])
    assert again.exit_code == 1
    assert "not empty" in again.output and "nothing was copied" in again.output
    assert sums(fresh_pg_url) == before


def test_a_copy_that_fails_half_way_leaves_the_target_empty(trial, fresh_pg_url: str) -> None:
    """SQLite does not enforce VARCHAR lengths, PostgreSQL does: the copy stops, rolls back, says where."""
    engine = trial.extensions["db_engine"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE answer SET question_id = :long WHERE id = (SELECT MAX(id) FROM answer)"),
                     {"long": "q" * 60})
    out = trial.test_cli_runner().invoke(args=["copy-to-postgres", "--to", fresh_pg_url])
    assert out.exit_code == 1
    assert "Copying table answer failed, nothing was copied" in out.output
    assert set(counts(fresh_pg_url).values()) == {0}


def test_source_and_target_kinds_are_checked(trial, tmp_path: Path) -> None:
    runner = trial.test_cli_runner()
    out = runner.invoke(args=["copy-to-postgres", "--to", f"sqlite:///{tmp_path / 'x.sqlite3'}"])
    assert out.exit_code == 1 and "--to must be a PostgreSQL database" in out.output
    out = runner.invoke(args=["copy-to-postgres", "--from", "postgresql://x@127.0.0.1:1/x",
                              "--to", "postgresql://x@127.0.0.1:1/y"])
    assert out.exit_code == 1 and "--from must be a SQLite database" in out.output
