"""What the per-request cuts of issue 16 must keep: behaviour, never time.

The section page reads the answers once; a page load does not sign and send the session cookie again while
the idle clock is fresh, and the idle timeout still ends the session exactly when it did.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import event, select

from app.db import db

from .conftest import email
from .helpers import hidden_fields, save_section, section_data, start_assessment


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


def _lock_statements(app: Any, statements: list[str]) -> list[str]:
    """The statements that take a write lock: BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL."""
    if app.extensions["db_engine"].dialect.name == "sqlite":
        return [s for s in statements if s.startswith("begin immediate")]
    return [s for s in statements if s.startswith("select") and "for update" in s]


def test_a_save_reads_the_user_and_validates_before_taking_the_write_lock(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    url = f"/assessments/{aid}/section/2"
    base = hidden_fields(browser.get(url).data.decode())
    statements = _statements(app)
    # Invalid input is refused without ever taking the write lock.
    resp = browser.post(url, section_data(2, ["9"], base=base))
    assert resp.status_code == 422
    assert _lock_statements(app, statements) == []
    # A valid save takes it once, after the user and the assessment were read.
    statements.clear()
    resp = browser.post(url, section_data(2, ["3", "2"], base=base))
    assert resp.status_code == 302
    locks = _lock_statements(app, statements)
    assert len(locks) == 1, locks
    first_lock = statements.index(locks[0])
    user_reads = [i for i, s in enumerate(statements) if s.startswith("select") and 'from user_account' in s]
    assert user_reads and user_reads[0] < first_lock, statements[:first_lock + 1]
    assert len(user_reads) == 1, "the logged-in user is read once, not again when the write begins"
    writes = [i for i, s in enumerate(statements) if s.startswith(("insert", "update", "delete"))]
    assert writes and min(writes) > first_lock
    # Under the lock it reads its own section's answers, not every answer of the assessment.
    answer_reads = [s for s in statements[first_lock:] if s.startswith("select") and "from answer" in s]
    assert answer_reads and all("answer.question_id in" in s for s in answer_reads), answer_reads


def test_an_autosave_validates_before_taking_the_write_lock(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    url = f"/assessments/{aid}/section/2"
    base = hidden_fields(browser.get(url).data.decode())
    statements = _statements(app)
    resp = browser.post(url + "/autosave", section_data(2, ["9"], base=base))
    assert resp.status_code == 422
    assert _lock_statements(app, statements) == []
    statements.clear()
    resp = browser.post(url + "/autosave", section_data(2, ["3", "2"], base=base))
    assert resp.status_code == 200 and resp.get_json()["status"] == "saved"
    locks = _lock_statements(app, statements)
    assert len(locks) == 1, locks
    first_lock = statements.index(locks[0])
    reads = [i for i, s in enumerate(statements) if s.startswith("select") and "from user_account" in s]
    assert len(reads) == 1 and reads[0] < first_lock
    writes = [i for i, s in enumerate(statements) if s.startswith(("insert", "update", "delete"))]
    assert writes and min(writes) > first_lock


def test_results_context_is_built_once_per_change_and_per_language(app, make_browser, world, monkeypatch):
    from app.models import Unit, User
    from app.reports import services as report_services

    from .test_questionnaire_flow import fill_all

    builds: list[int] = []
    real = report_services.build_context
    monkeypatch.setattr(report_services, "build_context", lambda a, *k, **kw: builds.append(a.id) or real(a, *k, **kw))
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    fill_all(member, aid)
    assert member.post(f"/assessments/{aid}/submit").status_code == 302
    url = f"/assessments/{aid}/results"
    member.get(url)  # shows the flashed messages of the submission

    def page() -> str:  # the page without the idle countdown and the CSRF tokens, which move with the clock
        html = re.sub(r'data-idle-seconds="\d+"', "", member.get(url).data.decode())
        return re.sub(r'<input[^>]*csrf_token[^>]*>', "", html)

    first = page()
    statements = _statements(app)
    assert page() == first and len(builds) == 1  # built once, then served as built
    # Served as kept, the page reads only the plan's one-row fingerprint, not the plan itself.
    plan_reads = [s for s in statements if "from action_item" in s]
    assert len(plan_reads) == 1 and plan_reads[0].startswith("select count(action_item.id)"), plan_reads
    # Another language is another context (and the English one is still there).
    assert member.post("/language", {"language": "es", "next": url}).status_code == 302
    assert '<html lang="es">' in member.get(url).data.decode() and len(builds) == 2
    assert member.post("/language", {"language": "en", "next": url}).status_code == 302
    assert page() == first and len(builds) == 2
    # Renaming the unit or a person shown on the page is seen at once.
    with app.app_context():
        db_unit = db.session.get(Unit, world.unit_a1)
        db_unit.name = "Renamed Unit Ä"
        db.session.commit()
    assert "Renamed Unit Ä" in member.get(url).data.decode() and len(builds) == 3
    with app.app_context():
        db.session.scalars(select(User).where(User.email == email("member_a1"))).one().name = "Newname Member"
        db.session.commit()
    assert "Newname Member" in member.get(url).data.decode() and len(builds) == 4
    # Reopened, changed and submitted again: the page shows the new answers.
    sup = make_browser()
    sup.login(email("supervisor_a"))
    sup.get(f"/assessments/{aid}")
    assert sup.post(f"/assessments/{aid}/reopen", {"reason": "Check recommendation 4"}).status_code == 302
    member.get(url)
    assert len(builds) == 5  # a reopened assessment is built on every view
    assert save_section(member, aid, 4, ["0", "0", "0", "0"], comments=["changed after reopening"]).status_code == 302
    assert member.post(f"/assessments/{aid}/submit").status_code == 302
    page = member.get(url).data.decode()
    assert "changed after reopening" in page and "changed after reopening" not in first and len(builds) == 6


def test_the_page_header_gets_the_users_unit_with_the_user(app, world, browser):
    """base.html shows the member's unit on every page: read in the user's own statement, not lazily after it."""
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    statements = _statements(app)
    resp = browser.get(f"/assessments/{aid}/section/2")
    assert resp.status_code == 200 and "Unit A1" in resp.data.decode()
    user_reads = [s for s in statements if s.startswith("select") and "from user_account" in s]
    unit_reads = [s for s in statements if s.startswith("select") and re.search(r"from unit where", s)]
    assert len(user_reads) == 1 and "join unit" in user_reads[0], user_reads
    assert unit_reads == [], unit_reads
