"""Invalid values get a clear message and a 4xx, and nothing of that request is stored."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import db
from app.models import Answer, Target

from .conftest import email
from .helpers import CONTENT, hidden_fields, section_data, start_assessment

REC1 = CONTENT.recommendation_by_number[1]
Q = [q.id for q in REC1.questions]


def stored(app, aid):
    with app.app_context():
        answers = {a.question_id: (a.value, a.comment) for a in
                   db.session.scalars(select(Answer).where(Answer.assessment_id == aid))}
        targets = {t.recommendation_id: t.target for t in
                   db.session.scalars(select(Target).where(Target.assessment_id == aid))}
        return answers, targets


@pytest.fixture
def started(app, world, browser):
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    return aid


def post_section(browser, aid, mutate):
    url = f"/assessments/{aid}/section/1"
    page = browser.get(url).data.decode()
    data = section_data(1, ["2", "2", "2", "2"], base=hidden_fields(page))
    mutate(data)
    return browser.post(url, data)


@pytest.mark.parametrize(
    ("mutate", "status", "message"),
    [
        (lambda d: d.update({f"q_{Q[0]}": "7"}), 422, "Not a valid choice"),
        (lambda d: d.update({f"q_{Q[1]}": "-1"}), 422, "Not a valid choice"),
        (lambda d: d.update({"q_r99_invented": "2"}), 400, "q_r99_invented"),
        (lambda d: d.update({f"q_{CONTENT.recommendation_by_number[2].questions[0].id}": "2"}), 400,
         "fields this section does not have"),
        (lambda d: d.update({f"c_{Q[2]}": "x" * 100_000}), 422, "4000"),
        (lambda d: d.update({f"e_{Q[3]}": "evidence\x00with NUL"}), 422, "control characters"),
        (lambda d: d.update({f"e_{Q[3]}": "evidence\x07with BEL"}), 422, "control characters"),
        (lambda d: d.update({"target": "9"}), 422, "Not a valid choice"),
        (lambda d: d.update({"target": "abc"}), 422, "Invalid Choice"),
        (lambda d: d.update({f"rev_{Q[0]}": "not-a-number"}), 422, ""),
    ],
    ids=["level-7", "level-minus-1", "unknown-question", "question-of-other-section", "100kb-comment",
         "nul-byte", "bel-char", "target-9", "target-text", "bad-revision"],
)
def test_invalid_values_are_refused_and_nothing_is_stored(app, browser, started, mutate, status, message):
    before = stored(app, started)
    resp = post_section(browser, started, mutate)
    assert resp.status_code == status
    body = resp.data.decode()
    assert message in body
    assert "Traceback" not in body
    assert stored(app, started) == before


def test_pasted_nul_is_refused_in_the_form_with_everything_typed_kept(app, browser, started):
    """Issue 14 item 2: a NUL in one field gives the form's 422 with the other answers shown again."""
    before = stored(app, started)
    resp = post_section(browser, started, lambda d: d.update({f"c_{Q[0]}": "my careful comment",
                                                            f"e_{Q[3]}": "pasted\x00text"}))
    assert resp.status_code == 422
    body = resp.data.decode()
    assert "Remove the control characters" in body
    assert "my careful comment" in body
    assert f'id="q_{Q[1]}_2"' in body and re.search(rf'id="q_{Q[1]}_2"[^>]*checked', body)
    assert stored(app, started) == before


def test_oversized_request_is_refused(app, browser, started):
    resp = post_section(browser, started, lambda d: d.update({f"c_{Q[0]}": "x" * 2_000_000}))
    assert resp.status_code == 413
    assert "larger than this service accepts" in resp.data.decode()


def test_unknown_section_and_assessment_are_404(browser, started):
    assert browser.get(f"/assessments/{started}/section/11").status_code == 404
    assert browser.get(f"/assessments/{started}/section/0").status_code == 404
    assert browser.get("/assessments/999999/section/1").status_code == 404
    assert browser.get("/assessments/abc/results").status_code == 404


def test_get_on_state_changing_urls_is_refused(browser, started):
    assert browser.get(f"/assessments/{started}/submit").status_code == 405
    assert browser.get("/assessments/new").status_code == 405
    assert browser.get("/logout").status_code == 405


def test_missing_csrf_token_is_refused(app, browser, started):
    url = f"/assessments/{started}/section/1"
    page = browser.get(url).data.decode()
    data = section_data(1, ["3", "3", "3", "3"], base=hidden_fields(page))
    resp = browser.post(url, data, csrf=False)
    assert resp.status_code == 400
    assert stored(app, started)[0] == {}


def test_expired_csrf_token_keeps_the_typed_answers(app, browser, started):
    url = f"/assessments/{started}/section/1"
    page = browser.get(url).data.decode()
    data = section_data(1, ["3", "1", "3", "3"], comments=["typed before the token expired"],
                        base=hidden_fields(page))
    data["csrf_token"] = "expired-or-forged"
    resp = browser.post(url, data)
    assert resp.status_code == 400
    body = resp.data.decode()
    assert "Your form had expired" in body
    assert "typed before the token expired" in body
    assert f'id="q_{Q[1]}_1" name="q_{Q[1]}" value="1" checked' in body
    assert stored(app, started)[0] == {}
    # Pressing Save on the page that came back (with its fresh token) stores the answers.
    resp = browser.post(url, {k: v for k, v in data.items() if k != "csrf_token"})
    assert resp.status_code == 302
    assert stored(app, started)[0][Q[0]] == ("3", "typed before the token expired")


def test_new_assessment_validation(app, browser, world):
    browser.login(email("member_a1"))
    browser.get("/assessments/")
    assert browser.post("/assessments/new", {"title": "", "unit": str(world.unit_a1)}).status_code == 422
    assert browser.post("/assessments/new", {"title": "x" * 201, "unit": str(world.unit_a1)}).status_code == 422
    # A unit the member does not belong to is not a valid choice.
    assert browser.post("/assessments/new", {"title": "Mine", "unit": str(world.unit_b1)}).status_code == 422


def test_hostile_text_is_escaped_in_page_pdf_and_json(app, browser, started):
    from io import BytesIO

    from pypdf import PdfReader

    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> ‮evil‬ zero​width'
    url = f"/assessments/{started}/section/1"
    page = browser.get(url).data.decode()
    data = section_data(1, ["1", "2", "2", "2"], comments=[hostile], evidence=["<b>bold</b>"],
                        base=hidden_fields(page))
    assert browser.post(url, data).status_code == 302
    for where in (url, f"/assessments/{started}/results"):
        body = browser.get(where).data.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    pdf = browser.get(f"/assessments/{started}/report.pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages)
    assert '<script>alert("x")</script>' in text.replace("\n", "")  # shown literally, as text
