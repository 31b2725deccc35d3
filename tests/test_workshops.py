"""Workshop mode through the test client: open, join (valid, wrong, expired, closed codes), answer, board with
the k=3 threshold, isolation between participants, consensus to a draft assessment, report and PDF."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import Answer, Assessment, AuditEvent, Role, Unit, User
from app.passwords import hash_password
from app.workshops import services
from app.workshops.models import Participant, Workshop, WorkshopAnswer, WorkshopConsensus

from .conftest import PASSWORD, Browser, email
from .helpers import CONTENT

FT_RE = re.compile(r'name="ft" value="([^"]+)"')
R1 = CONTENT.recommendation_by_number[1]
R2 = CONTENT.recommendation_by_number[2]


# --- helpers (also used by the other workshop test files) ---------------------------------------------------


def open_workshop(trainer: Browser, title: str = "Course A", recs: list[str] | None = None,
                  pacing: str = "all") -> tuple[int, str]:
    """As the logged-in trainer, open a workshop; returns its id and join code."""
    trainer.get("/workshops/new")
    resp = trainer.post("/workshops/new", {"title": title, "recommendations": recs or ["r1", "r2"],
                                           "pacing": pacing})
    assert resp.status_code == 302, resp.data[:1500]
    wid = int(re.search(r"/workshops/(\d+)$", resp.headers["Location"]).group(1))
    page = trainer.get(f"/workshops/{wid}").data.decode()
    code = re.search(r'class="ws-code[^"]*">([A-Z0-9]{3}-[A-Z0-9]{3})<', page).group(1)
    return wid, code


def join(app: Any, code: str, role: str = "", addr: str = "10.1.1.1") -> tuple[Browser, Any]:
    b = Browser(app.test_client())
    b.client.environ_base["REMOTE_ADDR"] = addr
    b.get("/w/")
    return b, b.post("/w/join", {"code": code, "role_label": role})


def participant(app: Any, code: str, role: str = "", addr: str = "10.1.1.1") -> Browser:
    b, resp = join(app, code, role, addr)
    assert resp.status_code == 302, resp.data[:800]
    return b


def answer(b: Browser, wid: int, number: int, values: list[str | None], *, action: str = "save",
           fetch: bool = False) -> Any:
    page = b.get(f"/w/{wid}/r/{number}")
    assert page.status_code == 200, page.status_code
    ft = FT_RE.search(page.data.decode()).group(1)
    rec = CONTENT.recommendation_by_number[number]
    data: dict[str, str] = {"ft": ft, "action": action}
    for q, v in zip(rec.questions, values, strict=False):
        if v is not None:
            data[f"q_{q.id}"] = v
    headers = {"X-Requested-With": "fetch"} if fetch else {}
    return b.post(f"/w/{wid}/r/{number}", data, csrf=False, headers=headers)


def trainer_browser(app: Any) -> Browser:
    b = Browser(app.test_client())
    b.login(email("trainer_a"))
    return b


def stored(app: Any, wid: int) -> dict[tuple[int, str], str]:
    with app.app_context():
        rows = db.session.execute(select(WorkshopAnswer.participant_id, WorkshopAnswer.question_id,
                                         WorkshopAnswer.value).where(WorkshopAnswer.workshop_id == wid))
        return {(p, q): v for p, q, v in rows}


# --- opening and joining ----------------------------------------------------------------------------------------


def test_trainer_opens_a_workshop_with_a_readable_code_and_qr(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, "THB course <b>Lyon</b>", ["r1", "r4", "r7"], pacing="one")
    raw = code.replace("-", "")
    assert len(raw) == 6 and all(c in services.CODE_ALPHABET for c in raw)
    assert not set(raw) & set("01OIL")
    board = trainer.get(f"/workshops/{wid}").data.decode()
    assert "THB course &lt;b&gt;Lyon&lt;/b&gt;" in board
    qr = trainer.get(f"/workshops/{wid}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    screen = trainer.get(f"/workshops/{wid}/join-screen").data.decode()
    assert code in screen and "/w/" in screen
    with app.app_context():
        w = db.session.get(Workshop, wid)
        assert w.rec_ids == ["r1", "r4", "r7"] and w.pacing == "one" and w.open_recommendation_id == "r1"
        assert w.agency_id == world.agency_a and w.open_code == raw
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "workshop_opened")) == 1


def test_join_with_valid_wrong_expired_and_closed_codes(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    # Valid, typed in lower case with spaces: joins, cookie scoped to the participant pages.
    b, resp = join(app, " " + code.lower().replace("-", " ") + " ", role="investigator")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{wid}/")
    cookie = resp.headers["Set-Cookie"]
    assert f"thb_wp{wid}=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/w/" in cookie
    token = re.search(rf"thb_wp{wid}=([^;]+)", cookie).group(1)
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    home = b.get(f"/w/{wid}/").data.decode()
    assert "Course A" in home and "investigator" in home
    with app.app_context():
        p = db.session.scalars(select(Participant)).one()
        assert p.token_hash == services.token_hash(token) and token not in p.token_hash
    # The QR link shows the form with the code filled in, and creates nobody.
    link = Browser(app.test_client()).get(f"/w/j/{code.replace('-', '')}")
    assert link.status_code == 200 and code in link.data.decode() and "Course A" in link.data.decode()
    # Wrong: unknown code, and a malformed one.
    for wrong in ("ZZZ-ZZZ", "0O1IL0", ""):
        _b, resp = join(app, wrong)
        assert resp.status_code in (404, 422)
        if wrong:
            assert "There is no workshop with this code" in resp.data.decode()
    assert Browser(app.test_client()).get("/w/j/ZZZZZZ").status_code == 404
    # Expired: the join window is over (participants already in keep answering).
    with app.app_context(), db.writing() as s:
        s.get(Workshop, wid).code_expires_at = services.utcnow() - timedelta(minutes=1)
    _b, resp = join(app, code)
    assert resp.status_code == 410 and "This join code has expired" in resp.data.decode()
    assert answer(b, wid, 1, ["2"]).status_code == 302
    # Renewing (reopen on an open workshop) lets people join again with the same code.
    trainer.get(f"/workshops/{wid}")
    assert trainer.post(f"/workshops/{wid}/reopen").status_code == 302
    assert join(app, code)[1].status_code == 302
    # Closed: a clear message, not "wrong code".
    trainer.get(f"/workshops/{wid}")
    assert trainer.post(f"/workshops/{wid}/close").status_code == 302
    _b, resp = join(app, code)
    assert resp.status_code == 410 and "This workshop is closed" in resp.data.decode()
    assert Browser(app.test_client()).get(f"/w/j/{code}").status_code == 410
    # Joining twice from the same browser keeps one participant.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 2


# --- answering ----------------------------------------------------------------------------------------------


def test_participant_answers_changes_and_is_read_only_after_closing(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    b = participant(app, code)
    assert answer(b, wid, 1, ["2", "3", None, "na"]).status_code == 302
    resp = answer(b, wid, 1, [None, "4", "unknown"], action="next")
    assert resp.headers["Location"].endswith(f"/w/{wid}/r/2?saved=1")
    resp = answer(b, wid, 2, ["1"], fetch=True)
    assert resp.status_code == 200 and resp.json["ok"] and resp.json["saved"] == 1
    got = {q: v for (_p, q), v in stored(app, wid).items()}
    qs = R1.questions
    assert got == {qs[0].id: "2", qs[1].id: "4", qs[2].id: "unknown", qs[3].id: "na", R2.questions[0].id: "1"}
    page = b.get(f"/w/{wid}/r/1").data.decode()
    assert re.search(r'value="4"\s+checked', page.split(f'id="q-{qs[1].id}"')[1].split("</fieldset>")[0])
    # Values outside the scale, questions of another recommendation, or forged tokens change nothing.
    ft = FT_RE.search(page).group(1)
    assert b.post(f"/w/{wid}/r/1", {"ft": ft, f"q_{qs[0].id}": "7"}, csrf=False).status_code == 422
    assert b.post(f"/w/{wid}/r/1", {"ft": ft, f"q_{R2.questions[1].id}": "1"}, csrf=False).status_code == 400
    assert b.post(f"/w/{wid}/r/1", {"ft": "x" * 64, f"q_{qs[0].id}": "1"}, csrf=False).status_code == 400
    assert b.get(f"/w/{wid}/r/3").status_code == 404  # not part of this workshop
    # Closed: read-only, with a clear message, nothing saved.
    trainer.get(f"/workshops/{wid}")
    trainer.post(f"/workshops/{wid}/close")
    before = stored(app, wid)
    resp = answer(b, wid, 1, ["0", "0", "0", "0"])
    assert resp.status_code == 409 and "The workshop is closed" in resp.data.decode()
    resp = answer(b, wid, 1, ["0"], fetch=True)
    assert resp.status_code == 409 and resp.json["closed"] is True
    assert stored(app, wid) == before
    page = b.get(f"/w/{wid}/r/1").data.decode()
    assert "The workshop is closed" in page and "disabled" in page
    assert b.get(f"/w/{wid}/status").json["status"] == "closed"


def test_pacing_one_recommendation_at_a_time(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, recs=["r1", "r2", "r3"], pacing="one")
    b = participant(app, code)
    assert b.get(f"/w/{wid}/status").json["open"] == [1]
    assert answer(b, wid, 1, ["2"]).status_code == 302
    resp = answer(b, wid, 2, ["2"])
    assert resp.status_code == 409 and "has not opened this recommendation" in resp.data.decode()
    trainer.get(f"/workshops/{wid}")
    assert trainer.post(f"/workshops/{wid}/pace", {"rec": "r2"}).status_code == 302
    assert b.get(f"/w/{wid}/status").json["open"] == [2]
    assert answer(b, wid, 2, ["2"]).status_code == 302
    assert answer(b, wid, 1, ["3"]).status_code == 409
    assert trainer.post(f"/workshops/{wid}/pace", {"rec": "r9"}).status_code == 400  # not in this workshop
    trainer.post(f"/workshops/{wid}/pace", {"rec": "all"})
    assert b.get(f"/w/{wid}/status").json["open"] == [1, 2, 3]


# --- the board and its k=3 threshold ------------------------------------------------------------------------


def _board(trainer: Browser, wid: int) -> str:
    resp = trainer.get(f"/workshops/{wid}/board/fragment")
    assert resp.status_code == 200
    return resp.data.decode()


def _row(html: str, qid_label: str) -> str:
    """The board table row of question "1.1" etc."""
    cell = html.split(f'<span class="qnum">{qid_label}</span>')
    return cell[-1].split("</tr>")[0]


def test_board_shows_distributions_only_from_three_answers(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    people = [participant(app, code) for _ in range(4)]
    answer(people[0], wid, 1, ["1", "4"])
    html = _board(trainer, wid)
    assert "fewer than 3 answers" in _row(html, "1.1") and "<svg" not in _row(html, "1.1")
    assert "median" not in _row(html, "1.1")
    answer(people[1], wid, 1, ["3", "0"])
    assert "fewer than 3 answers" in _row(_board(trainer, wid), "1.1")
    answer(people[2], wid, 1, ["4", "4"])
    html = _board(trainer, wid)
    row = _row(html, "1.1")
    assert "fewer than 3 answers" not in row and 'class="hist"' in row
    assert "median</span>" not in row and "<strong>3.0</strong>" in row  # median of 1, 3, 4
    # 1.2 has answers 4, 0, 4: far apart, so it is flagged and ranked first among the hotspots.
    assert "disagreement" in _row(html, "1.2")
    hot = html.split("Where the group disagrees most")[1].split("</section>")[0]
    assert hot.index('<span class="qnum">1.2</span>') < hot.index('<span class="qnum">1.1</span>')
    # The full page (no JavaScript) shows the same; participants joined: 4, answered: 3.
    page = trainer.get(f"/workshops/{wid}").data.decode()
    assert "3 answered" in page and ">4<" in page
    assert 'data-refresh-url="/workshops/' in page and "js/workshop.js" in page


def test_report_tables_count_answers_in_the_histogram_and_below_k_in_place_of_the_median(app, world):
    """Issue 15: the report's answer tables have no separate "Answers" column (the histogram gives the count
    per level); a question answered by fewer than k people still says how many answered."""
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    people = [participant(app, code) for _ in range(3)]
    answer(people[0], wid, 1, ["1", "4"])
    answer(people[1], wid, 1, ["3"])
    answer(people[2], wid, 1, ["4"])
    page = trainer.get(f"/workshops/{wid}/report").data.decode()
    tables = page.split('id="hotspots"')[1].split('id="workshop-method"')[0]
    assert 'class="num">Answers' not in tables and "ws-qtable" in tables
    hidden = _row(tables, "1.2")  # answered by one person only
    assert "fewer than 3 answers" in hidden and "1 answer<" in hidden and "median" not in hidden
    shown = _row(tables, "1.1")
    assert 'class="hist"' in shown and "answers<" not in shown and "<strong>3.0</strong>" in shown


def test_participant_sees_only_own_answers_never_the_board(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    wid2, _code2 = open_workshop(trainer, "Course B")
    alice, bob = participant(app, code), participant(app, code)
    answer(alice, wid, 1, ["4", "4", "4", "4"])
    answer(bob, wid, 1, ["0", "1", "0", "1"])
    page = bob.get(f"/w/{wid}/r/1").data.decode()
    checked = re.findall(r'value="([^"]+)"\s+checked>', page)
    assert checked == ["0", "1", "0", "1"]  # bob's own answers; alice's 4s appear nowhere
    # The board, its fragment, the report and the consensus page need a trainer login.
    for url in (f"/workshops/{wid}", f"/workshops/{wid}/board/fragment", f"/workshops/{wid}/report",
                f"/workshops/{wid}/report.pdf", f"/workshops/{wid}/consensus", f"/workshops/{wid}/qr.svg"):
        resp = bob.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    # Another workshop's pages: not joined there.
    assert bob.get(f"/w/{wid2}/").status_code == 403
    assert bob.get(f"/w/{wid2}/r/1").status_code == 403
    # Alice's cookie sent for Bob's form token: refused.
    bob_ft = FT_RE.search(page).group(1)
    resp = alice.post(f"/w/{wid}/r/1", {"ft": bob_ft, f"q_{R1.questions[0].id}": "0"}, csrf=False)
    assert resp.status_code == 400
    # No cookie at all: the not-joined page, never data.
    stranger = Browser(app.test_client())
    resp = stranger.get(f"/w/{wid}/r/1")
    assert resp.status_code == 403 and "You have not joined this workshop" in resp.data.decode()
    assert stranger.get(f"/w/{wid}/status").status_code == 403
    # Guessing a token does not work either.
    stranger.client.set_cookie(f"thb_wp{wid}", "guess" * 9, path="/w/")
    assert stranger.get(f"/w/{wid}/").status_code == 403


def test_other_trainers_and_other_roles_do_not_see_a_workshop(app, world):
    trainer = trainer_browser(app)
    wid, _code = open_workshop(trainer)
    with app.app_context(), db.writing() as s:
        s.add(User(email="trainer2@example.org", name="Other Trainer", role=Role.TRAINER.value,
                   agency_id=world.agency_a, password_hash=hash_password(PASSWORD), active=True))
    other = Browser(app.test_client())
    other.login("trainer2@example.org")
    assert other.get(f"/workshops/{wid}").status_code == 404
    assert "Course A" not in other.get("/workshops/").data.decode()
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    assert sup.get(f"/workshops/{wid}").status_code == 403


# --- consensus, conversion, report ----------------------------------------------------------------------------


def _run_session(app: Any, trainer: Browser) -> tuple[int, str]:
    wid, code = open_workshop(trainer, "Academy course 7")
    plans = [["2", "1", "0", "3"], ["2", "3", "0", "3"], ["3", "1", "4", "na"], ["1", "1", "0", "na"]]
    for i, plan in enumerate(plans):
        b = participant(app, code, role="investigator" if i < 3 else "prosecutor")
        answer(b, wid, 1, plan)
        answer(b, wid, 2, ["1", "2", "unknown", "2"])
    return wid, code


def test_consensus_defaults_to_the_median_and_becomes_a_draft_of_an_own_agency_unit(app, world):
    trainer = trainer_browser(app)
    wid, _code = _run_session(app, trainer)
    page = trainer.get(f"/workshops/{wid}/consensus").data.decode()
    q = R1.questions
    # Lower medians: [1,2,2,3] -> 2; [1,1,1,3] -> 1; [0,0,0,4] -> 0; two of four na, not a majority -> 3.
    for qid, expected in ((q[0].id, "2"), (q[1].id, "1"), (q[2].id, "0"), (q[3].id, "3")):
        select_html = page.split(f'id="c_{qid}"')[1].split("</select>")[0]
        assert re.search(rf'<option selected value="{expected}">|<option value="{expected}" selected>', select_html), \
            (qid, select_html[:300])
    form = {f"c_{x.id}": v for x, v in zip(q, ["2", "2", "1", "3"], strict=True)}
    form.update({f"c_{x.id}": "" for x in R2.questions})
    form[f"c_{R2.questions[0].id}"] = "1"
    assert trainer.post(f"/workshops/{wid}/consensus", form).status_code == 302
    with app.app_context():
        rows = {c.question_id: c.value for c in db.session.scalars(select(WorkshopConsensus))}
    assert rows == {q[0].id: "2", q[1].id: "2", q[2].id: "1", q[3].id: "3", R2.questions[0].id: "1"}
    # A unit of another agency: refused, nothing created.
    resp = trainer.post(f"/workshops/{wid}/convert", {"unit": str(world.unit_b1), "title": "Leak"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0
    # An own-agency unit: a draft with the consensus as answers.
    resp = trainer.post(f"/workshops/{wid}/convert", {"unit": str(world.unit_a2), "title": "From the workshop"})
    assert resp.status_code == 302
    assert "Draft assessment created for Unit A2" in trainer.get(f"/workshops/{wid}/consensus").data.decode()
    with app.app_context():
        a = db.session.scalars(select(Assessment)).one()
        assert a.unit_id == world.unit_a2 and a.status == "draft" and a.title == "From the workshop"
        answers = {x.question_id: x.value
                   for x in db.session.scalars(select(Answer).where(Answer.assessment_id == a.id))}
        assert answers == rows
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "workshop_converted")).one()
        assert event.agency_id == world.agency_a and f"draft assessment {a.id}" in event.detail
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "workshop_consensus_recorded")) == 1
        aid = a.id
    # Who sees the draft: the unit and its agency's supervisor; not another unit, agency or the trainer.
    for who, code in (("member_a2", 200), ("supervisor_a", 200), ("member_a1", 404), ("member_b1", 404),
                      ("supervisor_b", 404), ("trainer_a", 403)):
        b = Browser(app.test_client())
        b.login(email(who))
        assert b.get(f"/assessments/{aid}").status_code == code, who
    member = Browser(app.test_client())
    member.login(email("member_a2"))
    assert "From the workshop" in member.get("/assessments/").data.decode()


def test_convert_refuses_a_foreign_unit_in_the_service(app, world):
    with app.app_context(), db.writing() as s:
        trainer = s.get(User, world.users["trainer_a"])
        w = services.create_workshop(s, trainer, "W", CONTENT, ["r1"], "all", 12)
        services.record_consensus(s, w, trainer, CONTENT, {R1.questions[0].id: "2"})
        with pytest.raises(services.StateError):
            services.convert_to_assessment(s, w, trainer, s.get(Unit, world.unit_b1), "x", CONTENT)


def test_report_page_and_pdf(app, world):
    from .test_report_pdf import flat, pdf_text

    trainer = trainer_browser(app)
    wid, _code = _run_session(app, trainer)
    page = trainer.get(f"/workshops/{wid}/report").data.decode()
    assert "Academy course 7" in page and "Disagreement hotspots" in page and "investigator (3)" in page
    assert "prosecutor" not in page  # a role given by fewer than 3 people is not shown
    assert "Gaps, by priority" in page and R1.title in page
    resp = trainer.get(f"/workshops/{wid}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader, text = pdf_text(resp.data)
    body = flat(text)
    assert "Academy course 7" in body and "Disagreement hotspots" in body and "RESTRICTED" in body
    assert flat(R1.title) in body
    assert "Freedom from fear" in body or "fear" in body
    assert reader.metadata.title and "Academy course 7" in reader.metadata.title
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "workshop_report_downloaded")) == 1


def test_close_and_reopen_are_audited_and_reopen_gets_a_new_code_if_taken(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    trainer.get(f"/workshops/{wid}")
    trainer.post(f"/workshops/{wid}/close")
    with app.app_context(), db.writing() as s:
        other = s.get(Workshop, wid)
        clash = Workshop(agency_id=other.agency_id, created_by_id=other.created_by_id, title="Clash",
                         content_version=other.content_version, recommendation_ids="r1", pacing="all",
                         code=other.code, open_code=other.code, code_expires_at=services.utcnow() + timedelta(hours=1),
                         status="open")
        s.add(clash)
    trainer.post(f"/workshops/{wid}/reopen")
    with app.app_context():
        w = db.session.get(Workshop, wid)
        assert w.is_open and w.code != code.replace("-", "") and w.open_code == w.code
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "workshop")
                                          .order_by(AuditEvent.id)))
        assert actions == ["workshop_opened", "workshop_closed", "workshop_reopened"]
