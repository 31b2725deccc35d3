"""Fixtures: an app on a fresh database per test, on SQLite always and on PostgreSQL when reachable.

Set TEST_POSTGRES_URL to point at another server; set REQUIRE_POSTGRES=1 (CI does) to fail instead of
skipping when it cannot be reached.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from app import background, create_app
from app.db import db
from app.migrate import upgrade
from app.models import Agency, Role, Unit, User
from app.passwords import hash_password

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"
_pg_state: dict[str, Any] = {}


def _pg_reachable() -> str | None:
    """None when reachable, else the reason."""
    if "reason" not in _pg_state:
        try:
            with psycopg.connect(PG_URL, connect_timeout=3):
                pass
            _pg_state["reason"] = None
        except Exception as exc:
            _pg_state["reason"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return _pg_state["reason"]


def pytest_report_header(config: pytest.Config) -> list[str]:
    reason = _pg_reachable()
    if reason is None:
        return [f"PostgreSQL: reachable at {PG_URL}; database tests run on SQLite AND PostgreSQL"]
    return [f"PostgreSQL: NOT reachable at {PG_URL} ({reason}); PostgreSQL runs will be SKIPPED"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reason = _pg_reachable()
    if reason is None:
        terminalreporter.write_line(f"PostgreSQL: database tests ran on SQLite and on PostgreSQL ({PG_URL}).")
    else:
        terminalreporter.write_line(f"PostgreSQL: SKIPPED - not reachable at {PG_URL} ({reason}). "
                                    "Only SQLite was tested.", yellow=True, bold=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated schema, made once; each test gets a copy (a fresh database per test, cheaply)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throw-away redis-server for the Redis rate-limit store (apt-get install redis-server; CI installs it
    and sets REQUIRE_REDIS=1 so that these tests cannot be skipped there)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    work = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {PG_URL}: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {reason}")
    name = f"thb_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = re.sub(r"/[^/]*$", f"/{name}", PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    upgrade(url)
    try:
        yield url
    finally:
        create_engine(url).dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database of its own (no schema), dropped afterwards: a restore or copy target."""
    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {PG_URL}: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {reason}")
    name = f"thb_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield re.sub(r"/[^/]*$", f"/{name}", PG_URL)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def app_config(db_url: str, tmp_path: Path) -> dict[str, Any]:
    # Rate limits count in the test database, as in production; links are built on the test client's host.
    # Reports are not rendered in the background after each submission here: most tests never read them, and a
    # render beside a test would count in its queries. tests/test_reports_ready.py turns it on (as production is).
    return {"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
            "BASE_URL": "http://localhost", "PREPARE_REPORTS": False}


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    assert background.wait_idle(), "background jobs still running after the test"
    application.extensions["db_engine"].dispose()


@dataclass
class World:
    """Two agencies; agency A has units A1 and A2; one user per role, plus members elsewhere."""

    agency_a: int
    agency_b: int
    unit_a1: int
    unit_a2: int
    unit_b1: int
    users: dict[str, int]


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context(), db.writing() as s:
        a, b = Agency(name="Agency A"), Agency(name="Agency B")
        a1, a2, b1 = Unit(name="Unit A1", agency=a), Unit(name="Unit A2", agency=a), Unit(name="Unit B1", agency=b)
        s.add_all([a, b, a1, a2, b1])
        s.flush()
        pw = hash_password(PASSWORD)
        spec = {
            "member_a1": (Role.MEMBER, a, a1), "member2_a1": (Role.MEMBER, a, a1), "member_a2": (Role.MEMBER, a, a2),
            "supervisor_a": (Role.SUPERVISOR, a, None), "trainer_a": (Role.TRAINER, a, None),
            "admin": (Role.ADMIN, a, None), "member_b1": (Role.MEMBER, b, b1),
            "supervisor_b": (Role.SUPERVISOR, b, None),
        }
        users = {}
        for key, (role, agency, unit) in spec.items():
            u = User(email=f"{key}@example.org", name=key.replace("_", " ").title(), role=role.value,
                     agency_id=agency.id, unit_id=unit.id if unit else None, password_hash=pw, active=True)
            s.add(u)
            s.flush()
            users[key] = u.id
        return World(a.id, b.id, a1.id, a2.id, b1.id, users)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A test client that carries the CSRF token from the pages it reads, like a real browser."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def _remember(self, body: bytes) -> None:
        m = CSRF_RE.search(body.decode("utf-8", "replace"))
        if m:
            self.token = m.group(1)

    def get(self, url: str, **kw: Any) -> Any:
        resp = self.client.get(url, **kw)
        if resp.mimetype == "text/html":
            self._remember(resp.data)
        return resp

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any) -> Any:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            if self.token is None:
                self.get("/login")
            data["csrf_token"] = self.token
        resp = self.client.post(url, data=data, **kw)
        if resp.mimetype == "text/html":
            self._remember(resp.data)
        return resp

    def login(self, email: str, password: str = PASSWORD) -> Any:
        self.get("/login")
        resp = self.post("/login", {"email": email, "password": password})
        assert resp.status_code == 302, resp.data[:500]
        self.get("/assessments/" if "member" in email or "supervisor" in email else "/about")
        return resp


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def make_browser(app: Flask) -> Any:
    return lambda: Browser(app.test_client())


def email(key: str) -> str:
    return f"{key}@example.org"


# --- Browser tests (headless Chromium via Playwright) ---------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(app: Flask, world: World) -> Iterator[str]:
    """The test app served on a free local port; skips (or fails under REQUIRE_BROWSER=1) without Chromium."""
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is not installed")
        pytest.skip("Chromium not found: browser tests skipped (apt-get install chromium)")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def chromium(live_server: str) -> Iterator[tuple[Any, str]]:
    """A headless Chromium and the live server's base URL; each test opens its own contexts and pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser, live_server
        browser.close()


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The rate limiter's clock, stopped: a limit's window ends when the test moves the clock on, not when a
    busy machine happens to be slow (``frozen_clock["ms"] += 61_000``)."""
    from app import ratelimit

    clock = {"ms": 1_800_000_000_000}
    monkeypatch.setattr(ratelimit, "_now_ms", lambda: clock["ms"])
    return clock
