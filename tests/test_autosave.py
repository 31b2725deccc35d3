"""Nothing typed is lost (issue 14 item 1): autosave as answers are typed, and section-bar links that save.

Without JavaScript the section bar's entries are submit buttons (name=goto) of the section form, so leaving a
section by the bar saves it first; with JavaScript the autosave endpoint stores the answers as they are typed,
with the same optimistic-locking rules as Save.
"""

from __future__ import annotations

import re

from app.db import db
from app.models import Answer, ResumePoint

from .conftest import email
from .helpers import CONTENT, hidden_fields, section_data, start_assessment


def _member(make_browser, world, key="member_a1"):
    b = make_browser()
    b.login(email(key))
    return b


def test_section_bar_entries_are_save_buttons_without_javascript(app, make_browser, world):
    b = _member(make_browser, world)
    aid = start_assessment(b, world.unit_a1)
    html = b.get(f"/assessments/{aid}/section/7").data.decode()
    assert 'id="section-form"' in html
    assert re.search(r'<button type="submit" form="section-form" name="goto" value="8"', html)
    assert re.search(r'<button type="submit" form="section-form" name="goto" value="review"', html)
    # Leaving section 7 for 8 by the bar keeps the level and the comment typed on 7.
    q = CONTENT.recommendation_by_number[7].questions[0]
    data = section_data(7, ["2"], comments=["typed before leaving"], base=hidden_fields(html))
    data["goto"] = "8"
    resp = b.post(f"/assessments/{aid}/section/7", data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/assessments/{aid}/section/8")
    back = b.get(f"/assessments/{aid}/section/7").data.decode()
    assert "typed before leaving" in back
    assert re.search(rf'id="q_{q.id}_2"[^>]*checked', back)
    with app.app_context():
        assert db.session.query(ResumePoint).one().section == 8


def test_autosave_stores_answers_and_returns_new_revisions(app, make_browser, world):
    b = _member(make_browser, world)
    aid = start_assessment(b, world.unit_a1)
    html = b.get(f"/assessments/{aid}/section/7").data.decode()
    q = CONTENT.recommendation_by_number[7].questions[0]
    data = section_data(7, ["3"], comments=["first\r\ndraft"], base=hidden_fields(html))
    resp = b.post(f"/assessments/{aid}/section/7/autosave", data)
    assert resp.status_code == 200, resp.data
    assert resp.json["status"] == "saved" and resp.json["changed"] == 1
    assert resp.json["revs"][f"rev_{q.id}"] == 1
    with app.app_context():
        ans = db.session.query(Answer).filter_by(question_id=q.id).one()
        assert ans.value == "3"
        assert db.session.query(ResumePoint).one().section == 7
    # The next autosave carries the returned revision and goes through.
    data.update({k: str(v) for k, v in resp.json["revs"].items()})
    data[f"c_{q.id}"] = "second draft"
    again = b.post(f"/assessments/{aid}/section/7/autosave", data)
    assert again.status_code == 200 and again.json["revs"][f"rev_{q.id}"] == 2


def test_autosave_conflict_is_a_409_that_says_what_changed(app, make_browser, world):
    b1, b2 = _member(make_browser, world), _member(make_browser, world, "member2_a1")
    aid = start_assessment(b1, world.unit_a1)
    page1 = b1.get(f"/assessments/{aid}/section/7").data.decode()
    page2 = b2.get(f"/assessments/{aid}/section/7").data.decode()
    ok = b2.post(f"/assessments/{aid}/section/7/autosave", section_data(7, ["4"], base=hidden_fields(page2)))
    assert ok.status_code == 200
    resp = b1.post(f"/assessments/{aid}/section/7/autosave", section_data(7, ["1"], base=hidden_fields(page1)))
    assert resp.status_code == 409
    assert resp.json["status"] == "conflict"
    assert resp.json["conflicts"] == [{"question": "7.1", "by": "Member2 A1"}]
    with app.app_context():
        q = CONTENT.recommendation_by_number[7].questions[0]
        assert db.session.query(Answer).filter_by(question_id=q.id).one().value == "4"


def test_autosave_needs_the_csrf_token_and_refuses_bad_input_with_json(app, make_browser, world):
    b = _member(make_browser, world)
    aid = start_assessment(b, world.unit_a1)
    html = b.get(f"/assessments/{aid}/section/7").data.decode()
    data = section_data(7, ["3"], base=hidden_fields(html))
    assert b.post(f"/assessments/{aid}/section/7/autosave", data, csrf=False).status_code == 400
    q = CONTENT.recommendation_by_number[7].questions[0]
    data[f"c_{q.id}"] = "x" * 5000
    bad = b.post(f"/assessments/{aid}/section/7/autosave", data)
    assert bad.status_code == 422 and bad.json["status"] == "invalid" and f"c_{q.id}" in bad.json["errors"]
    with app.app_context():
        assert db.session.query(Answer).count() == 0
