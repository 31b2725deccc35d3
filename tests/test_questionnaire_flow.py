"""The whole questionnaire through the test client: start, save, resume, review, submit, read-only."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.db import db
from app.models import Answer, Assessment, AuditEvent
from app.scoring import score

from .conftest import email
from .helpers import CONTENT, save_section, start_assessment

PLAN = {  # varied: levels, na, unknown
    1: ["2", "3", "1", "unknown"], 2: ["1", "1", "0", "2"], 3: ["4", "3", "3", "4"], 4: ["0", "0", "1", "na"],
    5: ["2", "2", "2", "2"], 6: ["na", "na", "na", "na"], 7: ["1", "unknown", "0", "1"], 8: ["3", "2", "2", "1"],
    9: ["2", "1", "2", "3"], 10: ["0", "1", "unknown", "0"],
}
TARGETS = {1: 3, 2: 4, 3: 3, 4: 4, 5: 2, 6: 3, 7: 4, 8: 3, 9: 3, 10: 2}


def fill_all(browser, aid, plan=PLAN, targets=TARGETS):
    for n, values in plan.items():
        resp = save_section(browser, aid, n, values, target=targets.get(n, 3), action="next")
        assert resp.status_code == 302, resp.data[:1000]


def test_start_save_resume_review_submit(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    page = browser.get(f"/assessments/{aid}/section/1").data.decode()
    assert "Clearly understand the problem of technology-facilitated human trafficking" in page
    assert "0 of 10 sections complete" in page and "0 of 40 questions answered" in page
    # Save part of section 1 and leave: the answers are there when the unit comes back.
    resp = save_section(browser, aid, 1, ["2", None, "unknown", None], comments=["Written in 2023"])
    assert resp.status_code == 302
    page = browser.get(f"/assessments/{aid}/section/1").data.decode()
    assert "2 of 40 questions answered" in page
    assert "Written in 2023" in page
    # Jump to section 5, then the overview's "continue" link points there.
    save_section(browser, aid, 5, ["1", "1", "1", "1"])
    overview = browser.get(f"/assessments/{aid}").data.decode()
    assert f"/assessments/{aid}/section/5" in overview
    # Review lists what is unanswered, with links; submit is refused while anything is open.
    review = browser.get(f"/assessments/{aid}/review").data.decode()
    q2 = CONTENT.recommendation_by_number[1].questions[1]
    assert f"/assessments/{aid}/section/1#q-{q2.id}" in review
    assert "34 questions are still unanswered" in review
    resp = browser.post(f"/assessments/{aid}/submit")
    assert resp.status_code == 422
    assert f"#q-{q2.id}" in resp.data.decode()
    with app.app_context():
        assert db.session.get(Assessment, aid).status == "draft"
    # Fill everything, then submit.
    fill_all(browser, aid)
    resp = browser.post(f"/assessments/{aid}/submit")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/assessments/{aid}/results")
    # A second submit (double click, back button) changes nothing and does not fail.
    again = browser.post(f"/assessments/{aid}/submit")
    assert again.status_code == 302
    with app.app_context():
        a = db.session.get(Assessment, aid)
        assert a.status == "submitted" and a.submitted_at is not None
        n_events = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "assessment_submitted"))
        assert n_events == 1
    # Read-only afterwards: a save is refused with 409 and nothing changes.
    before = _answers(app, aid)
    resp = save_section(browser, aid, 1, ["4", "4", "4", "4"])
    assert resp.status_code == 409
    assert "read-only" in resp.data.decode()
    assert _answers(app, aid) == before


def _answers(app, aid):
    with app.app_context():
        return {a.question_id: (a.value, a.comment, a.evidence, a.rev)
                for a in db.session.scalars(select(Answer).where(Answer.assessment_id == aid))}


def test_results_and_json_export_match_scoring(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    fill_all(browser, aid)
    assert browser.post(f"/assessments/{aid}/submit").status_code == 302
    exported = json.loads(browser.get(f"/assessments/{aid}/export.json").data)
    answers = {a["question_id"]: a["value"] for a in exported["answers"]}
    targets = {r["id"]: r["target"] for r in exported["recommendations"]}
    expected = score(CONTENT, answers, targets)
    assert exported["content_version"] == CONTENT.version
    assert exported["overall_maturity"] == expected.maturity
    assert exported["pillar_exposure"] == dict(expected.exposure)
    assert exported["gap_ranking"] == list(expected.ranking)
    rec6 = next(r for r in exported["recommendations"] if r["number"] == 6)
    assert rec6["applicable"] is False and rec6["current"] is None
    rec3 = next(r for r in exported["recommendations"] if r["number"] == 3)
    assert rec3["current"] == 3.5 and rec3["gap"] == 0.0
    # Targets typed into the form are what the scores use.
    assert targets["r2"] == 4 and targets["r10"] == 2
    # The page shows the same numbers, rounded for display.
    page = browser.get(f"/assessments/{aid}/results").data.decode()
    from app.display import fmt_level, fmt_pct

    assert fmt_level(expected.maturity) in page
    for p in ("fear", "want", "indignity"):
        assert fmt_pct(expected.exposure[p]) in page


def test_draft_results_are_provisional(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    save_section(browser, aid, 1, ["1", "1", "1", "1"])
    page = browser.get(f"/assessments/{aid}/results").data.decode()
    assert "Provisional" in page
    assert "not yet answered" in page
    exported = json.loads(browser.get(f"/assessments/{aid}/export.json").data)
    assert exported["assessment"]["provisional"] is True
    assert exported["answered"] == 4


def test_comment_without_level_is_kept(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    resp = save_section(browser, aid, 2, [None, None, None, None], comments=["Ask the liaison officer"])
    assert resp.status_code == 302
    page = browser.get(f"/assessments/{aid}/section/2").data.decode()
    assert "Ask the liaison officer" in page
    assert "0 of 40 questions answered" in page  # a note alone does not count as an answer
