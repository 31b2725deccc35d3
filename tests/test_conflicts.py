"""Two people editing one assessment never silently overwrite each other."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.db import db
from app.models import Answer

from .conftest import email
from .helpers import CONTENT, hidden_fields, section_data, start_assessment

Q = [q.id for q in CONTENT.recommendation_by_number[1].questions]
URL = "/assessments/{}/section/1"


def answers(app, aid):
    with app.app_context():
        return {a.question_id: (a.value, a.comment) for a in
                db.session.scalars(select(Answer).where(Answer.assessment_id == aid))}


def two_editors(world, make_browser):
    alice, bob = make_browser(), make_browser()
    alice.login(email("member_a1"))
    bob.login(email("member2_a1"))
    aid = start_assessment(alice, world.unit_a1)
    return alice, bob, aid


def test_same_question_changed_by_both_is_a_conflict(app, world, make_browser):
    alice, bob, aid = two_editors(world, make_browser)
    page_a = alice.get(URL.format(aid)).data.decode()
    page_b = bob.get(URL.format(aid)).data.decode()
    assert alice.post(URL.format(aid), section_data(1, ["3", None, None, None], comments=["Alice's view"],
                                                    base=hidden_fields(page_a))).status_code == 302
    resp = bob.post(URL.format(aid), section_data(1, ["1", None, None, None], comments=["Bob's view"],
                                                  base=hidden_fields(page_b)))
    assert resp.status_code == 409
    body = resp.data.decode()
    assert "Someone else changed the same answers" in body
    assert "Bob&#39;s view" in body  # Bob's input is kept on the page
    assert "Alice&#39;s view" in body  # and Alice's version is shown beside it
    assert answers(app, aid)[Q[0]] == ("3", "Alice's view")  # nothing of Bob's request was stored
    # Bob decides to keep his: saving the page that came back (with fresh revisions) overwrites knowingly.
    resp = bob.post(URL.format(aid), section_data(1, ["1", None, None, None], comments=["Bob's view"],
                                                  base=hidden_fields(body)))
    assert resp.status_code == 302
    assert answers(app, aid)[Q[0]] == ("1", "Bob's view")


def test_different_questions_merge_without_conflict(app, world, make_browser):
    alice, bob, aid = two_editors(world, make_browser)
    page_a = alice.get(URL.format(aid)).data.decode()
    page_b = bob.get(URL.format(aid)).data.decode()
    assert alice.post(URL.format(aid), section_data(1, ["3", None, None, None],
                                                    base=hidden_fields(page_a))).status_code == 302
    assert bob.post(URL.format(aid), section_data(1, [None, "2", None, None],
                                                  base=hidden_fields(page_b))).status_code == 302
    got = answers(app, aid)
    assert got[Q[0]][0] == "3" and got[Q[1]][0] == "2"


def test_target_changed_by_both_is_a_conflict(app, world, make_browser):
    alice, bob, aid = two_editors(world, make_browser)
    page_a = alice.get(URL.format(aid)).data.decode()
    page_b = bob.get(URL.format(aid)).data.decode()
    assert alice.post(URL.format(aid), section_data(1, [], target=4, base=hidden_fields(page_a))).status_code == 302
    resp = bob.post(URL.format(aid), section_data(1, [], target=2, base=hidden_fields(page_b)))
    assert resp.status_code == 409
    assert "Someone else set the target to 4" in resp.data.decode()


def test_concurrent_saves_are_all_kept(app, world, make_browser):
    """Eight people save different questions at the same moment: every answer is stored once."""
    editors = [make_browser() for _ in range(8)]
    editors[0].login(email("member_a1"))
    aid = start_assessment(editors[0], world.unit_a1)
    for e in editors[1:]:
        e.login(email("member2_a1"))
    jobs = []
    for i, e in enumerate(editors):
        number = i + 1
        page = e.get(URL.replace("/1", f"/{number}").format(aid)).data.decode()
        jobs.append((e, number, section_data(number, ["2", "1", "3", "unknown"], base=hidden_fields(page))))
    results: list[int] = []
    barrier = threading.Barrier(len(jobs))

    def run(e, number, data):
        barrier.wait()
        results.append(e.post(f"/assessments/{aid}/section/{number}", data).status_code)

    threads = [threading.Thread(target=run, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [302] * 8
    got = answers(app, aid)
    assert len(got) == 8 * 4
    for number in range(1, 9):
        for q, v in zip(CONTENT.recommendation_by_number[number].questions, ["2", "1", "3", "unknown"], strict=True):
            assert got[q.id][0] == v
