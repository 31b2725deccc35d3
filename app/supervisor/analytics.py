"""SQL aggregation for the analytics pages: answers are summed in the database, never loaded one by one.

Every query here starts from ``app.access.scope_assessments`` / ``scope_units``, so what a user may see is
decided in one place. Each function issues a fixed number of statements whatever the number of units or
assessments; the scores themselves come from ``app.scoring.score_aggregates`` (the one implementation of
the formulas), fed with one aggregate row per (assessment, recommendation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..access import scope_assessments, scope_units
from ..content import Content
from ..models import Answer, Assessment, Status, Target, Unit, User
from ..scoring import COUNTED_VALUES, LEVEL_VALUES, RecAggregate, Scores, score_aggregates

ContentFor = Callable[[str], Content]

# "0" and "unknown" count with level 0; "na" is left out; NULL (comment only) is unanswered.
LEVELS = {v: int(v) for v in LEVEL_VALUES if int(v)}  # value -> level added to the sum (0 adds nothing)
IN_PROGRESS = (Status.DRAFT.value, Status.REOPENED.value)


@dataclass(frozen=True)
class Head:
    """An assessment's header row: everything the analytics pages show except answers."""

    id: int
    unit_id: int
    unit: str
    title: str
    status: str
    content_version: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    signed_off_at: datetime | None
    version_id: int
    answered: int = 0  # filled for drafts only
    total_questions: int = 0  # filled for drafts only (from the assessment's content version)


def _head_columns() -> tuple[Any, ...]:
    return (Assessment.id, Assessment.unit_id, Unit.name, Assessment.title, Assessment.status,
            Assessment.content_version, Assessment.created_at, Assessment.updated_at, Assessment.submitted_at,
            Assessment.signed_off_at, Assessment.version_id)


def _heads(rows: Iterable[Any]) -> list[Head]:
    return [Head(*row) for row in rows]


def units(session: Session, user: User) -> list[tuple[int, str]]:
    """(id, name) of the units ``user`` may see, by name."""
    return [(i, n) for i, n in session.execute(scope_units(user).with_only_columns(Unit.id, Unit.name))]


def latest_submitted(session: Session, user: User, unit_id: int | None = None) -> list[Head]:
    """Each visible unit's most recent submitted assessment: one query, a window function per unit."""
    rank = func.row_number().over(partition_by=Assessment.unit_id,
                                  order_by=(Assessment.submitted_at.desc(), Assessment.id.desc())).label("rn")
    inner = scope_assessments(user, select(Assessment.id.label("aid"), rank)).where(
        Assessment.status == Status.SUBMITTED.value)
    if unit_id is not None:
        inner = inner.where(Assessment.unit_id == unit_id)
    ranked = inner.subquery()
    stmt = (select(*_head_columns()).join(Unit, Unit.id == Assessment.unit_id)
            .join(ranked, ranked.c.aid == Assessment.id).where(ranked.c.rn == 1).order_by(Unit.name))
    return _heads(session.execute(stmt))


def in_progress(session: Session, user: User, unit_id: int | None = None) -> list[Head]:
    """Drafts and reopened assessments with how many questions they answer (counted in SQL)."""
    answered = (select(func.count()).where(Answer.assessment_id == Assessment.id, Answer.value.is_not(None))
                .correlate(Assessment).scalar_subquery())
    stmt = scope_assessments(user, select(*_head_columns(), answered)).where(Assessment.status.in_(IN_PROGRESS))
    if unit_id is not None:
        stmt = stmt.where(Assessment.unit_id == unit_id)
    return _heads(session.execute(stmt.order_by(Unit.name, Assessment.updated_at.desc())))


def submitted(session: Session, user: User, unit_id: int | None = None) -> list[Head]:
    """Every submitted assessment (of one unit, or of every visible unit), oldest first."""
    stmt = scope_assessments(user, select(*_head_columns())).where(Assessment.status == Status.SUBMITTED.value)
    if unit_id is not None:
        stmt = stmt.where(Assessment.unit_id == unit_id)
    return _heads(session.execute(stmt.order_by(Unit.name, Assessment.submitted_at, Assessment.id)))


def heads_by_id(session: Session, user: User, ids: Sequence[int]) -> list[Head]:
    """The visible assessments among ``ids`` (others are silently absent)."""
    if not ids:
        return []
    stmt = scope_assessments(user, select(*_head_columns())).where(Assessment.id.in_(list(ids)))
    return _heads(session.execute(stmt))


def _recommendation_of_question(heads: Sequence[Head], content_for: ContentFor) -> Any:
    """A CASE mapping (content version, question id) to its recommendation id, built from the content.

    Version-qualified, so an answer counts exactly as ``app.scoring.score`` counts it for that version.
    """
    whens = []
    for version in sorted({h.content_version for h in heads}):
        for rec in content_for(version).recommendations:
            qids = [q.id for q in rec.questions]
            whens.append((and_(Assessment.content_version == version, Answer.question_id.in_(qids)), rec.id))
    return case(*whens, else_=None)


def rec_aggregates(session: Session, heads: Sequence[Head],
                   content_for: ContentFor) -> dict[int, dict[str, RecAggregate]]:
    """One SQL GROUP BY: per (assessment, recommendation) the sum of counted levels and the counts."""
    if not heads:
        return {}
    rec_id = _recommendation_of_question(heads, content_for).label("rec_id")
    answers = (select(Answer.assessment_id.label("aid"), rec_id, Answer.value.label("value"))
               .join(Assessment, Assessment.id == Answer.assessment_id)
               .where(Answer.assessment_id.in_([h.id for h in heads]), Answer.value.is_not(None))).subquery()
    value = answers.c.value
    # Grouping by the subquery's columns keeps PostgreSQL happy (a CASE with bound parameters in GROUP BY
    # is not recognised as the selected expression).
    stmt = (select(answers.c.aid, answers.c.rec_id,
                   func.sum(case(LEVELS, value=value, else_=0)),
                   func.sum(case((value.in_(COUNTED_VALUES), 1), else_=0)),
                   func.sum(case((value == "unknown", 1), else_=0)),
                   func.sum(case((value == "na", 1), else_=0)))
            .where(answers.c.rec_id.is_not(None)).group_by(answers.c.aid, answers.c.rec_id))
    out: dict[int, dict[str, RecAggregate]] = {}
    for aid, rid, level_sum, counted, unknown, na in session.execute(stmt):
        out.setdefault(aid, {})[rid] = RecAggregate(int(level_sum or 0), int(counted or 0), int(unknown or 0),
                                                    int(na or 0))
    return out


def targets(session: Session, heads: Sequence[Head]) -> dict[int, dict[str, int]]:
    if not heads:
        return {}
    out: dict[int, dict[str, int]] = {}
    stmt = select(Target.assessment_id, Target.recommendation_id, Target.target).where(
        Target.assessment_id.in_([h.id for h in heads]))
    for aid, rid, t in session.execute(stmt):
        out.setdefault(aid, {})[rid] = t
    return out


def scores(session: Session, heads: Sequence[Head], content_for: ContentFor) -> dict[int, Scores]:
    """Scores of many assessments in two queries, computed by the scoring module from SQL aggregates."""
    aggs = rec_aggregates(session, heads, content_for)
    tgts = targets(session, heads)
    return {h.id: score_aggregates(content_for(h.content_version), aggs.get(h.id, {}), tgts.get(h.id, {}))
            for h in heads}
