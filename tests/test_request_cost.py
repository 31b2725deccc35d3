"""What the per-request cuts of issue 16 must keep: behaviour, never time.

The section page reads the answers once; a page load does not sign and send the session cookie again while
the idle clock is fresh, and the idle timeout still ends the session exactly when it did.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event

from .conftest import email
from .helpers import start_assessment


def _statements(app: Any) -> list[str]:
    seen: list[str] = []

    @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
    def _note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    return seen


def _sets_session_cookie(resp: Any) -> bool:
    return any(h.startswith("thb_session=") for h in resp.headers.getlist("Set-Cookie"))


def _set_seen(browser: Any, ago: float) -> None:
    with browser.client.session_transaction() as sess:
        sess["seen"] = time.time() - ago


def test_section_page_reads_the_answers_once(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    statements = _statements(app)
    resp = browser.get(f"/assessments/{aid}/section/2")
    assert resp.status_code == 200
    answer_reads = [s for s in statements if s.startswith("select") and "from answer" in s]
    assert len(answer_reads) == 1, answer_reads


def test_page_load_within_the_refresh_interval_does_not_resend_the_cookie(app, world, browser):
    browser.login(email("member_a1"))
    _set_seen(browser, 10)
    resp = browser.get("/assessments/")
    assert resp.status_code == 200 and not _sets_session_cookie(resp)
    # The page's idle warning counts down to the real end: 30 minutes after the recorded activity.
    assert 'data-idle-seconds="1790"' in resp.data.decode()


def test_a_stale_idle_clock_is_refreshed_and_sent(app, world, browser):
    browser.login(email("member_a1"))
    _set_seen(browser, app.config["SESSION_SEEN_REFRESH_SECONDS"] + 1)
    resp = browser.get("/assessments/")
    assert resp.status_code == 200 and _sets_session_cookie(resp)
    with browser.client.session_transaction() as sess:
        assert time.time() - sess["seen"] < 5
    assert 'data-idle-seconds="1800"' in resp.data.decode()


def test_session_still_ends_after_the_idle_time(app, world, browser):
    browser.login(email("member_a1"))
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    _set_seen(browser, 10)
    for _ in range(3):  # page loads inside the refresh interval leave the recorded activity alone ...
        resp = browser.get("/assessments/")
        assert resp.status_code == 200 and not _sets_session_cookie(resp)
    _set_seen(browser, idle - 5)  # ... a session idle for just under the limit is still alive ...
    assert browser.get("/assessments/").status_code == 200
    _set_seen(browser, idle + 1)  # ... and one idle for longer has ended
    resp = browser.get("/assessments/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_ping_always_restarts_the_idle_clock(app, world, browser):
    browser.login(email("member_a1"))
    _set_seen(browser, 10)
    resp = browser.get("/session/ping")
    assert resp.json["ok"] is True and _sets_session_cookie(resp)
    with browser.client.session_transaction() as sess:
        assert time.time() - sess["seen"] < 5
