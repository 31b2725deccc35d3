"""Action plans (issue 17): adopt from a gap, edit with optimistic locking, drop with a reason, done, supervisor
remark, hostile input, agency isolation, downloads (CSV, parsed XLSX, parsed .ics, PDF) and audit rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.actions import services
from app.actions.exports import fold, ics_text
from app.actions.models import ActionItem
from app.db import db
from app.models import AuditEvent, Unit, User

from .conftest import Browser, World, email
from .helpers import CONTENT, agency_pdf
from .supervisor_data import add_assessment, uniform_plan

REC = CONTENT.recommendations[0]


def _setup(app: Any, world: World) -> int:
    with app.app_context(), db.writing():
        return add_assessment(world.unit_a1, uniform_plan("1"))


def _member(app: Any, key: str = "member_a1") -> Browser:
    b = Browser(app.test_client())
    b.login(email(key))
    return b


def _form(**kw: str) -> dict[str, str]:
    data = {"title": "Train two analysts", "description": "", "owner": "", "owner_name": "Head of unit",
            "due_date": (date.today() + timedelta(days=30)).isoformat(), "status": "planned", "drop_reason": "",
            "progress_note": "", "evidence": ""}
    data.update(kw)
    return data


def _count(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ActionItem)) or 0


def _audit(app: Any, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _adopt(b: Browser, aid: int, **kw: str) -> int:
    b.get(f"/assessments/{aid}/actions/new?rec={REC.id}")
    resp = b.post(f"/assessments/{aid}/actions/new?rec={REC.id}", _form(**kw))
    assert resp.status_code == 302, resp.data[:2000]
    m = re.search(r"#action-(\d+)", resp.headers["Location"])
    assert m
    return int(m.group(1))


def _version(html: str) -> str:
    m = re.search(r'name="version"[^>]*value="(\d+)"', html) or re.search(r'value="(\d+)"[^>]*name="version"', html)
    assert m, html[:3000]
    return m.group(1)


def test_adopt_from_gap_then_edit_drop_and_done(app, world):
    aid = _setup(app, world)
    b = _member(app)
    results = b.get(f"/assessments/{aid}/results").data.decode()
    assert "No action planned for this gap." in results
    assert f"/assessments/{aid}/actions/new?rec={REC.id}" in results
    page = b.get(f"/assessments/{aid}/actions/new?rec={REC.id}&pick=0").data.decode()
    suggested = REC.actions[1][0]
    assert "Adopt this action" in page and suggested[:40].replace("'", "&#39;") in page
    action_id = _adopt(b, aid, title=suggested[:200])
    results = b.get(f"/assessments/{aid}/results").data.decode()
    assert f"#action-{action_id}" in results and "gaps with an action: 1 of" in results
    plan = b.get(f"/units/{world.unit_a1}/plan").data.decode()
    assert "Head of unit" in plan and f'id="action-{action_id}"' in plan
    created = _audit(app, "action_created")
    assert [e.object_id for e in created] == [str(action_id)] and created[0].agency_id == world.agency_a

    edit = b.get(f"/actions/{action_id}/edit").data.decode()
    v = _version(edit)
    resp = b.post(f"/actions/{action_id}/edit", _form(status="dropped", version=v))
    assert resp.status_code == 422 and "Say why the action is dropped." in resp.data.decode()
    resp = b.post(f"/actions/{action_id}/edit", _form(status="dropped", drop_reason="Budget moved", version=v))
    assert resp.status_code == 302
    v = _version(b.get(f"/actions/{action_id}/edit").data.decode())
    resp = b.post(f"/actions/{action_id}/edit", _form(status="done", evidence="Course certificates", version=v))
    assert resp.status_code == 302
    with app.app_context():
        item = db.session.get(ActionItem, action_id)
        assert item is not None and item.status == "done" and item.done_at is not None
        assert item.evidence == "Course certificates" and item.version_id == 3
    assert len(_audit(app, "action_updated")) == 2
    plan = b.get(f"/units/{world.unit_a1}/plan").data.decode()
    assert re.search(r"<strong>1</strong>\s*done this year", plan)


def test_conflict_shows_both_versions_and_keeps_theirs(app, world):
    aid = _setup(app, world)
    first, second = _member(app), _member(app, "member2_a1")
    action_id = _adopt(first, aid)
    v1 = _version(first.get(f"/actions/{action_id}/edit").data.decode())
    v2 = _version(second.get(f"/actions/{action_id}/edit").data.decode())
    assert first.post(f"/actions/{action_id}/edit", _form(progress_note="Mine first", version=v1)).status_code == 302
    resp = second.post(f"/actions/{action_id}/edit", _form(progress_note="Theirs later", version=v2))
    html = resp.data.decode()
    assert resp.status_code == 409
    assert "Someone else saved this action" in html and "Mine first" in html and "Theirs later" in html
    with app.app_context():
        assert db.session.get(ActionItem, action_id).progress_note == "Mine first"  # type: ignore[union-attr]
    # Saving again after seeing the conflict is a knowing overwrite.
    resp = second.post(f"/actions/{action_id}/edit", _form(progress_note="Theirs later", version=_version(html)))
    assert resp.status_code == 302


def test_supervisor_reads_and_remarks_but_does_not_edit(app, world):
    aid = _setup(app, world)
    action_id = _adopt(_member(app), aid)
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    page = sup.get(f"/units/{world.unit_a1}/plan")
    assert page.status_code == 200 and "Train two analysts" in page.data.decode()
    assert sup.post(f"/actions/{action_id}/remark", {"remark": "Good; report in March"}).status_code == 302
    assert sup.post(f"/actions/{action_id}/edit", _form(version="1")).status_code == 403
    assert sup.post(f"/actions/{action_id}/remark", {"remark": "x\x00y"}).status_code == 400
    assert "Good; report in March" in _member(app).get(f"/units/{world.unit_a1}/plan").data.decode()
    assert len(_audit(app, "action_remark")) == 1
    other = Browser(app.test_client())
    other.login(email("supervisor_b"))
    assert other.get(f"/units/{world.unit_a1}/plan").status_code == 404
    assert other.post(f"/actions/{action_id}/remark", {"remark": "peek"}).status_code == 404
    sibling = _member(app, "member_a2")
    assert sibling.get(f"/units/{world.unit_a1}/plan").status_code == 404
    assert sibling.get(f"/actions/{action_id}/edit").status_code == 404
    assert sibling.get(f"/units/{world.unit_a1}/plan.csv").status_code == 404


@pytest.mark.parametrize(("field", "value", "code"), [
    # NUL is stopped at the door for every form (app.security, 400); other control characters by the form.
    ("title", "", 422), ("title", "x" * 201, 422), ("title", "a\x00b", 400), ("description", "a\x00b", 400),
    ("description", "x" * 4001, 422), ("owner_name", "y" * 201, 422), ("progress_note", "\x07", 422),
    ("evidence", "e\x00", 400), ("evidence", "e\x1b[31m", 422), ("due_date", "1999-12-31", 422),
    ("due_date", "2101-01-01", 422),
    ("due_date", "31/12/2026", 422), ("status", "finished", 422), ("owner", "999999", 422),
])
def test_bad_input_is_refused_and_nothing_stored(app, world, field, value, code):
    aid = _setup(app, world)
    b = _member(app)
    b.get(f"/assessments/{aid}/actions/new?rec={REC.id}")
    resp = b.post(f"/assessments/{aid}/actions/new?rec={REC.id}", _form(**{field: value}))
    assert resp.status_code == code
    assert _count(app) == 0


def test_unknown_recommendation_and_foreign_owner(app, world):
    aid = _setup(app, world)
    b = _member(app)
    assert b.get(f"/assessments/{aid}/actions/new?rec=r999").status_code == 400
    assert b.post(f"/assessments/{aid}/actions/new?rec=r999", _form()).status_code == 400
    # An owner from another unit is not among the choices (422), and the service refuses it too.
    resp = b.post(f"/assessments/{aid}/actions/new?rec={REC.id}", _form(owner=str(world.users["member_a2"])))
    assert resp.status_code == 422
    with app.app_context():
        unit = db.session.get(Unit, world.unit_a1)
        with pytest.raises(services.InputError):
            services.validate(db.session, unit, services.ActionInput(title="x", owner_id=world.users["member_b1"]))
    assert _count(app) == 0
    # A member of the unit may own it.
    _adopt(b, aid, owner=str(world.users["member2_a1"]))
    assert _count(app) == 1


HOSTILE = '=HYPERLINK("http://evil.example","x"), ;\\ <b>bold</b>\nsecond line ünïcødé ' + "z" * 120


def test_downloads_are_neutralised_and_parse(app, world):
    aid = _setup(app, world)
    b = _member(app)
    action_id = _adopt(b, aid, title=HOSTILE[:200], description="+cmd|' /C calc'!A0", owner_name="-2+3")
    csv_resp = b.get(f"/units/{world.unit_a1}/plan.csv")
    assert csv_resp.status_code == 200 and csv_resp.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(csv_resp.data.decode("utf-8-sig"))))
    assert rows[0]["title"] == "'" + HOSTILE[:200]
    assert rows[0]["description"].startswith("'+") and rows[0]["owner"] == "'-2+3"
    x = b.get(f"/units/{world.unit_a1}/plan.xlsx")
    ws = load_workbook(io.BytesIO(x.data)).active
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("title") + 1).value == "'" + HOSTILE[:200]
    ics = b.get(f"/units/{world.unit_a1}/plan.ics")
    assert ics.mimetype == "text/calendar"
    events = parse_ics(ics.data.decode())
    assert len(events) == 1 and events[0]["SUMMARY"] == HOSTILE[:200]
    assert events[0]["UID"].startswith(f"action-{action_id}@")
    assert all(len(line.encode()) <= 75 for line in ics.data.decode().split("\r\n"))
    pdf = b.get(f"/units/{world.unit_a1}/plan.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    downloads = _audit(app, "plan_downloaded")
    assert sorted(e.detail for e in downloads) == ["csv", "ics", "pdf", "xlsx"]


def parse_ics(text: str) -> list[dict[str, str]]:
    """A strict little RFC 5545 reader: CRLF lines, unfolding, TEXT unescaping, one dict per VEVENT."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    unfolded: list[str] = []
    for line in lines:
        if line.startswith(" "):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    events, cur = [], None
    for line in unfolded:
        name, _sep, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            cur = {}
        elif line == "END:VEVENT":
            events.append(cur)
            cur = None
        elif cur is not None:
            value = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)
            cur[name.split(";")[0]] = value
    return events  # type: ignore[return-value]


def test_fold_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_ics_skips_closed_and_undated(app, world):
    with app.app_context():
        unit = db.session.get(Unit, world.unit_a1)
        user = db.session.get(User, world.users["member_a1"])
        items = []
        for status, due in (("planned", date(2027, 1, 5)), ("done", date(2027, 1, 6)), ("in_progress", None)):
            items.append(ActionItem(id=len(items) + 1, unit_id=unit.id, recommendation_id=REC.id, title=status,
                                    status=status, due_date=due, description="", owner_name="", version_id=1))
        text = ics_text(CONTENT, "Unit, A1; x", items, services.utcnow(), "example.org")
        events = parse_ics(text)
        assert [e["SUMMARY"] for e in events] == ["planned"] and events[0]["DTSTART"] == "20270105"
        assert "X-WR-CALNAME:Unit\\, A1\\; x" in text
        assert user is not None


def test_since_previous_assessment_closes_the_loop(app, world):
    """Hand-made: r1 action done and level rose; r2 action done, no change; r3 rose with no action."""
    from app.models import utcnow

    recs = CONTENT.recommendations
    now = utcnow()
    with app.app_context(), db.writing():
        add_assessment(world.unit_a1, uniform_plan("1"), title="First", submitted_at=now - timedelta(days=200))
        later = uniform_plan("1")
        for rec in (recs[0], recs[2]):
            later.update(dict.fromkeys((q.id for q in rec.questions), "3"))
        second = add_assessment(world.unit_a1, later, title="Second", submitted_at=now - timedelta(days=1))
        for i, (rec, title, done_days_ago) in enumerate([(recs[0], "Write the policy", 50),
                                                          (recs[1], "Buy the tool", 40),
                                                          (recs[1], "Done after the second", 0)]):
            db.session.add(ActionItem(unit_id=world.unit_a1, recommendation_id=rec.id, content_version="x",
                                      title=title, status="done", description="", owner_name="",
                                      done_at=now - timedelta(days=done_days_ago, hours=i)))
    html = _member(app).get(f"/assessments/{second}/results").data.decode()
    section = html[html.index("Actions completed since the previous assessment"):]
    assert "Write the policy" in section and "Buy the tool" in section
    assert "Done after the second" not in section
    no_rise = section[section.index("Actions completed, level did not rise:"):].split("</p>")[0]
    assert f"{recs[1].number}. " in no_rise and f"{recs[0].number}. " not in no_rise
    rise = section[section.index("Level rose with no completed action:"):].split("</p>")[0]
    assert f"{recs[2].number}. " in rise and f"{recs[0].number}. " not in rise


def _add_actions(app: Any, unit_id: int, n: int, *, late: int = 0) -> None:
    from app.models import utcnow

    with app.app_context(), db.writing():
        for i in range(n):
            due = date.today() - timedelta(days=5) if i < late else date.today() + timedelta(days=20)
            db.session.add(ActionItem(unit_id=unit_id, recommendation_id=REC.id, content_version="x",
                                      title=f"Action {unit_id}-{i}", status="planned", description="",
                                      owner_name="", due_date=due))
        db.session.add(ActionItem(unit_id=unit_id, recommendation_id=REC.id, content_version="x", title="Old",
                                  status="done", description="", owner_name="",
                                  done_at=utcnow() - timedelta(days=400)))


def test_supervisor_dashboard_counts_and_constant_queries(app, world):
    from .supervisor_data import count_queries

    _add_actions(app, world.unit_a1, 3, late=2)
    with app.app_context(), db.writing():  # a late workshop proposal: not open, so neither counted nor listed
        db.session.add(ActionItem(unit_id=world.unit_a1, recommendation_id=REC.id, content_version="x",
                                  title="Proposed one", status="proposed", proposed_by="Seminar", description="",
                                  owner_name="", due_date=date.today() - timedelta(days=9)))
    _add_actions(app, world.unit_b1, 4, late=4)  # another agency: never counted nor listed
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    seen, stop = count_queries(app)
    html = sup.get("/agency/").data.decode()
    few = len(seen)
    stop()
    # The heat map's last column: the unit's open and overdue actions (the proposal is not counted).
    heat = html[html.index('id="heatmap"'):]
    row = heat[heat.index('<th scope="row">Unit A1</th>'):]
    row = row[:row.index("</tr>")]
    assert re.search(r'class="plan-cell"><a href="/units/\d+/plan">3 open · <span class="overdue">2 overdue</span>',
                     row), row[-600:]
    section = html[html.index('id="action-plans"'):]
    section = section[:section.index("</section>")]
    assert len(re.findall(r">Action \d+-\d+</a>", section)) == 2 and f"Action {world.unit_b1}-" not in section
    assert "Proposed one" not in section
    assert re.search(rf"<td>{REC.number}\. {re.escape(REC.short_title)}</td>", section)
    assert re.search(r'<td class="num overdue">5</td>', section)  # days overdue
    with app.app_context(), db.writing():
        for i in range(12):
            db.session.add(Unit(name=f"Extra {i}", agency_id=world.agency_a))
    with app.app_context():
        extra = db.session.scalars(select(Unit.id).where(Unit.name.like("Extra %"))).all()
    for unit_id in extra:
        _add_actions(app, unit_id, 20, late=3)
    seen, stop = count_queries(app)
    html = sup.get("/agency/").data.decode()
    stop()
    assert len(seen) == few


def _late(app: Any, unit_id: int, rec_index: int, days: int, title: str) -> None:
    with app.app_context(), db.writing():
        db.session.add(ActionItem(unit_id=unit_id, recommendation_id=CONTENT.recommendations[rec_index].id,
                                  content_version="x", title=title, status="in_progress", description="",
                                  owner_name="Chief", due_date=date.today() - timedelta(days=days)))


def test_overdue_list_sorts_on_the_server_by_a_whitelisted_key(app, world):
    """Due date (default), unit and recommendation, both ways, by links; an unknown key falls back to due date."""
    with app.app_context(), db.writing():
        db.session.add(Unit(name="Aardvark unit", agency_id=world.agency_a))
    with app.app_context():
        first = db.session.scalar(select(Unit.id).where(Unit.name == "Aardvark unit"))
    _late(app, world.unit_a1, 0, 3, "T-recent-r1")
    _late(app, first, 2, 10, "T-older-r3")
    _late(app, world.unit_a1, 1, 30, "T-oldest-r2")
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))

    def order(query: str) -> tuple[list[str], str]:
        html = sup.get(f"/agency/{query}").data.decode()
        section = html[html.index('id="action-plans"'):]
        section = section[:section.index("</section>")]
        return re.findall(r">(T-[a-z0-9-]+)</a>", section), section

    titles, section = order("")
    assert titles == ["T-oldest-r2", "T-older-r3", "T-recent-r1"]
    assert re.search(r'aria-sort="ascending">\s*<a href="[^"]*late_sort=due&amp;late_order=desc', section)
    assert section.count("aria-sort=") == 1
    assert order("?late_sort=due&late_order=desc")[0] == ["T-recent-r1", "T-older-r3", "T-oldest-r2"]
    assert order("?late_sort=unit")[0] == ["T-older-r3", "T-oldest-r2", "T-recent-r1"]
    assert order("?late_sort=unit&late_order=desc")[0][0] in {"T-recent-r1", "T-oldest-r2"}
    assert order("?late_sort=rec")[0] == ["T-recent-r1", "T-oldest-r2", "T-older-r3"]
    titles, section = order("?late_sort=rec&late_order=desc")
    assert titles == ["T-older-r3", "T-oldest-r2", "T-recent-r1"] and 'aria-sort="descending"' in section
    # Not in the whitelist: the default order, never an error nor SQL built from the parameter.
    for bad in ("?late_sort=title;drop", "?late_sort=due&late_order=sideways", "?late_sort=owner"):
        resp = sup.get(f"/agency/{bad}")
        assert resp.status_code == 200
        assert order(bad)[0] == ["T-oldest-r2", "T-older-r3", "T-recent-r1"]


def test_plan_filters_and_overdue_marks(app, world):
    aid = _setup(app, world)
    b = _member(app)
    late = _adopt(b, aid, title="Late one", due_date=(date.today() - timedelta(days=2)).isoformat(),
                  owner=str(world.users["member2_a1"]), owner_name="")
    _adopt(b, aid, title="Finished one", status="done", evidence="Minutes", owner_name="Chief")
    page = b.get(f"/units/{world.unit_a1}/plan").data.decode()  # open ones by default
    assert "<strong>Late one</strong>" in page and "<strong>Finished one</strong>" not in page
    assert re.search(rf'id="action-{late}" class="action-item status-planned overdue"', page)
    assert re.search(r"<strong>1</strong>\s*overdue", page) and re.search(r"<strong>1</strong>\s*open", page)
    every = b.get(f"/units/{world.unit_a1}/plan?status=all").data.decode()
    assert "<strong>Late one</strong>" in every and "<strong>Finished one</strong>" in every
    by_owner = b.get(f"/units/{world.unit_a1}/plan?status=all&owner=nChief").data.decode()
    assert "<strong>Finished one</strong>" in by_owner and "<strong>Late one</strong>" not in by_owner
    by_account = b.get(f"/units/{world.unit_a1}/plan?status=all&owner=u{world.users['member2_a1']}").data.decode()
    assert "<strong>Late one</strong>" in by_account and "<strong>Finished one</strong>" not in by_account
    assert "No actions match." in b.get(f"/units/{world.unit_a1}/plan?status=all&rec=r999").data.decode()
    assert "No actions match." in b.get(f"/units/{world.unit_a1}/plan?status=dropped").data.decode()


def test_agency_report_carries_the_plan_summary(app, world):
    from pypdf import PdfReader

    _add_actions(app, world.unit_a1, 3, late=1)
    _add_actions(app, world.unit_b1, 2, late=2)
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    resp = agency_pdf(sup)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "Action plans" in text and "Overdue actions across the agency" in text
    assert f"Action {world.unit_a1}-0" in text and f"Action {world.unit_b1}-" not in text


def test_workshop_hotspots_become_proposals_a_member_adopts_or_drops(app, world):
    """A trainer carries the questions the group disagreed on into a unit's plan as proposed actions; they count
    nowhere until a member adopts one (it becomes planned) or drops it with a reason."""
    from app.models import Assessment

    from .test_workshops import R1, _run_session, trainer_browser

    trainer = trainer_browser(app)
    wid, _code = _run_session(app, trainer)
    q = R1.questions
    consensus = {f"c_{x.id}": "" for r in CONTENT.recommendations[:2] for x in r.questions}
    consensus[f"c_{q[0].id}"] = "2"
    assert trainer.post(f"/workshops/{wid}/consensus", consensus).status_code == 302
    page = trainer.get(f"/workshops/{wid}/consensus").data.decode()
    # The hotspots with differing answers are offered (1.1-1.3); 1.4 (everyone agreed) is not.
    offered = re.findall(r'name="hotspots" type="checkbox" value="([^"]+)"|type="checkbox" name="hotspots" '
                         r'value="([^"]+)"|name="hotspots"[^>]*value="([^"]+)"', page)
    offered_ids = {next(x for x in m if x) for m in offered}
    assert offered_ids == {q[0].id, q[1].id, q[2].id}, offered_ids
    # A question that is not a hotspot: refused, nothing created.
    trainer.post(f"/workshops/{wid}/convert", {"unit": str(world.unit_a2), "title": "X", "hotspots": [q[3].id]})
    assert _count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0
    resp = trainer.post(f"/workshops/{wid}/convert", {"unit": str(world.unit_a2), "title": "From the workshop",
                                                      "hotspots": [q[0].id, q[2].id]})
    assert resp.status_code == 302
    with app.app_context():
        items = list(db.session.scalars(select(ActionItem).order_by(ActionItem.id)))
        aid = db.session.scalars(select(Assessment.id)).one()
    assert [(a.unit_id, a.status, a.proposed_by, a.recommendation_id, a.assessment_id) for a in items] == \
        [(world.unit_a2, "proposed", "Academy course 7", R1.id, aid)] * 2
    items.sort(key=lambda a: a.title)
    assert items[0].title.startswith(f"Agree on 1.1 {q[0].text[:40]}") and items[1].title.startswith("Agree on 1.3")
    assert all(len(a.title) <= 200 for a in items) and items[1].title.endswith("…")
    # Both questions are too long for a title: the whole question stays readable below it.
    assert (items[0].description, items[1].description) == (q[0].text, q[2].text)
    first, second = items[0].id, items[1].id

    member = _member(app, "member_a2")
    plan = member.get(f"/units/{world.unit_a2}/plan").data.decode()
    assert "Proposed by the workshop Academy course 7" in plan
    assert re.search(r"<strong>0</strong>\s*open", plan) and "2</strong> proposed (not counted until adopted)" in plan
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    heat = sup.get("/agency/").data.decode()
    heat = heat[heat.index('id="heatmap"'):]
    heat = heat[heat.index('<th scope="row">Unit A2</th>'):]
    assert '<td class="plan-cell"><a href="' in heat[:heat.index("</tr>")]
    assert ">0 open</a>" in heat[:heat.index("</tr>")]
    # Not the proposal's unit, a supervisor, a trainer: never decide.
    for who, code in (("member_a1", 404), ("supervisor_a", 403), ("trainer_a", 403)):
        b = Browser(app.test_client())
        b.login(email(who))
        b.get("/")
        assert b.post(f"/actions/{first}/proposal", {"decision": "adopt", "version": "1"}).status_code == code, who
    # Editing a proposal as an action is refused: adopt or drop it first.
    assert member.post(f"/actions/{first}/edit", _form(version="1")).status_code == 400
    # A stale form (the proposal changed since) is refused.
    assert member.post(f"/actions/{first}/proposal", {"decision": "adopt", "version": "7"}).status_code == 409
    resp = member.post(f"/actions/{first}/proposal", {"decision": "adopt", "version": "1"})
    assert resp.status_code == 302
    # Dropping needs a reason.
    assert member.post(f"/actions/{second}/proposal", {"decision": "drop", "reason": " ", "version": "1"}) \
        .status_code == 400
    assert member.post(f"/actions/{second}/proposal", {"decision": "drop", "reason": "Settled on the day",
                                                       "version": "1"}).status_code == 302
    assert member.post(f"/actions/{first}/proposal", {"decision": "drop", "reason": "x", "version": "2"}) \
        .status_code == 400  # no longer a proposal
    with app.app_context():
        a, b_ = db.session.get(ActionItem, first), db.session.get(ActionItem, second)
        assert (a.status, a.owner_id) == ("planned", world.users["member_a2"])
        assert (b_.status, b_.drop_reason) == ("dropped", "Settled on the day")
    assert len(_audit(app, "action_proposed")) == 2 and len(_audit(app, "action_adopted")) == 1
    plan = member.get(f"/units/{world.unit_a2}/plan").data.decode()
    assert re.search(r"<strong>1</strong>\s*open", plan) and "Proposed by the workshop" not in plan


def test_actions_stay_readable_and_flagged_when_a_later_content_version_renames_or_removes(app, world):
    """An action keeps its recommendation id: after a content update that renames r1 and removes r2, the plan,
    the edit page, the downloads and the supervisor's overdue list still show both actions, flagged."""
    import dataclasses

    from app.content import ContentRegistry

    recs = CONTENT.recommendations
    old = app.extensions["content"].current
    with app.app_context(), db.writing():
        for rec in recs[:2]:
            db.session.add(ActionItem(unit_id=world.unit_a1, recommendation_id=rec.id, content_version=old.version,
                                      title=f"Keep {rec.id}", status="planned", description="", owner_name="Chief",
                                      due_date=date.today() - timedelta(days=4)))
    renamed = dataclasses.replace(recs[0], title="Renamed title", short_title="Renamed short")
    later = dataclasses.replace(old, version="2099.1", recommendations=(renamed, *recs[2:]))
    app.extensions["content"] = ContentRegistry(later, [old])
    member = _member(app)
    plan = member.get(f"/units/{world.unit_a1}/plan").data.decode()
    assert "<strong>Keep r1</strong>" in plan and "<strong>Keep r2</strong>" in plan
    # Removed: titled as in the action's own version, flagged.
    assert re.search(rf"<h2>{recs[1].number}\. {re.escape(recs[1].short_title)} <span class=\"badge badge-warn\">"
                     r"no longer in the current content</span>", plan), plan[-3000:]
    # Renamed: today's title, flagged, with the title it was planned against.
    assert f"{recs[0].number}. Renamed short" in plan and \
        f"where it read: {recs[0].number}. {recs[0].short_title}" in plan
    with app.app_context():
        gone = db.session.scalars(select(ActionItem.id).where(ActionItem.recommendation_id == recs[1].id)).one()
    edit = member.get(f"/actions/{gone}/edit")
    assert edit.status_code == 200 and "is not in the current content version" in edit.data.decode()
    assert "Keep r2" in member.get(f"/units/{world.unit_a1}/plan.csv").data.decode("utf-8-sig")
    assert member.get(f"/units/{world.unit_a1}/plan.pdf").status_code == 200
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    html = sup.get("/agency/?late_sort=rec").data.decode()
    section = html[html.index('id="action-plans"'):]
    assert re.findall(r">(Keep r\d)</a>", section) == ["Keep r1", "Keep r2"]  # the removed one sorts last
    assert "no longer in the current content" in section


def test_end_to_end_a_new_unit_closes_the_loop(app, world):
    """Issue 17's check, as a new unit would through the pages: adopt three actions from the gap report, finish
    one, submit the next assessment with that recommendation raised, and read the comparison and the supervisor's
    view. A second finished action whose recommendation stayed put, and a rise with no action, are named too."""
    from html import unescape

    from .helpers import start_assessment
    from .test_questionnaire_flow import fill_all

    r1, r2, r3 = (CONTENT.recommendation_by_number[n] for n in (1, 2, 3))
    member = _member(app, "member_a2")  # unit A2 has no assessment and no plan yet
    first = start_assessment(member, world.unit_a2, "First assessment")
    fill_all(member, first, plan={n: ["1", "1", "1", "1"] for n in range(1, 11)})
    assert member.post(f"/assessments/{first}/submit").status_code == 302
    results = unescape(member.get(f"/assessments/{first}/results").data.decode())
    for rec in (r1, r2):
        assert f"/assessments/{first}/actions/new?rec={rec.id}" in results
    adopted = []
    for rec, pick in ((r1, 0), (r1, 1), (r2, 0)):
        page = member.get(f"/assessments/{first}/actions/new?rec={rec.id}&pick={pick}").data.decode()
        title = unescape(re.search(r'name="title"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="title"',
                                   page).group(0))
        title = re.search(r'value="([^"]*)"', title).group(1)
        resp = member.post(f"/assessments/{first}/actions/new?rec={rec.id}",
                           _form(title=title, owner=str(world.users["member_a2"]), owner_name=""))
        assert resp.status_code == 302
        adopted.append((int(re.search(r"#action-(\d+)", resp.headers["Location"]).group(1)), title))
    assert len({t for _i, t in adopted}) == 3  # three different suggested actions from the content
    plan = member.get(f"/units/{world.unit_a2}/plan").data.decode()
    assert re.search(r"<strong>3</strong>\s*open", plan)
    # Finish the first r1 action and the r2 action (with evidence); the second r1 action is in progress.
    for (action_id, title), status in zip(adopted, ("done", "in_progress", "done"), strict=True):
        version = _version(member.get(f"/actions/{action_id}/edit").data.decode())
        resp = member.post(f"/actions/{action_id}/edit", _form(title=title, owner=str(world.users["member_a2"]),
                                                                owner_name="", status=status, version=version,
                                                                evidence="Signed minutes" if status == "done" else ""))
        assert resp.status_code == 302, resp.data[:1500]
    # The next assessment: r1 (action done) and r3 (no action) raised, r2 (action done) unchanged.
    second = start_assessment(member, world.unit_a2, "Second assessment")
    plan_values = {n: ["1", "1", "1", "1"] for n in range(1, 11)} | {1: ["3"] * 4, 3: ["3"] * 4}
    fill_all(member, second, plan=plan_values)
    assert member.post(f"/assessments/{second}/submit").status_code == 302
    for reader in (member, _supervisor(app)):
        html = unescape(reader.get(f"/assessments/{second}/results").data.decode())
        section = html[html.index("Actions completed since the previous assessment"):]
        section = section[:section.index("</div>")]
        row1 = section[section.index(f"<td>{r1.number}</td>"):].split("</tr>")[0]
        assert adopted[0][1] in row1 and adopted[1][1] not in row1 and 'class="num change-rose">+2' in row1
        no_rise = section[section.index("Actions completed, level did not rise:"):].split("</p>")[0]
        assert f"{r2.number}. {r2.short_title}" in no_rise and f"{r1.number}. " not in no_rise
        rise = section[section.index("Level rose with no completed action:"):].split("</p>")[0]
        assert f"{r3.number}. {r3.short_title}" in rise and f"{r1.number}. " not in rise
    dashboard = _supervisor(app).get("/agency/").data.decode()
    heat = dashboard[dashboard.index('id="heatmap"'):]
    row = heat[heat.index('<th scope="row">Unit A2</th>'):].split("</tr>")[0]
    assert ">1 open</a>" in row and "2 done in 12 months" in row


def _supervisor(app: Any) -> Browser:
    b = Browser(app.test_client())
    b.login(email("supervisor_a"))
    return b
