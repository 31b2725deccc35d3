"""One source of truth for the formulas: scoring from SQL aggregates gives exactly what score() gives.

``score()`` itself goes through ``score_aggregates``; these tests prove that aggregates computed another
way (by hand here, by a SQL GROUP BY in app/supervisor/analytics.py) lead to identical results.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db import db
from app.models import User
from app.scoring import RecAggregate, aggregate, score, score_aggregates
from app.supervisor import analytics
from app.supervisor.services import months_before

from .helpers import CONTENT
from .supervisor_data import add_assessment, random_plan
from .test_scoring import cases


def by_hand(content, answers) -> dict[str, RecAggregate]:
    """Aggregates written out independently of app.scoring.aggregate."""
    out = {}
    for rec in content.recommendations:
        values = [answers[q.id] for q in rec.questions if q.id in answers]
        levels = [0 if v == "unknown" else int(v) for v in values if v != "na"]
        out[rec.id] = RecAggregate(sum(levels), len(levels), values.count("unknown"), values.count("na"))
    return out


@settings(max_examples=300, deadline=None)
@given(cases())
def test_score_and_score_aggregates_agree_exactly(case):
    content, answers, targets = case
    direct = score(content, answers, targets)
    assert aggregate(content, answers) == by_hand(content, answers)
    assert score_aggregates(content, by_hand(content, answers), targets) == direct  # bit-for-bit, not approx


@settings(max_examples=100, deadline=None)
@given(cases())
def test_a_recommendation_without_any_aggregate_row_counts_as_unanswered(case):
    content, answers, targets = case
    aggs = {k: v for k, v in by_hand(content, answers).items() if v.counted or v.na}  # SQL returns no empty groups
    assert score_aggregates(content, aggs, targets) == score(content, answers, targets)


@pytest.mark.parametrize("bad", [RecAggregate(3, 5, 0, 0), RecAggregate(0, 0, 0, 5), RecAggregate(-1, 1, 0, 0),
                                 RecAggregate(2, 3, 0, 2)])
def test_impossible_aggregates_are_refused(bad):
    rec = CONTENT.recommendations[0]  # 4 questions
    with pytest.raises(ValueError, match="aggregate"):
        score_aggregates(CONTENT, {rec.id: bad})


@pytest.mark.parametrize(("moment", "months", "expected"), [
    ("2026-11-23", 12, "2025-11-23"), ("2026-03-31", 1, "2026-02-28"), ("2024-03-31", 1, "2024-02-29"),
    ("2026-01-15", 1, "2025-12-15"), ("2026-05-10", 0, "2026-05-10"), ("2026-05-10", 25, "2024-04-10"),
])
def test_months_before(moment, months, expected):
    from datetime import datetime

    assert months_before(datetime.fromisoformat(moment), months).date().isoformat() == expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), complete=st.booleans())
def test_sql_aggregation_gives_the_same_scores_as_the_scoring_module(app, world, seed, complete):
    """Random answers (levels, na, unknown, comment-only rows, missing rows) on SQLite and PostgreSQL."""
    rng = random.Random(seed)
    plan = random_plan(rng, complete=complete)
    targets = {r.id: rng.randint(1, 4) for r in CONTENT.recommendations}
    with app.app_context(), db.writing():
        aid = add_assessment(world.unit_a1, plan, targets=targets)
    with app.app_context():
        supervisor = db.session.get(User, world.users["supervisor_a"])
        heads = analytics.heads_by_id(db.session, supervisor, [aid])
        got = analytics.scores(db.session, heads, lambda v: CONTENT)[aid]
    values = {q: v for q, v in plan.items() if v is not None}
    assert got == score(CONTENT, values, targets)
