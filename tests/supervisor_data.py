"""Assessments written straight into the database for the supervisor tests (the questionnaire flow is tested
elsewhere; here many assessments with known answers are needed quickly)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.content import Content
from app.db import db
from app.models import Answer, Assessment, Status, Target, utcnow
from app.scoring import Scores, score

from .helpers import CONTENT

VALUES = ("0", "1", "2", "3", "4", "na", "unknown")


def random_plan(rng: random.Random, content: Content = CONTENT, *, complete: bool = True) -> dict[str, str | None]:
    """question id -> value (None: a comment-only row, unanswered); missing keys: no row at all."""
    plan: dict[str, str | None] = {}
    for q in content.questions:
        roll = rng.random()
        if complete or roll < 0.8:
            plan[q] = rng.choice(VALUES)
        elif roll < 0.9:
            plan[q] = None
    return plan


def level_plan(levels: Mapping[str, list[str]], content: Content = CONTENT) -> dict[str, str | None]:
    """Per recommendation id, the values of its questions in order (like the demo data)."""
    plan: dict[str, str | None] = {}
    for rec in content.recommendations:
        for q, v in zip(rec.questions, levels.get(rec.id, []), strict=False):
            plan[q.id] = v
    return plan


def uniform_plan(value: str, content: Content = CONTENT) -> dict[str, str | None]:
    return dict.fromkeys(content.questions, value)


def add_assessment(unit_id: int, plan: Mapping[str, str | None], *, title: str = "Assessment",
                   status: str = Status.SUBMITTED.value, submitted_at: datetime | None = None,
                   targets: Mapping[str, int] | None = None, content: Content = CONTENT,
                   comments: Mapping[str, str] | None = None) -> int:
    """Insert one assessment with its answers and targets; call inside an app context with db.writing()."""
    now = utcnow()
    if status == Status.SUBMITTED.value and submitted_at is None:
        submitted_at = now - timedelta(days=10)
    a = Assessment(unit_id=unit_id, title=title, content_version=content.version, status=status,
                   submitted_at=submitted_at if status == Status.SUBMITTED.value else None,
                   created_at=(submitted_at or now) - timedelta(days=5))
    db.session.add(a)
    db.session.flush()
    for rec in content.recommendations:
        db.session.add(Target(assessment_id=a.id, recommendation_id=rec.id, target=(targets or {}).get(rec.id, 3)))
    for qid, value in plan.items():
        db.session.add(Answer(assessment_id=a.id, question_id=qid, value=value,
                              comment=(comments or {}).get(qid, ""), evidence="", rev=1))
    db.session.flush()
    return a.id


def expected_scores(plan: Mapping[str, str | None], targets: Mapping[str, int] | None = None,
                    content: Content = CONTENT) -> Scores:
    """What app.scoring says for these answers: the reference every page and export must match."""
    values = {q: v for q, v in plan.items() if v is not None}
    return score(content, values, {r.id: (targets or {}).get(r.id, 3) for r in content.recommendations})


def count_queries(app: Any) -> tuple[list[str], Any]:
    """A list that collects every SQL statement the app's engine runs, and a function to stop collecting."""
    from sqlalchemy import event

    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)
