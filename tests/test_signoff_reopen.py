"""Sign-off and reopening by a supervisor: rules, audit, and what the report shows."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.db import db
from app.models import Assessment, AuditEvent

from .conftest import email
from .helpers import save_section, start_assessment
from .test_questionnaire_flow import fill_all


@pytest.fixture
def submitted(app, world, make_browser):
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    fill_all(member, aid)
    assert member.post(f"/assessments/{aid}/submit").status_code == 302
    return aid, member


def actions(app, aid):
    with app.app_context():
        return [e.action for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == str(aid)).order_by(AuditEvent.id))]


def test_sign_off_prints_name_date_and_remark(app, make_browser, submitted):
    aid, member = submitted
    sup = make_browser()
    sup.login(email("supervisor_a"))
    sup.get(f"/assessments/{aid}")
    resp = sup.post(f"/assessments/{aid}/signoff", {"remark": "Approved <for> the national report"})
    assert resp.status_code == 302
    assert "assessment_signed_off" in actions(app, aid)
    page = sup.get(f"/assessments/{aid}/results").data.decode()
    assert "Supervisor A" in page and "Approved &lt;for&gt; the national report" in page
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(sup.get(f"/assessments/{aid}/report.pdf").data)).pages)
    assert "Approved <for> the national report" in " ".join(text.split())
    # Signing twice is refused; a signed-off assessment stays read-only for the unit.
    assert sup.post(f"/assessments/{aid}/signoff", {"remark": ""}).status_code == 409
    assert save_section(member, aid, 1, ["4", "4", "4", "4"]).status_code == 409


def test_reopen_needs_a_reason_and_makes_it_editable(app, make_browser, submitted):
    aid, member = submitted
    sup = make_browser()
    sup.login(email("supervisor_a"))
    sup.get(f"/assessments/{aid}")
    resp = sup.post(f"/assessments/{aid}/reopen", {"reason": "   "})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.get(Assessment, aid).status == "submitted"
    assert sup.post(f"/assessments/{aid}/signoff", {"remark": "ok"}).status_code == 302
    resp = sup.post(f"/assessments/{aid}/reopen", {"reason": "Recommendation 4 answers need evidence"})
    assert resp.status_code == 302
    with app.app_context():
        a = db.session.get(Assessment, aid)
        assert a.status == "reopened" and a.signed_off_at is None
        assert a.reopen_reason == "Recommendation 4 answers need evidence"
    assert "Recommendation 4 answers need evidence" in member.get(f"/assessments/{aid}").data.decode()
    assert save_section(member, aid, 4, ["2", "2", "2", "2"]).status_code == 302
    assert member.post(f"/assessments/{aid}/submit").status_code == 302
    lifecycle = [x for x in actions(app, aid) if x.startswith("assessment_")]
    assert lifecycle == ["assessment_created", "assessment_submitted", "assessment_signed_off",
                         "assessment_reopened", "assessment_submitted"]
    with app.app_context():
        assert db.session.get(Assessment, aid).status == "submitted"


def test_drafts_cannot_be_signed_off_or_reopened(app, world, make_browser):
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    sup = make_browser()
    sup.login(email("supervisor_a"))
    sup.get(f"/assessments/{aid}")
    assert sup.post(f"/assessments/{aid}/signoff", {"remark": ""}).status_code == 409
    assert sup.post(f"/assessments/{aid}/reopen", {"reason": "why"}).status_code == 409


def test_members_cannot_sign_off_or_reopen(app, make_browser, submitted):
    aid, member = submitted
    assert member.post(f"/assessments/{aid}/signoff", {"remark": ""}).status_code == 403
    assert member.post(f"/assessments/{aid}/reopen", {"reason": "mine"}).status_code == 403
