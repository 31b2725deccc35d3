"""Demo data for `make run`: one agency, two units, a user per role, submitted and draft assessments, and the
Anti-Trafficking Unit's action plan (one action done between its two assessments, one in progress, one overdue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actions import services as action_services
from .actions.models import ActionItem
from .assessments import services
from .content import Content
from .models import Agency, Answer, Assessment, Role, Unit, User
from .passwords import hash_password
from .scoring import score

DEMO_AGENCY = "Demo National Police"
DEMO_USERS = (
    # email, name, role, unit index (None = agency-wide), password
    ("member@demo.example", "Maria Member", Role.MEMBER, 0, "demo-member-pass"),
    ("cyber@demo.example", "Carlos Cyber", Role.MEMBER, 1, "demo-cyber-pass"),
    ("supervisor@demo.example", "Sofia Supervisor", Role.SUPERVISOR, None, "demo-supervisor-pass"),
    ("trainer@demo.example", "Tomas Trainer", Role.TRAINER, None, "demo-trainer-pass"),
    ("admin@demo.example", "Ada Admin", Role.ADMIN, None, "demo-admin-pass"),
)
UNITS = ("Anti-Trafficking Unit", "Cybercrime Unit")

# Per recommendation: one answer per question, in question order (levels, "na" or "unknown").
SUBMITTED_2025 = {
    "r1": ["2", "1", "1", "unknown"], "r2": ["1", "0", "1", "2"], "r3": ["3", "2", "2", "1"],
    "r4": ["1", "0", "unknown", "0"], "r5": ["2", "1", "2", "1"], "r6": ["3", "na", "1", "2"],
    "r7": ["1", "1", "0", "unknown"], "r8": ["2", "2", "1", "0"], "r9": ["2", "1", "2", "1"],
    "r10": ["0", "1", "1", "0"],
}
SUBMITTED_2026 = {
    "r1": ["3", "2", "2", "2"], "r2": ["2", "1", "2", "2"], "r3": ["3", "3", "2", "2"],
    "r4": ["2", "1", "1", "0"], "r5": ["3", "2", "2", "1"], "r6": ["3", "na", "2", "2"],
    "r7": ["2", "2", "1", "unknown"], "r8": ["2", "3", "1", "1"], "r9": ["3", "2", "3", "2"],
    "r10": ["1", "1", "2", "0"],
}
CYBER_2026 = {
    "r1": ["3", "3", "2", "2"], "r2": ["2", "2", "1", "1"], "r3": ["2", "2", "1", "1"],
    "r4": ["3", "3", "2", "2"], "r5": ["1", "1", "1", "unknown"], "r6": ["na", "na", "na", "na"],
    "r7": ["3", "2", "2", "2"], "r8": ["1", "0", "0", "0"], "r9": ["3", "3", "2", "2"],
    "r10": ["2", "2", "1", "1"],
}
COMMENTS = {
    "r1_threat_assessment": ("Last written assessment dates from 2023; stage breakdown missing for money laundering.",
                             "Threat assessment 2023, section 4"),
    "r4_dsa_instruments": ("We have never used a DSA order; legal service unsure about the procedure.", ""),
    "r7_tool_safeguards": ("Image-matching tool used without an impact assessment.", "Tool inventory, March"),
    "r10_device_checks": ("NGO partner offers stalkerware checks, but we do not refer victims to it.", ""),
}


def _fill(session: Session, content: Content, unit: Unit, user: User, title: str, plan: dict[str, list[str]],
          *, submitted_at: datetime | None, targets: dict[str, int] | None = None,
          upto: int | None = None) -> Assessment:
    a = services.create_assessment(session, unit, title, user, content)
    a.created_at = (submitted_at or datetime.now(UTC)) - timedelta(days=20)
    for rec in content.recommendations[:upto]:
        for q, value in zip(rec.questions, plan[rec.id], strict=False):
            comment, evidence = COMMENTS.get(q.id, ("", ""))
            session.add(Answer(assessment_id=a.id, question_id=q.id, value=value, comment=comment,
                               evidence=evidence, rev=1, updated_by_id=user.id,
                               updated_at=a.created_at + timedelta(days=7)))  # answered before it was submitted
    for t in a.targets:
        t.target = (targets or {}).get(t.recommendation_id, 3)
    session.flush()
    if submitted_at is not None:
        services.submit(session, a, user, content)
        a.submitted_at = submitted_at
    return a


def _suggested(content: Content, rec_id: str, plan: dict[str, list[str]], pick: int = 0) -> tuple[str, str]:
    """One of the content's suggested actions for the level the recommendation reached in ``plan`` (the one the
    gap report offers), as (title, what is to be done)."""
    rec = content.recommendation_by_id[rec_id]
    values = {q.id: v for q, v in zip(rec.questions, plan[rec_id], strict=False)}
    current = score(content, values, {}).by_id[rec_id].current
    suggested = action_services.suggestions(content, rec, current)[1] or [rec.short_title]
    text = suggested[min(pick, len(suggested) - 1)]
    return (text if len(text) <= 120 else text[:119] + "…"), text


def _plan(session: Session, content: Content, unit: Unit, member: User, first: Assessment, second: Assessment,
          now: datetime) -> None:
    """A small action plan so a new user sees the loop: an action finished between the two submissions on a
    recommendation that then rose (r1), one in progress and one overdue on gaps of the latest assessment."""
    today = now.date()
    rows = [
        ("r1", first, SUBMITTED_2025, dict(status="done", owner_id=member.id, due_date=today - timedelta(days=150),
                                           evidence="Threat assessment 2026, approved by the head of unit",
                                           done_at=now - timedelta(days=160))),
        ("r4", second, SUBMITTED_2026, dict(status="in_progress", owner_id=member.id,
                                            due_date=today + timedelta(days=45),
                                            progress_note="Legal service drafting the procedure note.")),
        ("r7", second, SUBMITTED_2026, dict(status="planned", owner_name="Head of the digital forensics team",
                                            due_date=today - timedelta(days=10))),
    ]
    for rec_id, a, plan, extra in rows:
        title, description = _suggested(content, rec_id, plan)
        created = (a.submitted_at or now) + timedelta(days=2)
        session.add(ActionItem(unit_id=unit.id, recommendation_id=rec_id, content_version=content.version,
                               assessment_id=a.id, title=title, description=description,
                               owner_name=str(extra.pop("owner_name", "")), drop_reason="",
                               progress_note=str(extra.pop("progress_note", "")),
                               evidence=str(extra.pop("evidence", "")), supervisor_remark="",
                               created_by_id=member.id, created_at=created, updated_by_id=member.id,
                               updated_at=extra.get("done_at") or created, **extra))
    session.flush()


def load(session: Session, content: Content) -> bool:
    """Create the demo data once; returns False when it is already there."""
    if session.scalars(select(Agency).where(Agency.name == DEMO_AGENCY)).first():
        return False
    agency = Agency(name=DEMO_AGENCY)
    units = [Unit(name=n, agency=agency) for n in UNITS]
    session.add_all([agency, *units])
    session.flush()
    users = []
    for email, name, role, unit_idx, password in DEMO_USERS:
        u = User(email=email, name=name, role=role.value, agency_id=agency.id,
                 unit_id=units[unit_idx].id if unit_idx is not None else None,
                 password_hash=hash_password(password), active=True)
        session.add(u)
        users.append(u)
    other = Agency(name="Neighbouring Border Police")
    session.add_all([other, Unit(name="Border Trafficking Desk", agency=other)])
    session.flush()
    member, cyber = users[0], users[1]
    now = datetime.now(UTC)
    first = _fill(session, content, units[0], member, "Annual self-assessment 2025", SUBMITTED_2025,
                  submitted_at=now - timedelta(days=365))
    second = _fill(session, content, units[0], member, "Annual self-assessment 2026", SUBMITTED_2026,
                   submitted_at=now - timedelta(days=14), targets={"r4": 4, "r7": 4, "r6": 2})
    _plan(session, content, units[0], member, first, second, now)
    _fill(session, content, units[0], member, "Mid-year review 2026 (draft)", SUBMITTED_2026,
          submitted_at=None, upto=4)
    _fill(session, content, units[1], cyber, "Cybercrime unit baseline 2026", CYBER_2026,
          submitted_at=now - timedelta(days=30))
    from .workshops import demo as workshop_demo

    workshop_demo.load(session, content, users[3])
    return True


def logins() -> list[tuple[str, str, str]]:
    return [(email, password, role.value) for email, _n, role, _u, password in DEMO_USERS]


