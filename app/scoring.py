"""Pure scoring, exactly as DESIGN.md section 3. No Flask, no SQLAlchemy: content + answers in, numbers out.

Full precision throughout; rounding happens only where numbers are displayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

PILLARS = ("fear", "want", "indignity")
LEVEL_VALUES = ("0", "1", "2", "3", "4")
SPECIAL_VALUES = ("na", "unknown")
VALID_VALUES = LEVEL_VALUES + SPECIAL_VALUES
DEFAULT_TARGET = 3

SCORED = "scored"
NOT_APPLICABLE = "not_applicable"
NOT_ANSWERED = "not_answered"


class QuestionLike(Protocol):
    id: str


class RecommendationLike(Protocol):
    id: str
    number: int
    pillars: Mapping[str, int]

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

    @property
    def maturity_percent(self) -> float | None:
        return None if self.maturity is None else 100.0 * self.maturity / 4.0

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


def level_of(value: str) -> int | None:
    """The level a stored answer counts as: 0-4, ``unknown`` as 0, ``na`` as not counted."""
    if value == "unknown":
        return 0
    if value in LEVEL_VALUES:
        return int(value)
    if value == "na":
        return None
    raise ValueError(f"not an answer value: {value!r}")


def score(
    content: ContentLike, answers: Mapping[str, str], targets: Mapping[str, int] | None = None
) -> Scores:
    """Score one assessment. Unanswered questions are left out (as if ``na``) so drafts score provisionally."""
    targets = targets or {}
    recs: list[RecScore] = []
    total = answered = 0
    for rec in content.recommendations:
        target = int(targets.get(rec.id, DEFAULT_TARGET))
        if not 1 <= target <= 4:
            raise ValueError(f"target for {rec.id} must be 1..4, not {target}")
        levels: list[int] = []
        na = unknown = unanswered = 0
        for q in rec.questions:
            value = answers.get(q.id)
            if value is None:
                unanswered += 1
                continue
            lvl = level_of(value)
            if lvl is None:
                na += 1
            else:
                levels.append(lvl)
                unknown += value == "unknown"
        n = len(rec.questions)
        total += n
        answered += n - unanswered
        if levels:
            current = sum(levels) / len(levels)
            gap = max(0.0, target - current)
            priority = gap * sum(rec.pillars.get(p, 0) for p in PILLARS)
            status = SCORED
        else:
            current = gap = priority = None
            status = NOT_ANSWERED if unanswered else NOT_APPLICABLE
        recs.append(
            RecScore(rec.id, rec.number, status, current, target, gap, priority, dict(rec.pillars), n,
                     len(levels), unknown, na, unanswered)
        )
    applicable = [r for r in recs if r.applicable]
    maturity = sum(r.current for r in applicable) / len(applicable) if applicable else None  # type: ignore[misc]
    exposure: dict[str, float] = {}
    for p in PILLARS:
        num = sum(r.gap * r.weights.get(p, 0) for r in applicable)  # type: ignore[operator]
        den = sum(r.target * r.weights.get(p, 0) for r in applicable)
        exposure[p] = 100.0 * num / den if den else 0.0
    ranked = sorted((r for r in applicable if r.gap and r.gap > 0), key=lambda r: (-r.priority, -r.gap, r.number))  # type: ignore[operator]
    return Scores(tuple(recs), maturity, exposure, tuple(r.id for r in ranked), total, answered)
