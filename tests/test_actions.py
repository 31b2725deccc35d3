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
    _add_actions(app, world.unit_b1, 4, late=4)  # another agency: never counted nor listed
    sup = Browser(app.test_client())
    sup.login(email("supervisor_a"))
    seen, stop = count_queries(app)
    html = sup.get("/agency/").data.decode()
    few = len(seen)
    stop()
    section = html[html.index('id="action-plans"'):]
    section = section[:section.index("</section>")]
    assert re.search(r"<td>Unit A1</td><td class=\"num\">3</td><td class=\"num overdue\">2</td>"
                     r"<td class=\"num\">0</td>", section)
    assert len(re.findall(r">Action \d+-\d+</a>", section)) == 2 and f"Action {world.unit_b1}-" not in section
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
