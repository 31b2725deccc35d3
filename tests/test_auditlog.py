"""The audit log: who sees what, filters, CSV export; no answers, passwords or tokens in it."""

from __future__ import annotations

import csv
import io

from .conftest import PASSWORD, email
from .helpers import start_assessment
from .test_questionnaire_flow import fill_all


def test_working_day_is_on_record_and_scoped(app, world, make_browser):
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    fill_all(member, aid, plan={1: ["1", "2", "3", "0"]} | {
        n: ["2", "2", "2", "2"] for n in range(2, 11)})
    member.post(f"/assessments/{aid}/submit")
    member.get(f"/assessments/{aid}/report.pdf")
    member.get(f"/assessments/{aid}/export.json")
    member.post("/logout")
    other = make_browser()
    other.login(email("member_b1"))
    other.post("/logout")
    bad = make_browser()
    bad.get("/login")
    bad.post("/login", {"email": email("member_a1"), "password": "Tr0ub4dor&3-not-mine"})

    sup = make_browser()
    sup.login(email("supervisor_a"))
    page = sup.get("/audit/").data.decode()
    for action in ("Logged in", "Logged out", "Assessment started", "Assessment submitted", "Report downloaded",
                   "Export downloaded", "Failed login"):
        assert f"<td>{action}</td>" in page, action
    assert email("member_b1") not in page  # another agency's events are not shown to this supervisor
    filtered = sup.get("/audit/?action=report_downloaded").data.decode()
    assert "<td>Report downloaded</td>" in filtered and "<td>Logged in</td>" not in filtered
    assert "1 event" in filtered
    by_user = sup.get("/audit/?user=MEMBER_A1").data.decode()
    assert email("supervisor_a") not in by_user.split("<tbody>")[1]

    admin = make_browser()
    admin.login(email("admin"))
    rows = list(csv.DictReader(io.StringIO(admin.get("/audit/export.csv").data.decode())))
    actors = {r["actor"] for r in rows}
    assert email("member_b1") in actors and email("member_a1") in actors
    dump = admin.get("/audit/export.csv").data.decode()
    for secret in (PASSWORD, "Tr0ub4dor&3-not-mine"):
        assert secret not in dump
    assert all(r["ip"] for r in rows)


def test_bad_dates_are_a_clear_400(app, world, make_browser):
    admin = make_browser()
    admin.login(email("admin"))
    resp = admin.get("/audit/?from=31/01/2026")
    assert resp.status_code == 400
    assert "must be a date" in resp.data.decode()
    assert admin.get("/audit/?from=2026-01-01&to=2026-12-31&page=abc").status_code == 200


def test_members_and_trainers_cannot_read_the_log(app, world, make_browser):
    for who in ("member_a1", "trainer_a"):
        b = make_browser()
        b.login(email(who))
        assert b.get("/audit/").status_code == 403
        assert b.get("/audit/export.csv").status_code == 403


def test_csv_neutralises_formulas(app, world, make_browser):
    b = make_browser()
    b.get("/login")
    b.post("/login", {"email": "=HYPERLINK(\"http://x\")@example.org", "password": "whatever-long-1"})
    admin = make_browser()
    admin.login(email("admin"))
    rows = list(csv.DictReader(io.StringIO(admin.get("/audit/export.csv").data.decode())))
    assert not any(r["actor"].startswith("=") for r in rows)


def test_supervisor_without_agency_reads_no_event(app, world, make_browser):
    """Events without an agency (failed logins, admin actions) are not the agency-less supervisor's to read."""
    from app.db import db
    from app.models import User

    anon = make_browser()
    anon.get("/login")
    anon.post("/login", {"email": "nobody@example.org", "password": "whatever-long-1"})  # agency-less event
    with app.app_context(), db.writing() as s:
        s.get(User, world.users["supervisor_b"]).agency_id = None
    sup = make_browser()
    sup.login(email("supervisor_b"))
    page = sup.get("/audit/").data.decode()
    assert "<code>login_failed</code>" not in page and "0 events" in page
    rows = list(csv.DictReader(io.StringIO(sup.get("/audit/export.csv").data.decode())))
    assert rows == []
