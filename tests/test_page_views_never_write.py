"""Opening a page never fails because someone else is writing, and a page view changes nothing (issue 11, item 1).

A questionnaire page view takes no write lock and leaves the assessment's version alone; "continue where you
left off" is per person and follows that person's own saves. The other reads that write on the side (download
audit rows, the PDF cache, the workshop retention purge, the audit-log export's own audit row) do it
best-effort in a transaction of their own, so a busy database delays the side write, never the page.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import event, func, select

from app.db import db
from app.models import Assessment, AuditEvent, ResumePoint
from app.workshops import services as workshop_services
from app.workshops.models import Participant, Workshop, WorkshopAnswer

from .conftest import email
from .helpers import CONTENT, hidden_fields, save_section, section_data, start_assessment
from .test_workshops import answer, open_workshop, participant, trainer_browser

LIVENESS_BOUND_SECONDS = 30  # far above the 2 s a side write may wait; only there to end a hung test
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _version(app, aid: int) -> int:
    with app.app_context():
        return db.session.get(Assessment, aid).version_id


def _rows(app, aid: int) -> tuple:
    """Everything a page view could have changed: the assessment row and every resume point."""
    with app.app_context():
        a = db.session.get(Assessment, aid)
        points = db.session.execute(select(ResumePoint.user_id, ResumePoint.section, ResumePoint.updated_at)
                                    .where(ResumePoint.assessment_id == aid).order_by(ResumePoint.user_id)).all()
        return a.version_id, a.updated_at, a.last_section, a.status, tuple(points)


LOCKED_TABLES = ("assessment", "answer", "assessment_target", "resume_point", "audit_event", "report_cache",
                 "workshop", "workshop_participant", "workshop_answer", "workshop_aggregate")


@contextmanager
def colleague_writing(app) -> Iterator[None]:
    """Another connection holds what a colleague's long save would hold, until the block ends.

    SQLite: the database-wide write lock (BEGIN IMMEDIATE on a second connection to the same file).
    PostgreSQL: EXCLUSIVE locks on the tables a page view could write (reads pass, writes wait).
    """
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        other.execute(f"LOCK TABLE {', '.join(LOCKED_TABLES)} IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback() if not isinstance(other, sqlite3.Connection) else other.execute("ROLLBACK")
        other.close()


def while_locked(app, request):  # type: ignore[no-untyped-def]
    """Run ``request()`` while a colleague holds the write lock; the response, or a failure if it had to wait.

    The request runs in a thread; if it is still waiting after a generous bound, the lock is let go so the test
    ends (and fails) instead of hanging: a page view must be served while the lock is held.
    """
    out: dict[str, object] = {}
    with colleague_writing(app):
        worker = threading.Thread(target=lambda: out.setdefault("resp", request()))
        worker.start()
        worker.join(LIVENESS_BOUND_SECONDS)
        waited = worker.is_alive()
    worker.join()
    assert not waited, "the page view waited for the colleague's write lock"
    return out["resp"]


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def capture(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


@pytest.fixture
def draft(app, world, make_browser):
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    assert save_section(member, aid, 1, ["2", "2", None, None]).status_code == 302
    return aid


def test_a_section_page_view_sends_no_write_statement(app, world, make_browser, draft):
    member = make_browser()
    member.login(email("member2_a1"))
    with statements(app) as seen:
        for n in (1, 4, 7):
            assert member.get(f"/assessments/{draft}/section/{n}").status_code == 200
    assert seen and [s for s in seen if WRITE.match(s)] == []


def test_section_page_opens_while_a_colleague_holds_the_write_lock(app, world, make_browser, draft):
    member = make_browser()
    member.login(email("member2_a1"))
    before = _version(app, draft)
    for n in (1, 2, 3):
        resp = while_locked(app, lambda n=n: member.get(f"/assessments/{draft}/section/{n}"))
        assert resp.status_code == 200, resp.data[:300]
    assert _version(app, draft) == before


def test_page_views_interleaved_with_two_colleagues_saving(app, world, make_browser, draft):
    """Two members save the same section (different questions) while a third pages through: nothing fails,
    every save lands and only the saves move the version."""
    a, b, reader = make_browser(), make_browser(), make_browser()
    a.login(email("member_a1"))
    b.login(email("member2_a1"))
    reader.login(email("supervisor_a"))
    q = [x.id for x in CONTENT.recommendation_by_number[3].questions]
    url = f"/assessments/{draft}/section/3"
    start = _version(app, draft)
    saves = 0
    for i in range(3):
        page_a, page_b = a.get(url), b.get(url)
        assert page_a.status_code == page_b.status_code == 200
        assert reader.get(f"/assessments/{draft}/section/{1 + i}").status_code == 200
        data_a = section_data(3, [str(i), None, None, None], base=hidden_fields(page_a.data.decode()))
        assert a.post(url, data_a).status_code == 302
        saves += 1
        assert reader.get(url).status_code == 200
        assert reader.get(f"/assessments/{draft}").status_code == 200
        data_b = section_data(3, [None, str(i + 1), None, None], base=hidden_fields(page_b.data.decode()))
        assert b.post(url, data_b).status_code == 302
        saves += 1
        assert reader.get(f"/assessments/{draft}/section/{5 + i}").status_code == 200
    assert _version(app, draft) == start + saves
    with app.app_context():
        from app.models import Answer

        stored = dict(db.session.execute(select(Answer.question_id, Answer.value)
                                         .where(Answer.assessment_id == draft)).all())
    assert stored[q[0]] == "2" and stored[q[1]] == "3"


def test_page_views_racing_concurrent_saves_in_threads(app, world, make_browser, draft):
    """The same with real concurrency (threads on one app): page loads never fail while saves commit."""
    savers = {"member_a1": 0, "member2_a1": 1}
    browsers = {k: make_browser() for k in savers}
    for k, br in browsers.items():
        br.login(email(k))
    readers = [make_browser() for _ in range(2)]
    readers[0].login(email("supervisor_a"))
    readers[1].login(email("member_a1"))
    url = f"/assessments/{draft}/section/4"
    start = _version(app, draft)
    statuses: list[tuple[str, int]] = []
    lock = threading.Lock()

    def save_loop(key: str) -> None:
        br, qi = browsers[key], savers[key]
        for i in range(4):
            page = br.get(url)
            values: list[str | None] = [None, None, None, None]
            values[qi] = str((i + qi) % 5)
            resp = br.post(url, section_data(4, values, base=hidden_fields(page.data.decode())))
            with lock:
                statuses.append(("get", page.status_code))
                statuses.append(("save", resp.status_code))

    def read_loop(br) -> None:  # type: ignore[no-untyped-def]
        for i in range(8):
            resp = br.get(f"/assessments/{draft}/section/{1 + i % 10}")
            with lock:
                statuses.append(("get", resp.status_code))

    threads = [threading.Thread(target=save_loop, args=(k,)) for k in savers]
    threads += [threading.Thread(target=read_loop, args=(r,)) for r in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s in statuses if s[0] == "get" and s[1] != 200] == []
    assert [s for s in statuses if s[0] == "save" and s[1] != 302] == []
    assert _version(app, draft) == start + 8  # the eight saves, and nothing else


def test_a_supervisor_reading_changes_nothing(app, world, make_browser, draft):
    supervisor = make_browser()
    supervisor.login(email("supervisor_a"))
    before = _rows(app, draft)
    for path in ("/section/3", "/section/9", "", "/review", "/results", "/continue"):
        resp = supervisor.get(f"/assessments/{draft}{path}")
        assert resp.status_code in (200, 302), (path, resp.status_code)
    assert _rows(app, draft) == before


def test_where_to_continue_is_per_person_and_follows_their_own_saves(app, world, make_browser, draft):
    a, b, c = make_browser(), make_browser(), make_browser()
    a.login(email("member_a1"))
    b.login(email("member2_a1"))
    c.login(email("supervisor_a"))
    assert save_section(a, draft, 5, ["1", "1", "1", "1"]).status_code == 302
    assert save_section(b, draft, 2, ["3", None, None, None]).status_code == 302
    # Each one's overview and "continue" link lead to their own last save.
    assert "Continue where you left off (recommendation 5)" in a.get(f"/assessments/{draft}").data.decode()
    assert "Continue where you left off (recommendation 2)" in b.get(f"/assessments/{draft}").data.decode()
    assert a.get(f"/assessments/{draft}/continue").headers["Location"].endswith(f"/assessments/{draft}/section/5")
    assert b.get(f"/assessments/{draft}/continue").headers["Location"].endswith(f"/assessments/{draft}/section/2")
    # Opening a page moves nobody: b only reads section 9.
    assert b.get(f"/assessments/{draft}/section/9").status_code == 200
    assert b.get(f"/assessments/{draft}/continue").headers["Location"].endswith("/section/2")
    # Someone who never saved starts at the first section with unanswered questions (section 1 is incomplete).
    assert c.get(f"/assessments/{draft}/continue").headers["Location"].endswith(f"/assessments/{draft}/section/1")
    # "Save and next" continues at the next section.
    assert save_section(a, draft, 6, ["2", "2", "2", "2"], action="next").status_code == 302
    assert a.get(f"/assessments/{draft}/continue").headers["Location"].endswith("/section/7")


def test_without_a_save_continue_goes_to_the_first_open_section(app, world, make_browser):
    a, b = make_browser(), make_browser()
    a.login(email("member_a1"))
    b.login(email("member2_a1"))
    aid = start_assessment(a, world.unit_a1)
    assert save_section(a, aid, 1, ["1", "1", "1", "1"]).status_code == 302
    assert save_section(a, aid, 2, ["1", "1", "1", "1"]).status_code == 302
    assert b.get(f"/assessments/{aid}/continue").headers["Location"].endswith(f"/assessments/{aid}/section/3")
    assert "Continue where you left off (recommendation 3)" in b.get(f"/assessments/{aid}").data.decode()


# --- the other reads that write on the side --------------------------------------------------------------------


def _audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_a_download_is_served_while_the_database_is_locked_and_the_audit_gap_is_logged(
        app, world, make_browser, draft, caplog):
    member = make_browser()
    member.login(email("member_a1"))
    with caplog.at_level(logging.ERROR):
        resp = while_locked(app, lambda: member.get(f"/assessments/{draft}/export.json"))
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert _audit_count(app, "export_downloaded") == 0
    assert any("export_downloaded" in r.getMessage() and str(draft) in r.getMessage() for r in caplog.records)
    # With the lock gone, the next download is audited as before.
    assert member.get(f"/assessments/{draft}/export.json").status_code == 200
    assert _audit_count(app, "export_downloaded") == 1


def test_the_audit_log_export_reads_without_taking_the_write_lock(app, world, make_browser):
    supervisor = make_browser()
    supervisor.login(email("supervisor_a"))
    resp = while_locked(app, lambda: supervisor.get("/audit/export.csv"))
    assert resp.status_code == 200 and "login" in resp.data.decode()
    assert supervisor.get("/audit/export.csv").status_code == 200
    assert _audit_count(app, "audit_exported") == 1


def _expired_workshop(app) -> tuple[object, int]:
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, "Course", ["r1"])
    for i in range(3):
        answer(participant(app, code), wid, 1, [str(i), "2", "na", "unknown"])
    with app.app_context(), db.writing() as s:
        w = s.get(Workshop, wid)
        w.status, w.open_code = "closed", None
        w.closed_at = workshop_services.utcnow() - timedelta(days=31)
    return trainer, wid


def _participants(app, wid: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Participant).where(Participant.workshop_id == wid))


def test_the_workshop_board_opens_while_the_retention_purge_cannot_run(app, world, caplog):
    trainer, wid = _expired_workshop(app)
    with caplog.at_level(logging.ERROR):
        assert while_locked(app, lambda: trainer.get(f"/workshops/{wid}")).status_code == 200
    assert _participants(app, wid) == 3  # not purged yet: the lock was held
    assert any(f"retention purge of workshop {wid}" in r.getMessage() for r in caplog.records)
    # The next visit purges.
    assert trainer.get(f"/workshops/{wid}/report").status_code == 200
    assert _participants(app, wid) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WorkshopAnswer)
                                 .where(WorkshopAnswer.workshop_id == wid)) == 0
    assert _audit_count(app, "workshop_purged") == 1
