"""When the database is away, the app still speaks (issue 11, item 4): its own 503 page with the security headers
and Retry-After, JSON for scripts, the typed answers of a questionnaire save kept, a JSON health check; and it
recovers by itself when the database is back.

The shared PostgreSQL is never stopped: the app reaches it through a small TCP relay that the test stops and
starts (an outage with the server still running, as a network cut or a restart looks to the app). SQLite "goes
away" by its directory being renamed. An app pointed at a closed port from the start is tested too.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app import create_app
from app.db import db
from app.models import Answer

from .conftest import email
from .helpers import CONTENT, hidden_fields, section_data, start_assessment

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
Q2 = [q.id for q in CONTENT.recommendation_by_number[2].questions]


class Relay:
    """A TCP relay on a fixed local port to a target; stop() refuses new connections and cuts open ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@dataclass
class Outage:
    down: Callable[[], None]
    up: Callable[[], None]


@pytest.fixture
def outage_setup(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Outage]]:
    """The database URL the app uses, and how to take that database away and bring it back."""
    if db_url.startswith("sqlite"):
        original = Path(make_url(db_url).database)
        here = tmp_path / "db"
        here.mkdir()
        shutil.move(original, here / original.name)
        away = tmp_path / "db-away"
        holder: dict[str, Any] = {}

        def down() -> None:
            here.rename(away)
            holder["app"].extensions["db_engine"].dispose()  # pooled connections keep the old file open

        def up() -> None:
            away.rename(here)

        outage = Outage(down, up)
        outage.holder = holder  # type: ignore[attr-defined]
        yield f"sqlite:///{here / original.name}", outage
        return
    url = make_url(db_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.start()
    outage = Outage(relay.stop, relay.start)
    outage.holder = {}  # type: ignore[attr-defined]
    try:
        yield url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False), outage
    finally:
        relay.stop()


@pytest.fixture
def app_config(outage_setup, tmp_path: Path) -> dict[str, Any]:
    url, _outage = outage_setup
    return {"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
            "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture
def outage(app, outage_setup) -> Outage:
    _url, out = outage_setup
    out.holder["app"] = app  # type: ignore[attr-defined]
    return out


def _has_app_headers(resp: Any) -> None:
    for name in SECURITY_HEADERS:
        assert name in resp.headers, name
    assert resp.headers["Retry-After"].isdigit()


def test_health_check_reports_the_database_and_recovers(app, world, outage):
    client = app.test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": "ok"}
    outage.down()
    try:
        resp = client.get("/healthz")
        assert resp.status_code == 503
        assert resp.json == {"status": "unavailable", "database": "unreachable"}
        _has_app_headers(resp)
    finally:
        outage.up()
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": "ok"}


def test_a_logged_in_page_gets_the_apps_own_503_and_the_session_survives(app, world, browser, outage):
    browser.login(email("member_a1"))
    outage.down()
    try:
        resp = browser.get("/assessments/")
        assert resp.status_code == 503 and resp.mimetype == "text/html"
        body = resp.data.decode()
        assert "Temporarily unavailable" in body and "nothing of this request was saved" in body
        assert "Traceback" not in body and "OperationalError" not in body
        _has_app_headers(resp)
        # Scripts and the app's own fetch() calls get JSON.
        resp = browser.client.get("/assessments/", headers={"Accept": "application/json"})
        assert resp.status_code == 503 and resp.json["status"] == "unavailable"
        _has_app_headers(resp)
    finally:
        outage.up()
    resp = browser.get("/assessments/")  # still logged in: nothing was lost with the outage
    assert resp.status_code == 200 and "Member A1" in resp.data.decode()


def test_a_questionnaire_save_while_the_database_is_away_keeps_the_typed_answers(app, world, browser, outage):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    url = f"/assessments/{aid}/section/2"
    page = browser.get(url).data.decode()
    data = section_data(2, ["3", "1", None, "na"], comments=["typed while the server restarted"],
                        evidence=["", "minutes of 3 May"], base=hidden_fields(page))
    outage.down()
    try:
        resp = browser.post(url, data)
        assert resp.status_code == 503
        _has_app_headers(resp)
        body = resp.data.decode()
        assert "Your answers were not saved yet" in body
        assert "typed while the server restarted" in body and "minutes of 3 May" in body
        assert CONTENT.recommendation_by_number[2].questions[0].text in body  # shown with its question
        # The page sends the same input again to the same address, with the revisions it was loaded at.
        form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', body, re.S)
        assert form is not None and form.group(1) == url
        resend = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
        assert resend[f"q_{Q2[0]}"] == "3" and resend[f"q_{Q2[3]}"] == "na"
        assert resend[f"rev_{Q2[0]}"] == "0" and resend["csrf_token"]
    finally:
        outage.up()
    with app.app_context():
        assert db.session.scalars(select(Answer).where(Answer.assessment_id == aid)).all() == []
    # Back up: pressing "Try again" stores exactly what was typed.
    resp = browser.client.post(url, data=resend)
    assert resp.status_code == 302, resp.data[:500]
    with app.app_context():
        stored = {a.question_id: (a.value, a.comment, a.evidence)
                  for a in db.session.scalars(select(Answer).where(Answer.assessment_id == aid))}
    assert stored[Q2[0]] == ("3", "typed while the server restarted", "")
    assert stored[Q2[1]] == ("1", "", "minutes of 3 May")
    assert stored[Q2[3]] == ("na", "", "")


def _config(url: str) -> dict[str, Any]:
    return {"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "s-" + uuid.uuid4().hex,
            "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/test", "sqlite:///{tmp}/no/such/dir/db.sqlite3"])
def test_an_app_started_without_its_database_answers_503_then_works_once_it_is_there(url, tmp_path, sqlite_template):
    away = create_app(_config(url.format(tmp=tmp_path)))
    try:
        client = away.test_client()
        resp = client.get("/healthz")
        assert resp.status_code == 503 and resp.json == {"status": "unavailable", "database": "unreachable"}
        resp = client.post("/login", data={"email": "someone@example.org", "password": "x"})
        assert resp.status_code in (400, 503)  # no CSRF token: refused before the database is needed
        assert client.get("/login").status_code == 200  # pages that need no database still work
    finally:
        away.extensions["db_engine"].dispose()
    path = tmp_path / "ok.sqlite3"
    shutil.copy(sqlite_template, path)
    back = create_app(_config(f"sqlite:///{path}"))
    try:
        assert back.test_client().get("/healthz").json == {"status": "ok", "database": "ok"}
    finally:
        back.extensions["db_engine"].dispose()
