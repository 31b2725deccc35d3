"""A large agency of many units, each with years of submitted assessments: the supervisors' pages at scale.

Used by ``flask demo large`` (to look at the dashboard, trends and agency report with 100 units) and by
``bench/analytics.py``. Rows are bulk-inserted with Core statements, since the ORM would take minutes for
the 40,000 answers of a 100-unit agency; the values are random but reproducible (seeded generator).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from .content import Content
from .models import Agency, Answer, Assessment, Target, Unit, User
from .passwords import hash_password

UNIT_KINDS = ("Trafficking", "Cyber", "Victims")


def agency_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(Agency.id).where(Agency.name == name)).first() is not None


def seed_large_agency(conn: Connection, content: Content, *, name: str, n_units: int, per_unit: int,
                      supervisor: tuple[str, str], rng: random.Random,
                      other_agency: str | None = None) -> dict[str, Any]:
    """One agency of ``n_units`` units × ``per_unit`` yearly submitted assessments × every question.

    Every ninth unit's latest assessment is older than the default 12-month review interval (overdue).
    ``supervisor`` is (e-mail, password) of the agency's supervisor. ``other_agency`` adds a second agency
    with one unit and the same history, which the first agency's supervisor must never see.
    """
    questions = [q.id for r in content.recommendations for q in r.questions]
    now = datetime.now(UTC)
    agency_id = conn.execute(insert(Agency).returning(Agency.id), [{"name": name}]).scalar_one()
    unit_rows = [{"agency_id": agency_id, "name": f"Unit {i:03d} – {rng.choice(UNIT_KINDS)}"}
                 for i in range(1, n_units + 1)]
    if other_agency:
        other_id = conn.execute(insert(Agency).returning(Agency.id), [{"name": other_agency}]).scalar_one()
        unit_rows.append({"agency_id": other_id, "name": "Other unit"})
    unit_ids = list(conn.execute(insert(Unit).returning(Unit.id, sort_by_parameter_order=True), unit_rows).scalars())
    email, password = supervisor
    conn.execute(insert(User), [{"email": email, "name": "Agency Supervisor", "role": "supervisor",
                                 "agency_id": agency_id, "password_hash": hash_password(password),
                                 "active": True, "session_epoch": 0}])
    rows: list[dict[str, Any]] = []
    for u_index, unit_id in enumerate(unit_ids):
        late = 400 if u_index % 9 == 0 else 0  # every ninth unit is overdue
        for k in range(per_unit):
            submitted = now - timedelta(days=365 * (per_unit - 1 - k) + rng.randint(5, 60) + late)
            rows.append({"unit_id": unit_id, "content_version": content.version, "title": f"Assessment {k + 1}",
                         "status": "submitted", "last_section": len(content.recommendations), "version_id": 1,
                         "created_at": submitted - timedelta(days=20), "updated_at": submitted,
                         "submitted_at": submitted})
    ids = list(conn.execute(insert(Assessment).returning(Assessment.id, sort_by_parameter_order=True),
                            rows).scalars())
    targets: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for i, (aid, row) in enumerate(zip(ids, rows, strict=True)):
        k = i % per_unit  # later assessments of a unit score higher on average: the trend rises
        answered = row["submitted_at"] - timedelta(days=5)
        targets += [{"assessment_id": aid, "recommendation_id": r.id, "target": rng.choice((2, 3, 3, 3, 4))}
                    for r in content.recommendations]
        for qid in questions:
            base = min(4, max(0, round(rng.gauss(0.8 + k * 0.25, 1.0))))
            value = rng.choices([str(base), "na", "unknown"], weights=(90, 5, 5))[0]
            answers.append({"assessment_id": aid, "question_id": qid, "value": value,
                            "comment": "Seeded comment" if rng.random() < 0.1 else "", "evidence": "", "rev": 1,
                            "updated_at": answered})
        if len(answers) >= 20000:
            conn.execute(insert(Answer), answers)
            answers = []
    if answers:
        conn.execute(insert(Answer), answers)
    conn.execute(insert(Target), targets)
    return {"agency_id": agency_id, "unit_id": unit_ids[min(1, len(unit_ids) - 1)],
            "assessment_id": ids[min(per_unit * 2, len(ids)) - 1], "units": n_units,
            "assessments": len(ids), "answers": len(ids) * len(questions)}
