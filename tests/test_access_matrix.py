"""Access matrix generated from the app's own URL map: every route × every role (and anonymous) × objects of
the user's own unit, another unit of the same agency and another agency. Fails when a route has no entry here.

To add a route: add a Route to ROUTES with the roles and scopes that may use it. Scopes:
- "own": an object of the user's own unit (member) or own agency (supervisor) or made by the user (trainer);
- "sibling": an object of another unit of the same agency (or another trainer of the same agency);
- "foreign": an object of another agency;
- "-": the route takes no object.
For administration objects: "user" own/sibling/foreign = a member of unit A1 / of unit A2 (same agency) / of
agency B, so for a supervisor "own" and "sibling" are members of its own agency; "unit" = unit A1 / A2 / B1;
"agency" = agency A / agency A again (an agency has no sibling) / agency B.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.db import db
from app.models import Assessment, Role, Status, User

from .conftest import Browser, World, email

ROLES = ("anon", "member", "supervisor", "trainer", "admin")
USER_OF_ROLE = {"member": "member_a1", "supervisor": "supervisor_a", "trainer": "trainer_a", "admin": "admin"}
ALL = {"own", "sibling", "foreign"}
NONE: set[str] = set()


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str  # with {id} where an object id goes
    kind: str  # which object factory fills {id}; "-" for none
    allowed: dict[str, set[str]]  # role -> scopes allowed ("-" for object-less routes)
    data: dict[str, str] = field(default_factory=dict)  # form data for POST (kept invalid where it would change state)


def everyone(*roles: str) -> dict[str, set[str]]:
    return {r: {"-"} for r in roles}


LOGGED_IN = ("member", "supervisor", "trainer", "admin")
UNIT_ROLES = {"member": {"own"}, "supervisor": {"own", "sibling"}}
ADMIN_ONLY = {"admin": ALL}
USER_MANAGERS = {"admin": ALL, "supervisor": {"own", "sibling"}}  # a supervisor manages its agency's members
TRAINER_OWN = {"trainer": {"own"}}
MEMBER_OWN = {"member": {"own"}}

ROUTES: list[Route] = [
    Route("main.index", "GET", "/", "-", everyone(*LOGGED_IN)),  # anonymous: sent to the login page
    Route("main.health", "GET", "/healthz", "-", everyone(*ROLES)),
    Route("main.about", "GET", "/about", "-", everyone(*LOGGED_IN)),
    Route("main.accessibility", "GET", "/accessibility", "-", everyone(*ROLES)),
    Route("main.choose_language", "POST", "/language", "-", everyone(*ROLES), {"language": "xx", "next": "/"}),
    Route("auth.login", "GET", "/login", "-", everyone(*ROLES)),
    Route("auth.login", "POST", "/login", "-", everyone(*ROLES), {"email": "", "password": ""}),
    Route("auth.logout", "POST", "/logout", "-", everyone(*LOGGED_IN)),
    Route("auth.ping", "GET", "/session/ping", "-", everyone(*LOGGED_IN)),
    Route("assessments.index", "GET", "/assessments/", "-", everyone("member", "supervisor")),
    Route("assessments.create", "POST", "/assessments/new", "-", everyone("member", "supervisor"),
          {"title": ""}),
    Route("assessments.overview", "GET", "/assessments/{id}", "assessment", UNIT_ROLES),
    Route("assessments.section", "GET", "/assessments/{id}/section/1", "assessment", UNIT_ROLES),
    Route("assessments.resume", "GET", "/assessments/{id}/continue", "assessment", UNIT_ROLES),
    Route("assessments.section", "POST", "/assessments/{id}/section/1", "assessment", UNIT_ROLES,
          {"target": "99"}),
    Route("assessments.autosave", "POST", "/assessments/{id}/section/1/autosave", "assessment", UNIT_ROLES,
          {"target": "99"}),
    Route("assessments.review", "GET", "/assessments/{id}/review", "assessment", UNIT_ROLES),
    Route("assessments.submit", "POST", "/assessments/{id}/submit", "assessment", UNIT_ROLES),
    Route("assessments.signoff", "POST", "/assessments/{id}/signoff", "assessment",
          {"supervisor": {"own", "sibling"}}, {"remark": ""}),  # drafts: refused by state, not access
    Route("assessments.reopen", "POST", "/assessments/{id}/reopen", "assessment",
          {"supervisor": {"own", "sibling"}}, {"reason": ""}),
    Route("auditlog.index", "GET", "/audit/", "-", everyone("supervisor", "admin")),
    Route("auditlog.export_csv", "GET", "/audit/export.csv", "-", everyone("supervisor", "admin")),
    Route("reports.results", "GET", "/assessments/{id}/results", "assessment", UNIT_ROLES),
    Route("reports.pdf", "GET", "/assessments/{id}/report.pdf", "assessment", UNIT_ROLES),
    Route("reports.export_json", "GET", "/assessments/{id}/export.json", "assessment", UNIT_ROLES),
    Route("reports.docx", "GET", "/assessments/{id}/report.docx", "assessment", UNIT_ROLES),
    Route("reports.export_csv", "GET", "/assessments/{id}/export.csv", "assessment", UNIT_ROLES),
    Route("reports.export_xlsx", "GET", "/assessments/{id}/export.xlsx", "assessment", UNIT_ROLES),
    # Supervisors: agency-wide pages and downloads are theirs alone; trends and comparisons follow the
    # assessment's scope (a member's own unit, a supervisor's agency).
    Route("supervisor.dashboard", "GET", "/agency/", "-", everyone("supervisor")),
    Route("supervisor.agency_pdf", "GET", "/agency/report.pdf", "-", everyone("supervisor")),
    Route("supervisor.agency_pdf_status", "GET", "/agency/report.pdf/status", "-", everyone("supervisor")),
    Route("supervisor.agency_csv", "GET", "/agency/export.csv", "-", everyone("supervisor")),
    Route("supervisor.agency_xlsx", "GET", "/agency/export.xlsx", "-", everyone("supervisor")),
    Route("supervisor.agency_zip", "GET", "/agency/reports.zip", "-", everyone("supervisor")),
    Route("supervisor.trend", "GET", "/units/{id}/trend", "unit", UNIT_ROLES),
    Route("supervisor.compare", "GET", "/compare?a={id}&b={id}", "assessment", UNIT_ROLES),
    # Accounts and administration. The set-password page is public; an unknown token is a 400 for everyone.
    Route("account.set_password", "GET", "/set-password/not-a-real-token", "-", everyone(*ROLES)),
    Route("account.set_password", "POST", "/set-password/not-a-real-token", "-", everyone(*ROLES),
          {"password": ""}),
    Route("account.change_password", "GET", "/account/password", "-", everyone(*LOGGED_IN)),
    Route("account.change_password", "POST", "/account/password", "-", everyone(*LOGGED_IN), {"current": ""}),
    Route("admin.index", "GET", "/admin/", "-", everyone("admin", "supervisor")),
    Route("admin.agency_create", "POST", "/admin/agencies", "-", everyone("admin"), {"name": ""}),
    Route("admin.agency", "GET", "/admin/agencies/{id}", "agency", ADMIN_ONLY),
    Route("admin.agency_rename", "POST", "/admin/agencies/{id}/rename", "agency", ADMIN_ONLY,
          {"agency-name": ""}),
    Route("admin.unit_create", "POST", "/admin/agencies/{id}/units", "agency", ADMIN_ONLY, {"unit-name": ""}),
    Route("admin.unit_rename", "POST", "/admin/units/{id}/rename", "unit", ADMIN_ONLY, {"name": ""}),
    Route("admin.users", "GET", "/admin/users", "-", everyone("admin", "supervisor")),
    Route("admin.user_create", "GET", "/admin/users/new", "-", everyone("admin", "supervisor")),
    Route("admin.user_create", "POST", "/admin/users/new", "-", everyone("admin", "supervisor"), {"email": ""}),
    Route("admin.user", "GET", "/admin/users/{id}", "user", USER_MANAGERS),
    Route("admin.user_deactivate", "POST", "/admin/users/{id}/deactivate", "user", USER_MANAGERS),
    Route("admin.user_reactivate", "POST", "/admin/users/{id}/reactivate", "user", USER_MANAGERS),
    Route("admin.user_reset", "POST", "/admin/users/{id}/reset-password", "user", USER_MANAGERS),
    # Workshops. Participant pages are public routes, but without the participant cookie of that workshop
    # they refuse everyone (403), whatever the login. Whoever holds a join code may open its join link.
    # Trainers see only the workshops they created ("own"); another trainer of the same agency ("sibling")
    # does not, nor does any other role.
    Route("workshops.join_form", "GET", "/w/", "-", everyone(*ROLES)),
    Route("workshops.join", "POST", "/w/join", "-", everyone(*ROLES), {"code": ""}),
    Route("workshops.join_link", "GET", "/w/j/{id}", "workshop_code", {r: ALL for r in ROLES}),
    Route("workshops.participant_home", "GET", "/w/{id}/", "workshop", {}),
    Route("workshops.answer", "GET", "/w/{id}/r/1", "workshop", {}),
    Route("workshops.answer", "POST", "/w/{id}/r/1", "workshop", {}, {"ft": "x"}),
    Route("workshops.participant_status", "GET", "/w/{id}/status", "workshop", {}),
    Route("workshops.index", "GET", "/workshops/", "-", everyone("trainer")),
    Route("workshops.create", "GET", "/workshops/new", "-", everyone("trainer")),
    Route("workshops.create", "POST", "/workshops/new", "-", everyone("trainer"), {"title": ""}),
    Route("workshops.board", "GET", "/workshops/{id}", "workshop", TRAINER_OWN),
    Route("workshops.board_fragment", "GET", "/workshops/{id}/board/fragment", "workshop", TRAINER_OWN),
    Route("workshops.join_screen", "GET", "/workshops/{id}/join-screen", "workshop", TRAINER_OWN),
    Route("workshops.qr", "GET", "/workshops/{id}/qr.svg", "workshop", TRAINER_OWN),
    Route("workshops.pace", "POST", "/workshops/{id}/pace", "workshop", TRAINER_OWN, {"rec": "r99"}),
    Route("workshops.consensus", "GET", "/workshops/{id}/consensus", "workshop", TRAINER_OWN),
    Route("workshops.consensus", "POST", "/workshops/{id}/consensus", "workshop", TRAINER_OWN, {"c_x": "9"}),
    Route("workshops.convert", "POST", "/workshops/{id}/convert", "workshop", TRAINER_OWN, {"unit": "0"}),
    Route("workshops.report", "GET", "/workshops/{id}/report", "workshop", TRAINER_OWN),
    Route("workshops.report_pdf", "GET", "/workshops/{id}/report.pdf", "workshop", TRAINER_OWN),
    Route("workshops.close", "POST", "/workshops/{id}/close", "workshop", TRAINER_OWN),  # last: changes state
    Route("workshops.reopen", "POST", "/workshops/{id}/reopen", "workshop", TRAINER_OWN),
    # Action plans: the unit's members change them; the agency's supervisors read them and remark on actions.
    Route("actions.adopt", "GET", "/assessments/{id}/actions/new?rec=r1", "assessment", MEMBER_OWN),
    Route("actions.adopt", "POST", "/assessments/{id}/actions/new?rec=r1", "assessment", MEMBER_OWN,
          {"title": ""}),
    Route("actions.plan", "GET", "/units/{id}/plan", "unit", UNIT_ROLES),
    Route("actions.plan_csv", "GET", "/units/{id}/plan.csv", "unit", UNIT_ROLES),
    Route("actions.plan_xlsx", "GET", "/units/{id}/plan.xlsx", "unit", UNIT_ROLES),
    Route("actions.plan_ics", "GET", "/units/{id}/plan.ics", "unit", UNIT_ROLES),
    Route("actions.plan_pdf", "GET", "/units/{id}/plan.pdf", "unit", UNIT_ROLES),
    Route("actions.edit", "GET", "/actions/{id}/edit", "action", MEMBER_OWN),
    Route("actions.edit", "POST", "/actions/{id}/edit", "action", MEMBER_OWN, {"title": ""}),
    Route("actions.remark", "POST", "/actions/{id}/remark", "action", {"supervisor": {"own", "sibling"}},
          {"remark": ""}),
    Route("actions.decide", "POST", "/actions/{id}/proposal", "action", MEMBER_OWN, {"decision": "adopt"}),
]


def _assessment(world: World, scope: str) -> int:
    unit = {"own": world.unit_a1, "sibling": world.unit_a2, "foreign": world.unit_b1}[scope]
    a = Assessment(unit_id=unit, title=f"{scope} assessment", content_version="2026.1",
                   status=Status.DRAFT.value)
    db.session.add(a)
    db.session.flush()
    return a.id


def _workshop_obj(world: World, scope: str) -> Any:
    """own: made by trainer_a; sibling: by another trainer of agency A; foreign: by a trainer of agency B."""
    from sqlalchemy import select

    from app.content.current import current
    from app.workshops.services import create_workshop

    trainer = db.session.get(User, world.users["trainer_a"])
    if scope != "own":
        mail = f"trainer-{scope}@example.org"
        trainer = db.session.scalars(select(User).where(User.email == mail)).first() or User(
            email=mail, name=f"Trainer {scope}", role=Role.TRAINER.value, password_hash=None, active=True,
            agency_id=world.agency_a if scope == "sibling" else world.agency_b)
        db.session.add(trainer)
        db.session.flush()
    return create_workshop(db.session, trainer, f"{scope} workshop", current(), ["r1", "r2"], "all", 12)


def _workshop(world: World, scope: str) -> int:
    return _workshop_obj(world, scope).id


def _workshop_code(world: World, scope: str) -> str:
    return _workshop_obj(world, scope).code


def _managed_user(world: World, scope: str) -> int:
    unit, agency = {"own": (world.unit_a1, world.agency_a), "sibling": (world.unit_a2, world.agency_a),
                    "foreign": (world.unit_b1, world.agency_b)}[scope]
    u = User(email=f"managed-{scope}@example.org", name=f"Managed {scope}", role=Role.MEMBER.value,
             agency_id=agency, unit_id=unit, active=True)
    db.session.add(u)
    db.session.flush()
    return u.id


def _action(world: World, scope: str) -> int:
    """An action of unit A1 (own), A2 (sibling) or B1 (foreign), for recommendation r1."""
    from app.actions.models import ActionItem

    unit = {"own": world.unit_a1, "sibling": world.unit_a2, "foreign": world.unit_b1}[scope]
    item = ActionItem(unit_id=unit, recommendation_id="r1", content_version="2026.1", title=f"{scope} action",
                      description="", owner_name="", status="planned", drop_reason="", progress_note="",
                      evidence="", supervisor_remark="")
    db.session.add(item)
    db.session.flush()
    return item.id


def _unit(world: World, scope: str) -> int:
    return {"own": world.unit_a1, "sibling": world.unit_a2, "foreign": world.unit_b1}[scope]


def _agency(world: World, scope: str) -> int:
    return {"own": world.agency_a, "sibling": world.agency_a, "foreign": world.agency_b}[scope]


# kind -> factory(world, scope) -> object id, run inside an app context; extended by other features' tests.
FACTORIES: dict[str, Callable[[World, str], Any]] = {"assessment": _assessment, "workshop": _workshop,
                                                     "workshop_code": _workshop_code, "user": _managed_user,
                                                     "unit": _unit, "agency": _agency, "action": _action}


def _objects(app, world: World) -> dict[tuple[str, str], Any]:
    kinds = {r.kind for r in ROUTES if r.kind != "-"}
    out: dict[tuple[str, str], Any] = {}
    with app.app_context(), db.writing():
        for kind in kinds:
            for scope in sorted(ALL):
                out[(kind, scope)] = FACTORIES[kind](world, scope)
    return out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_route_has_an_entry(app):
    have = {(r.endpoint, r.method) for r in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in have:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "routes without an access-matrix entry: " + ", ".join(missing)


def _is_allowed(resp: Any) -> bool:
    if resp.status_code in (401, 403, 404):
        return False
    return not (resp.status_code == 302 and "/login" in resp.headers.get("Location", "") and
                resp.request.path != "/login")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, world, role):
    objects = _objects(app, world)
    browser = Browser(app.test_client())
    if role != "anon":
        browser.login(email(USER_OF_ROLE[role]))
    leaks, refusals = [], []
    for route in ROUTES:
        scopes = ["-"] if route.kind == "-" else sorted(ALL)
        for scope in scopes:
            url = route.path if scope == "-" else route.path.format(id=objects[(route.kind, scope)])
            if route.endpoint == "auth.logout":
                continue  # checked separately: it would end this browser's session
            resp = browser.get(url) if route.method == "GET" else browser.post(url, dict(route.data))
            resp.get_data()  # drain streamed downloads and close them before the next request
            resp.close()
            allowed = _is_allowed(resp)
            expected = scope in route.allowed.get(role, set())
            if allowed and not expected:
                leaks.append(f"{route.method} {url} [{scope}] -> {resp.status_code}")
            elif expected and not allowed:
                refusals.append(f"{route.method} {url} [{scope}] -> {resp.status_code}")
    assert leaks == [], f"{role} reached what it must not: {leaks}"
    assert refusals == [], f"{role} was refused what it may do: {refusals}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_logout_needs_login(app, world):
    anon = Browser(app.test_client())
    assert anon.post("/logout").status_code == 401


# --- Object scopes decided in access.py, per role, with and without an agency ----------------------------------
# role, has an agency -> (audit events seen: agencies "A", "B" or "none"; units a workshop may be converted into)
SCOPE_RULES: dict[tuple[str, bool], tuple[set[str], set[str]]] = {
    ("admin", True): ({"A", "B", "none"}, set()),
    ("admin", False): ({"A", "B", "none"}, set()),
    ("supervisor", True): ({"A"}, set()),
    ("supervisor", False): (set(), set()),  # not the events that have no agency either
    ("trainer", True): (set(), {"Unit A1", "Unit A2"}),
    ("trainer", False): (set(), set()),
    ("member", True): (set(), set()),
    ("member", False): (set(), set()),
}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("role", "with_agency"), sorted(SCOPE_RULES))
def test_scope_rules(app, world, role, with_agency):

    from app.access import scope_audit_events, scope_conversion_units
    from app.models import AuditEvent

    with app.app_context():
        for label, agency in (("A", world.agency_a), ("B", world.agency_b), ("none", None)):
            db.session.add(AuditEvent(action="scope_test", object_type=label, agency_id=agency))
        db.session.flush()
        user = User(id=999, role=role, agency_id=world.agency_a if with_agency else None,
                    unit_id=world.unit_a1 if role == "member" and with_agency else None)
        events = db.session.scalars(scope_audit_events(user).where(AuditEvent.action == "scope_test")).all()
        units = db.session.scalars(scope_conversion_units(user)).all()
        assert ({e.object_type for e in events}, {u.name for u in units}) == SCOPE_RULES[(role, with_agency)]
        db.session.rollback()
