"""`flask agencies|units|users`: the same administration from the command line, audited as "cli"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import db
from app.models import Agency, AuditEvent, Unit, User

from .conftest import PASSWORD, Browser, email

LINK_RE = re.compile(r"^(https?://\S+/set-password/([A-Za-z0-9_-]{43}))$", re.M)
NEW = "tram lantern quietly 1987"


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def audit_actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.actor) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_full_setup_from_the_cli(app, world):
    out = run(app, "agencies", "create", "Customs Service")
    assert out.exit_code == 0, out.output
    agency_id = int(re.search(r"Created agency (\d+)", out.output).group(1))
    out = run(app, "agencies", "rename", str(agency_id), "Customs and Excise")
    assert out.exit_code == 0 and "Customs and Excise" in out.output
    out = run(app, "units", "create", str(agency_id), "Ports Unit")
    assert out.exit_code == 0, out.output
    unit_id = int(re.search(r"Created unit (\d+)", out.output).group(1))
    assert run(app, "units", "rename", str(unit_id), "Ports and Airports").exit_code == 0
    listing = run(app, "agencies", "list").output
    assert "Customs and Excise" in listing and "Ports and Airports" in listing

    out = run(app, "users", "create", "Chief@Customs.Example", "--name", "Chief", "--role", "member",
              "--agency", str(agency_id), "--unit", str(unit_id), "--base-url", "https://thb.police.example/")
    assert out.exit_code == 0, out.output
    m = LINK_RE.search(out.output)
    assert m and m.group(1).startswith("https://thb.police.example/set-password/")
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "chief@customs.example")).one()
        assert (user.agency_id, user.unit_id, user.role, user.password_hash) == (agency_id, unit_id, "member", None)
        assert db.session.get(Agency, agency_id).name == "Customs and Excise"
        assert db.session.get(Unit, unit_id).name == "Ports and Airports"

    b = Browser(app.test_client())
    path = f"/set-password/{m.group(2)}"
    b.get(path)
    assert b.post(path, {"password": NEW, "confirm": NEW}).status_code == 302
    b.login("chief@customs.example", NEW)

    actions = audit_actions(app)
    for action in ("agency_created", "agency_renamed", "unit_created", "unit_renamed", "user_created"):
        assert (action, "cli") in actions, action
    with app.app_context():
        for e in db.session.scalars(select(AuditEvent)):
            assert m.group(2) not in e.detail and NEW not in e.detail
            if e.actor == "cli":
                assert e.user_id is None and e.ip == "cli"


def test_base_url_from_config(app, world):
    app.config["BASE_URL"] = "https://assess.internal:8443/thb"
    out = run(app, "users", "create", "t@a.example", "--name", "T", "--role", "trainer", "--agency",
              str(world.agency_a))
    assert out.exit_code == 0, out.output
    assert re.search(r"^https://assess\.internal:8443/thb/set-password/\S{43}$", out.output, re.M)


def test_link_on_the_configured_base_url(app, world):
    out = run(app, "users", "reset-password", email("member_a1"))
    assert out.exit_code == 0, out.output
    assert re.search(r"^http://localhost/set-password/\S{43}$", out.output, re.M)  # conftest's BASE_URL


def test_deactivate_reactivate_and_reset(app, world, make_browser):
    victim = make_browser()
    victim.login(email("member_a1"))
    out = run(app, "users", "deactivate", email("member_a1").upper())
    assert out.exit_code == 0 and "Deactivated" in out.output
    assert victim.get("/assessments/").status_code == 302
    assert "already" in run(app, "users", "deactivate", email("member_a1")).output
    assert run(app, "users", "reactivate", email("member_a1")).exit_code == 0
    make_browser().login(email("member_a1"))

    out = run(app, "users", "reset-password", email("member_a1"), "--base-url", "http://localhost")
    assert out.exit_code == 0 and LINK_RE.search(out.output)
    fresh = make_browser()
    fresh.get("/login")
    assert fresh.post("/login", {"email": email("member_a1"), "password": PASSWORD}).status_code == 401
    actions = audit_actions(app)
    for action in ("user_deactivated", "user_reactivated", "password_reset_issued"):
        assert (action, "cli") in actions, action


@pytest.mark.parametrize("args", [
    ("agencies", "create", ""),
    ("agencies", "create", "Agency A"),
    ("agencies", "create", "bad\u202ename"),
    ("agencies", "create", "x" * 300),
    ("agencies", "rename", "abc", "X"),
    ("agencies", "rename", "999", "X"),
    ("agencies", "rename", "0", "X"),
    ("units", "create", "999", "X"),
    ("units", "create", "1", "Unit A1"),
    ("units", "rename", "999", "X"),
    ("users", "create", "not-an-email", "--name", "X", "--role", "trainer", "--agency", "1"),
    ("users", "create", "member_a1@example.org", "--name", "X", "--role", "trainer", "--agency", "1"),
    ("users", "create", "a@b.example", "--name", "X", "--role", "wizard", "--agency", "1"),
    ("users", "create", "a@b.example", "--name", "X", "--role", "member", "--agency", "1"),
    ("users", "create", "a@b.example", "--name", "X", "--role", "member", "--agency", "1", "--unit", "3"),
    ("users", "create", "a@b.example", "--name", "X", "--role", "member", "--agency", "x"),
    ("users", "create", "a@b.example", "--name", "X", "--role", "trainer", "--agency", "1", "--base-url", "ftp://x"),
    ("users", "deactivate", "nobody@example.org"),
    ("users", "reactivate", "nobody@example.org"),
    ("users", "reset-password", "nobody@example.org"),
])
def test_bad_input_exits_1_with_a_message(app, world, args):
    before = audit_actions(app)
    out = run(app, *args)
    assert out.exit_code == 1, (out.exit_code, out.output)
    assert out.output.startswith("Error: ") and "Traceback" not in out.output
    assert audit_actions(app) == before  # nothing recorded, nothing changed
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == "a@b.example")).first() is None
