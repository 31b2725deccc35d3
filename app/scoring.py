"""Pure scoring, exactly as DESIGN.md section 3. No Flask, no SQLAlchemy: content + answers in, numbers out.

Full precision throughout; rounding happens only where numbers are displayed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from .content import PILLARS  # the content names the pillars; scoring's callers import them from here too

# The stored answer values, the one list of them: forms, CHECK constraints, SQL aggregates and the workshop
# all use these names.
LEVEL_VALUES = ("0", "1", "2", "3", "4")
SPECIAL_VALUES = ("na", "unknown")
VALID_VALUES = LEVEL_VALUES + SPECIAL_VALUES
COUNTED_VALUES = (*LEVEL_VALUES, "unknown")  # "unknown" counts as level 0; "na" is left out
DEFAULT_TARGET = 3

SCORED = "scored"
NOT_APPLICABLE = "not_applicable"
NOT_ANSWERED = "not_answered"


# Read-only properties, not attributes: the content's frozen dataclasses (and anything else with these fields)
# satisfy them, and scoring promises not to write to the content it is given.
class QuestionLike(Protocol):
    @property
    def id(self) -> str: ...


class RecommendationLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def number(self) -> int: ...

    @property
    def pillars(self) -> Mapping[str, int]: ...

    @property
    def questions(self) -> tuple[QuestionLike, ...]: ...


class ContentLike(Protocol):
    @property
    def recommendations(self) -> tuple[RecommendationLike, ...]: ...


@dataclass(frozen=True)
class RecScore:
    id: str
    number: int
    status: str  # scored | not_applicable | not_answered
    current: float | None  # C_r
    target: int  # T_r
    gap: float | None  # G_r
    priority: float | None  # P_r
    weights: Mapping[str, int]
    total: int
    counted: int  # questions with a level or "unknown"
    unknown: int
    na: int
    unanswered: int

    @property
    def applicable(self) -> bool:
        return self.status == SCORED


@dataclass(frozen=True)
class Scores:
    recommendations: tuple[RecScore, ...]
    maturity: float | None  # M, mean of C_r over applicable recommendations
    exposure: Mapping[str, float]  # E_p in percent
    ranking: tuple[str, ...]  # ids of recommendations with G_r > 0, by P desc, G desc, number asc
    total_questions: int
    answered: int
    maturity_percent: float | None = None  # M / 4 in percent, computed exactly alongside M

    @property
    def coverage(self) -> float:
        return 1.0 if self.total_questions == 0 else self.answered / self.total_questions

    @property
    def complete(self) -> bool:
        return self.answered == self.total_questions

    @property
    def by_id(self) -> dict[str, RecScore]:
        return {r.id: r for r in self.recommendations}

    @property
    def gaps(self) -> tuple[RecScore, ...]:
        by_id = self.by_id
        return tuple(by_id[i] for i in self.ranking)


def level_floor(value: float) -> int:
    """The whole level 0-4 a score has reached. The tolerance keeps a mean that float arithmetic left at
    2.9999999 on level 3, where the exact mean is."""
    return max(0, min(4, math.floor(value + 1e-9)))


def level_of(value: str) -> int | None:
    """The level a stored answer counts as: 0-4, ``unknown`` as 0, ``na`` as not counted."""
    if value == "unknown":
        return 0
    if value in LEVEL_VALUES:
        return int(value)
    if value == "na":
        return None
    raise ValueError(f"not an answer value: {value!r}")


@dataclass(frozen=True)
class RecAggregate:
    """What scoring needs from one recommendation's answers, in a form SQL can compute with SUM/COUNT.

    The analytics pages aggregate answers in the database (one row per assessment and recommendation)
    and score from these sums, so the formulas live here only, whichever way the numbers were gathered.
    """

    level_sum: int = 0  # sum of counted levels ("unknown" counts as 0)
    counted: int = 0  # answers with a level or "unknown"
    unknown: int = 0
    na: int = 0


def aggregate(content: ContentLike, answers: Mapping[str, str]) -> dict[str, RecAggregate]:
    """Per-recommendation sums of one assessment's answers (unanswered questions simply do not count)."""
    out: dict[str, RecAggregate] = {}
    for rec in content.recommendations:
        level_sum = counted = unknown = na = 0
        for q in rec.questions:
            value = answers.get(q.id)
            if value is None:
                continue
            lvl = level_of(value)
            if lvl is None:
                na += 1
            else:
                level_sum += lvl
                counted += 1
                unknown += value == "unknown"
        out[rec.id] = RecAggregate(level_sum, counted, unknown, na)
    return out


def score(
    content: ContentLike, answers: Mapping[str, str], targets: Mapping[str, int] | None = None
) -> Scores:
    """Score one assessment. Unanswered questions are left out (as if ``na``) so drafts score provisionally."""
    return score_aggregates(content, aggregate(content, answers), targets)


def score_aggregates(
    content: ContentLike, aggregates: Mapping[str, RecAggregate], targets: Mapping[str, int] | None = None
) -> Scores:
    """Score from per-recommendation sums: the single implementation of DESIGN.md section 3.

    A recommendation missing from ``aggregates`` has no answer at all; questions neither counted nor
    ``na`` are unanswered.
    """
    targets = targets or {}
    recs: list[RecScore] = []
    total = answered = 0
    empty = RecAggregate()
    exact: dict[str, tuple[Fraction, Fraction, Fraction]] = {}  # id -> (C, G, P) without rounding error
    current: float | None
    gap: float | None
    priority: float | None
    for rec in content.recommendations:
        target = int(targets.get(rec.id, DEFAULT_TARGET))
        if not 1 <= target <= 4:
            raise ValueError(f"target for {rec.id} must be 1..4, not {target}")
        agg = aggregates.get(rec.id, empty)
        n = len(rec.questions)
        if agg.counted + agg.na > n or min(agg.counted, agg.na, agg.unknown, agg.level_sum) < 0:
            raise ValueError(f"aggregate for {rec.id} does not fit its {n} questions")
        unanswered = n - agg.counted - agg.na
        total += n
        answered += n - unanswered
        exact_c = Fraction(agg.level_sum, agg.counted) if agg.counted else None
        if exact_c is not None:
            exact_g = max(Fraction(0), target - exact_c)
            exact_p = exact_g * sum(rec.pillars.get(p, 0) for p in PILLARS)
            exact[rec.id] = (exact_c, exact_g, exact_p)
            current, gap, priority = float(exact_c), float(exact_g), float(exact_p)
            status = SCORED
        else:
            current = gap = priority = None
            status = NOT_ANSWERED if unanswered else NOT_APPLICABLE
        recs.append(
            RecScore(rec.id, rec.number, status, current, target, gap, priority, dict(rec.pillars), n,
                     agg.counted, agg.unknown, agg.na, unanswered)
        )
    # Aggregates in exact fractions, converted to float once: display rounding and tie-breaks then see the
    # true value (an exact 57.5% must not become 57.49999… and show as 57%).
    applicable = [r for r in recs if r.applicable]
    exact_m = sum((exact[r.id][0] for r in applicable), Fraction(0)) / len(applicable) if applicable else None
    maturity = None if exact_m is None else float(exact_m)
    maturity_pct = None if exact_m is None else float(exact_m * 100 / 4)
    exposure: dict[str, float] = {}
    for p in PILLARS:
        num = sum((exact[r.id][1] * r.weights.get(p, 0) for r in applicable), Fraction(0))
        den = sum(r.target * r.weights.get(p, 0) for r in applicable)
        exposure[p] = float(100 * num / den) if den else 0.0
    ranked = sorted((r for r in applicable if exact[r.id][1] > 0),
                    key=lambda r: (-exact[r.id][2], -exact[r.id][1], r.number))
    return Scores(tuple(recs), maturity, exposure, tuple(r.id for r in ranked), total, answered, maturity_pct)
