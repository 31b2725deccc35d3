"""Administration: agencies, units and accounts by admins; members of its own agency by a supervisor."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.admin import services
from app.db import db
from app.models import Agency, AuditEvent, PasswordToken, Unit, User

from .conftest import PASSWORD, Browser, email

LINK_RE = re.compile(r'value="(http://localhost/set-password/[A-Za-z0-9_-]{43})"')
NEW = "tram lantern quietly 1987"


def link_of(resp) -> str:
    m = LINK_RE.search(resp.data.decode())
    assert m, resp.data.decode()[:3000]
    return m.group(1)


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def new_user(b: Browser, **fields: str):
    b.get("/admin/users/new")
    data = {"email": "new.person@police.example", "name": "New Person", "role": "member"}
    data.update(fields)
    return b.post("/admin/users/new", data)


@pytest.fixture
def admin(world, make_browser) -> Browser:
    b = make_browser()
    b.login(email("admin"))
    return b


@pytest.fixture
def supervisor(world, make_browser) -> Browser:
    b = make_browser()
    b.login(email("supervisor_a"))
    return b


def test_admin_creates_agency_unit_and_user_whose_link_works_once(app, admin, make_browser):
    assert admin.get("/admin/").status_code == 200
    resp = admin.post("/admin/agencies", {"name": "  Federal   Police  "})
    assert resp.status_code == 302
    with app.app_context():
        agency = db.session.scalars(select(Agency).where(Agency.name == "Federal Police")).one()
    page = admin.get(resp.headers["Location"])
    assert page.status_code == 200 and "Federal Police" in page.data.decode()
    assert admin.post(f"/admin/agencies/{agency.id}/units", {"unit-name": "THB Desk"}).status_code == 302
    with app.app_context():
        unit = db.session.scalars(select(Unit).where(Unit.name == "THB Desk")).one()
        assert unit.agency_id == agency.id

    resp = new_user(admin, email="Officer@Federal.Example ", name="Officer One", agency=str(agency.id),
                    unit=str(unit.id))
    assert resp.status_code == 200
    link = link_of(resp)
    assert "only now" in resp.data.decode()
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "officer@federal.example")).one()
        assert user.password_hash is None and user.role == "member" and user.unit_id == unit.id

    person = make_browser()
    path = link.removeprefix("http://localhost")
    person.get(path)
    assert person.post(path, {"password": NEW, "confirm": NEW}).status_code == 302
    assert Browser(app.test_client()).get(path).status_code == 410
    person.login("officer@federal.example", NEW)
    assert person.get("/assessments/").status_code == 200

    for action in ("agency_created", "unit_created", "user_created", "password_set"):
        assert events(app, action), action
    created = events(app, "user_created")[0]
    assert created.agency_id == agency.id and created.actor == email("admin")
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        for e in db.session.scalars(select(AuditEvent)):
            assert token not in e.detail and NEW not in e.detail


def test_admin_renames_agency_and_unit(app, admin, world):
    assert admin.post(f"/admin/agencies/{world.agency_b}/rename", {"agency-name": "Agency Bee"}).status_code == 302
    assert admin.post(f"/admin/units/{world.unit_b1}/rename", {"name": "Unit Bee 1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Agency, world.agency_b).name == "Agency Bee"
        assert db.session.get(Unit, world.unit_b1).name == "Unit Bee 1"
    renamed = events(app, "agency_renamed")[0]
    assert renamed.detail == "Agency B → Agency Bee" and renamed.agency_id == world.agency_b
    assert events(app, "unit_renamed")[0].agency_id == world.agency_b
    # renaming to the same name changes nothing and records nothing
    assert admin.post(f"/admin/units/{world.unit_b1}/rename", {"name": "Unit Bee 1"}).status_code == 302
    assert len(events(app, "unit_renamed")) == 1


def test_duplicates_give_a_clear_422(app, admin, world):
    resp = admin.post("/admin/agencies", {"name": "agency a"})
    assert resp.status_code == 422 and "already exists" in resp.data.decode()
    resp = admin.post(f"/admin/agencies/{world.agency_b}/rename", {"agency-name": "AGENCY A"})
    assert resp.status_code == 422 and "already exists" in resp.data.decode()
    resp = admin.post(f"/admin/agencies/{world.agency_a}/units", {"unit-name": "unit a2"})
    assert resp.status_code == 422 and "already has a unit" in resp.data.decode()
    resp = admin.post(f"/admin/units/{world.unit_a1}/rename", {"name": "Unit A2"})
    assert resp.status_code == 422 and "already has a unit" in resp.data.decode()
    # the same unit name in another agency is fine
    assert admin.post(f"/admin/agencies/{world.agency_b}/units", {"unit-name": "Unit A1"}).status_code == 302
    resp = new_user(admin, email=email("member_a2").upper(), agency=str(world.agency_a), unit=str(world.unit_a1))
    assert resp.status_code == 422 and "already exists" in resp.data.decode()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Agency)) == 2


def test_duplicates_caught_at_the_database_too(app, admin, world, monkeypatch):
    """A second admin inserting the same name between the check and the insert: 422, not a 500."""
    monkeypatch.setattr(services, "_agency_taken", lambda *a, **k: False)
    monkeypatch.setattr(services, "_unit_taken", lambda *a, **k: False)
    monkeypatch.setattr(services, "_email_taken", lambda *a, **k: False)
    resp = admin.post("/admin/agencies", {"name": "Agency A"})
    assert resp.status_code == 422 and "already exists" in resp.data.decode()
    resp = admin.post(f"/admin/agencies/{world.agency_b}/rename", {"agency-name": "Agency A"})
    assert resp.status_code == 422
    resp = admin.post(f"/admin/agencies/{world.agency_a}/units", {"unit-name": "Unit A2"})
    assert resp.status_code == 422 and "already has a unit" in resp.data.decode()
    resp = admin.post(f"/admin/units/{world.unit_a1}/rename", {"name": "Unit A2"})
    assert resp.status_code == 422
    resp = new_user(admin, email=email("member_a2"), agency=str(world.agency_a), unit=str(world.unit_a1))
    assert resp.status_code == 422 and "already exists" in resp.data.decode()
    assert admin.get("/admin/").status_code == 200  # the session is usable afterwards
    with app.app_context():
        assert db.session.get(Agency, world.agency_b).name == "Agency B"
        assert not events(app, "agency_created") and not events(app, "user_created")


def test_unit_must_belong_to_the_agency_and_members_need_one(app, admin, world):
    resp = new_user(admin, agency=str(world.agency_a), unit=str(world.unit_b1))
    assert resp.status_code == 422 and "does not belong" in resp.data.decode()
    resp = new_user(admin, agency=str(world.agency_a), unit="")
    assert resp.status_code == 422 and "belongs to a unit" in resp.data.decode()
    resp = new_user(admin, role="trainer", agency=str(world.agency_b), unit="")
    assert resp.status_code == 200 and link_of(resp)
    with app.app_context():
        t = db.session.scalars(select(User).where(User.email == "new.person@police.example")).one()
        assert (t.role, t.agency_id, t.unit_id) == ("trainer", world.agency_b, None)


def test_admin_lists_and_filters_users(app, admin, world):
    body = admin.get("/admin/users").data.decode()
    assert email("member_b1") in body and email("supervisor_a") in body
    body = admin.get(f"/admin/users?agency={world.agency_b}").data.decode()
    assert email("member_b1") in body and email("member_a1") not in body
    assert admin.get("/admin/users?agency=nonsense").status_code == 200


def test_accounts_list_is_searchable_and_paged(app, admin, supervisor, world):
    with app.app_context(), db.writing() as s:
        s.add_all(User(email=f"paged{i:03d}@b.example", name=f"Paged Person {i:03d}", role="member",
                       agency_id=world.agency_b, unit_id=world.unit_b1, active=True) for i in range(120))
    body = admin.get("/admin/users?q=paged").data.decode()
    assert "Accounts 1–50 of 120" in body and "paged000@" in body and "paged050@" not in body
    last = admin.get("/admin/users?q=paged&page=3").data.decode()
    assert "Accounts 101–120 of 120" in last and "paged119@" in last and "paged000@" not in last
    assert "/admin/users?page=2&amp;q=paged" in last  # the pager keeps the search
    # Page numbers out of range or nonsense land on a real page, never an error.
    assert "Accounts 101–120" in admin.get("/admin/users?q=paged&page=99").data.decode()
    assert "Accounts 1–50" in admin.get("/admin/users?q=paged&page=-3").data.decode()
    assert "Accounts 1–50" in admin.get("/admin/users?q=paged&page=abc").data.decode()
    # Name or e-mail, any case; % and _ typed by the user are literal, not wildcards.
    assert "Paged Person 007" in admin.get("/admin/users?q=PAGED007@").data.decode()
    assert "Paged Person 042" in admin.get("/admin/users?q=person+042").data.decode()
    for literal in ("%25", "paged0_0"):
        assert "No account matches" in admin.get(f"/admin/users?q={literal}").data.decode(), literal
    # Combined with the agency filter; and a supervisor's search never reaches other agencies.
    assert "No account matches" in admin.get(f"/admin/users?q=paged&agency={world.agency_a}").data.decode()
    assert "No account matches" in supervisor.get("/admin/users?q=paged").data.decode()
    assert email("member_a1") in supervisor.get("/admin/users?q=" + email("member_a1")[:8]).data.decode()


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, admin, world, make_browser):
    victim = make_browser()
    victim.login(email("member_a1"))
    uid = world.users["member_a1"]
    admin.get(f"/admin/users/{uid}")
    assert admin.post(f"/admin/users/{uid}/deactivate").status_code == 302
    resp = victim.get("/assessments/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    fresh = make_browser()
    fresh.get("/login")
    assert fresh.post("/login", {"email": email("member_a1"), "password": PASSWORD}).status_code == 401
    assert "deactivated" in admin.get(f"/admin/users/{uid}").data.decode()
    assert admin.post(f"/admin/users/{uid}/deactivate").status_code == 302  # already: a no-op, no second event

    assert admin.post(f"/admin/users/{uid}/reactivate").status_code == 302
    make_browser().login(email("member_a1"))
    assert len(events(app, "user_deactivated")) == 1 and len(events(app, "user_reactivated")) == 1


def test_reset_password_issues_a_link_and_ends_sessions(app, admin, world, make_browser):
    victim = make_browser()
    victim.login(email("member_a2"))
    uid = world.users["member_a2"]
    admin.get(f"/admin/users/{uid}")
    resp = admin.post(f"/admin/users/{uid}/reset-password")
    assert resp.status_code == 200
    link = link_of(resp)
    assert victim.get("/assessments/").status_code == 302
    fresh = make_browser()
    fresh.get("/login")
    assert fresh.post("/login", {"email": email("member_a2"), "password": PASSWORD}).status_code == 401
    second = link_of(admin.post(f"/admin/users/{uid}/reset-password"))
    path, path2 = link.removeprefix("http://localhost"), second.removeprefix("http://localhost")
    assert fresh.get(path).status_code == 410  # replaced by the newer link
    fresh.get(path2)
    assert fresh.post(path2, {"password": NEW, "confirm": NEW}).status_code == 302
    fresh.login(email("member_a2"), NEW)
    issued = events(app, "password_reset_issued")
    assert len(issued) == 2 and issued[0].agency_id == world.agency_a
    assert "waiting to be used" not in admin.get(f"/admin/users/{uid}").data.decode()


def test_admin_cannot_lock_itself_out(app, admin, world):
    me = world.users["admin"]
    resp = admin.post(f"/admin/users/{me}/deactivate")
    assert resp.status_code == 409 and "your own account" in resp.data.decode()
    assert admin.post(f"/admin/users/{me}/reset-password").status_code == 409
    assert admin.get("/admin/").status_code == 200


# --- Supervisor: members of its own agency only -------------------------------------------------------------------


def test_supervisor_sees_only_its_agency_members(app, supervisor, world):
    body = supervisor.get("/admin/users").data.decode()
    assert email("member_a1") in body and email("member_a2") in body
    for other in ("member_b1", "supervisor_b", "trainer_a", "admin"):
        assert email(other) not in body, other
    assert supervisor.get(f"/admin/users?agency={world.agency_b}").data.decode().count(email("member_b1")) == 0
    assert supervisor.get("/admin/").status_code == 302


@pytest.mark.parametrize("target", ["member_b1", "supervisor_b", "trainer_a", "admin", "supervisor_a"])
def test_supervisor_cannot_touch_other_accounts(app, supervisor, world, target):
    uid = world.users[target]
    assert supervisor.get(f"/admin/users/{uid}").status_code == 404
    for action in ("deactivate", "reactivate", "reset-password"):
        assert supervisor.post(f"/admin/users/{uid}/{action}").status_code == 404
    with app.app_context():
        u = db.session.get(User, uid)
        assert u.active and u.session_epoch == 0 and u.password_hash is not None


def test_supervisor_manages_its_members(app, supervisor, world, make_browser):
    resp = new_user(supervisor, email="recruit@agency-a.example", agency=str(world.agency_a), unit=str(world.unit_a2))
    assert resp.status_code == 200 and link_of(resp)
    with app.app_context():
        recruit = db.session.scalars(select(User).where(User.email == "recruit@agency-a.example")).one()
        assert (recruit.role, recruit.agency_id, recruit.unit_id) == ("member", world.agency_a, world.unit_a2)
    uid = world.users["member_a2"]
    assert supervisor.post(f"/admin/users/{uid}/deactivate").status_code == 302
    assert supervisor.post(f"/admin/users/{uid}/reactivate").status_code == 302
    assert link_of(supervisor.post(f"/admin/users/{uid}/reset-password"))
    # the supervisor's audit log shows its agency's account changes
    body = supervisor.get("/audit/").data.decode()
    for action in ("user_created", "user_deactivated", "user_reactivated", "password_reset_issued"):
        assert action in body


@pytest.mark.parametrize("role", ["supervisor", "admin", "trainer"])
def test_supervisor_cannot_create_other_roles(app, supervisor, world, role):
    resp = new_user(supervisor, role=role, agency=str(world.agency_a), unit=str(world.unit_a1))
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == "new.person@police.example")).first() is None


def test_supervisor_cannot_create_in_another_agency(app, supervisor, world):
    assert new_user(supervisor, agency=str(world.agency_b), unit=str(world.unit_b1)).status_code == 422
    assert new_user(supervisor, agency=str(world.agency_a), unit=str(world.unit_b1)).status_code == 422
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == "new.person@police.example")).first() is None


def test_supervisor_cannot_manage_agencies_or_units(app, supervisor, world):
    assert supervisor.post("/admin/agencies", {"name": "Mine"}).status_code == 403
    assert supervisor.get(f"/admin/agencies/{world.agency_a}").status_code == 403
    assert supervisor.post(f"/admin/agencies/{world.agency_a}/rename", {"agency-name": "X"}).status_code == 403
    assert supervisor.post(f"/admin/agencies/{world.agency_a}/units", {"unit-name": "X"}).status_code == 403
    assert supervisor.post(f"/admin/units/{world.unit_a1}/rename", {"name": "X"}).status_code == 403


@pytest.mark.parametrize("who", ["member_a1", "trainer_a"])
def test_others_have_no_administration(app, world, make_browser, who):
    b = make_browser()
    b.login(email(who))
    assert b.get("/admin/users").status_code == 403
    assert b.get(f"/admin/users/{world.users['member_a2']}").status_code == 403
    body = b.get("/about").data.decode()
    assert "/admin/" not in body and "/account/password" in body


def test_navigation_links(app, admin, supervisor):
    body = admin.get("/").data.decode()
    assert 'href="/admin/"' in body and ">Administration<" in body
    assert 'href="/admin/users">Members<' in supervisor.get("/assessments/").data.decode()


def test_pages_render(app, admin, world):
    for url in ("/admin/", f"/admin/agencies/{world.agency_a}", "/admin/users", "/admin/users/new",
                f"/admin/users/new?agency={world.agency_b}", f"/admin/users/{world.users['member_b1']}"):
        resp = admin.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "no-store"


def test_link_is_not_stored_in_clear(app, admin, world):
    link = link_of(new_user(admin, agency=str(world.agency_a), unit=str(world.unit_a1)))
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalars(select(PasswordToken)).one()
        assert token not in stored.token_hash
    assert token not in (admin.client.get_cookie("thb_session").value or "")


# --- Hostile input in every admin text field -----------------------------------------------------------------------

HOSTILE = {
    "html": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "nul": "before\x00after",
    "rtl": "abc\u202eevil.exe\u202c",
    "zero-width": "in\u200bvisible\u200d",
    "1mb": "A" * 1_000_000,
    "sql": "'; DROP TABLE user_account; --",
}


def check(resp) -> None:
    assert resp.status_code < 500, resp.status_code
    body = resp.data.decode("utf-8", "replace")
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "Traceback" not in body


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_input_in_admin_fields(app, admin, world, kind):
    value = HOSTILE[kind]
    expect_refusal = kind in ("nul", "rtl", "zero-width", "1mb")
    attempts = [
        admin.post("/admin/agencies", {"name": value}),
        admin.post(f"/admin/agencies/{world.agency_b}/rename", {"agency-name": value + " B"}),
        admin.post(f"/admin/agencies/{world.agency_a}/units", {"unit-name": value}),
        admin.post(f"/admin/units/{world.unit_b1}/rename", {"name": value + " B1"}),
        new_user(admin, name=value, agency=str(world.agency_a), unit=str(world.unit_a1)),
        new_user(admin, email=value, agency=str(world.agency_a), unit=str(world.unit_a1)),
        new_user(admin, email="x@y.example", name="X", role=value, agency=value, unit=value),
        admin.get("/admin/users", query_string={"agency": value[:2000]}),
    ]
    for resp in attempts:
        check(resp)
    codes = [r.status_code for r in attempts[:6]]
    if expect_refusal:
        assert all(400 <= c < 500 for c in codes), codes
        if kind != "nul":
            assert "invisible" in attempts[0].data.decode() or "at most" in attempts[0].data.decode()
    elif kind == "html":
        assert codes[:5] == [302, 302, 302, 302, 200] and codes[5] == 422  # not an e-mail address
    for url in ("/admin/", f"/admin/agencies/{world.agency_a}", f"/admin/agencies/{world.agency_b}",
                "/admin/users", "/audit/"):
        shown = admin.get(url)
        assert shown.status_code == 200
        check(shown)
    if kind == "html":
        assert "&lt;script&gt;alert" in admin.get("/admin/").data.decode()
    with app.app_context():
        for name in db.session.scalars(select(Agency.name)):
            assert "\x00" not in name and "\u202e" not in name and "\u200b" not in name


def test_supervisor_is_told_nothing_about_another_agencys_accounts(app, supervisor, world, monkeypatch):
    """An e-mail used in another agency: refused with a message that names no account and no agency."""
    resp = new_user(supervisor, email=email("member_b1").upper(), agency=str(world.agency_a), unit=str(world.unit_a1))
    body = resp.data.decode()
    assert resp.status_code == 422 and "cannot be used for a new account" in body
    assert "already exists" not in body and "Agency B" not in body and "Unit B1" not in body
    # An account of the supervisor's own agency may be named: it is in the supervisor's own list.
    resp = new_user(supervisor, email=email("member_a2"), agency=str(world.agency_a), unit=str(world.unit_a1))
    assert resp.status_code == 422 and "already exists in your agency" in resp.data.decode()
    # The same when the other agency's account is inserted between the check and the insert.
    monkeypatch.setattr(services, "_email_taken", lambda *a, **k: False)
    resp = new_user(supervisor, email=email("supervisor_b"), agency=str(world.agency_a), unit=str(world.unit_a1))
    body = resp.data.decode()
    assert resp.status_code == 422 and "cannot be used for a new account" in body and "already exists" not in body
    assert supervisor.get("/admin/users").status_code == 200  # the session is usable afterwards
