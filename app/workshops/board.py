"""Pure aggregation for the live board and the workshop report: answer counts in, group statistics out.

No Flask, no SQLAlchemy. Levels follow DESIGN.md section 3: ``unknown`` counts as level 0, ``na`` is left
out. The group's level per recommendation comes from app.scoring applied to the per-question group values,
so the board, the report and a converted assessment all show the same numbers.

Anonymity: nothing but the number of answers is shown for a question with fewer than K_MIN answers.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..content import Content, Question, Recommendation
from ..scoring import DEFAULT_TARGET, VALID_VALUES, Scores, level_of, score

K_MIN = 3  # smallest number of answers for which anything but the count is shown
# A question is flagged as disputed when the middle half of the group is at least DISPUTE_IQR levels apart.
# The interquartile range ignores a lone outlier (one "don't know", counted as 0, among 3s): such a
# question is not flagged, though its range still ranks it among the hotspots.
DISPUTE_IQR = 1.5


@dataclass(frozen=True)
class QuestionStats:
    question: Question
    rec_number: int
    index: int  # 1-based position in its recommendation
    n: int  # answers of any kind (levels, na, unknown)
    shown: bool  # n >= K_MIN: the distribution may be displayed
    counts: Mapping[str, int]  # value -> count ("0".."4", "na", "unknown"); empty when not shown
    median: float | None  # of the counted levels (unknown as 0); None when hidden or nothing counted
    q1: float | None
    q3: float | None
    low: int | None  # smallest and largest counted level
    high: int | None
    group_value: str | None  # default consensus: lower median, or "na"/"unknown" by majority

    @property
    def iqr(self) -> float | None:
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1

    @property
    def range(self) -> int | None:
        return None if self.low is None or self.high is None else self.high - self.low

    @property
    def disputed(self) -> bool:
        return bool(self.shown and (self.iqr or 0) >= DISPUTE_IQR)

    @property
    def label(self) -> str:
        return f"{self.rec_number}.{self.index}"


@dataclass(frozen=True)
class RecStats:
    rec: Recommendation
    questions: tuple[QuestionStats, ...]


@dataclass(frozen=True)
class Board:
    content: Content  # only the workshop's recommendations
    recs: tuple[RecStats, ...]
    scores: Scores  # group level per recommendation (app.scoring on the group values)
    hotspots: tuple[QuestionStats, ...]  # shown questions ranked by disagreement, most first

    @property
    def questions(self) -> list[QuestionStats]:
        return [q for r in self.recs for q in r.questions]

    @property
    def disagreements(self) -> list[QuestionStats]:
        """Hotspots where the answers differ at all, most disagreement first."""
        return [q for q in self.hotspots if (q.iqr or 0) > 0 or (q.range or 0) > 0]

    @property
    def weighted_gaps(self) -> dict[str, dict[str, float]]:
        """Recommendation id -> pillar id -> gap × the recommendation's weight on that pillar (0 without a gap):
        the figure on the board's pillar tags."""
        by_id = self.scores.by_id
        return {r.rec.id: {p: (by_id[r.rec.id].gap or 0) * w for p, w in r.rec.pillars.items()} for r in self.recs}

    @property
    def group_values(self) -> dict[str, str]:
        return {q.question.id: q.group_value for q in self.questions if q.group_value is not None}


def subset(content: Content, rec_ids: Iterable[str]) -> Content:
    """The content restricted to the workshop's recommendations (scoring and charts then cover only those)."""
    wanted = set(rec_ids)
    return dataclasses.replace(content, recommendations=tuple(r for r in content.recommendations if r.id in wanted))


def _quartiles(levels: list[int]) -> tuple[float, float, float]:
    if len(levels) == 1:
        v = float(levels[0])
        return v, v, v
    q1, med, q3 = statistics.quantiles(levels, n=4, method="inclusive")
    return q1, med, q3


def group_value(counts: Mapping[str, int]) -> str | None:
    """The group's answer to propose as consensus: "na" when most said not applicable, else the lower median
    of the counted levels (conservative for an even count), written "unknown" when it is 0 and more people
    said "don't know" than 0."""
    n = sum(counts.values())
    if n == 0:
        return None
    na = counts.get("na", 0)
    levels = sorted(lvl for v, c in counts.items() for lvl in [level_of(v)] * c if lvl is not None)
    if not levels or na * 2 > n:
        return "na"
    median = statistics.median_low(levels)
    if median == 0 and counts.get("unknown", 0) > counts.get("0", 0):
        return "unknown"
    return str(median)


def question_stats(question: Question, rec_number: int, index: int, counts: Mapping[str, int]) -> QuestionStats:
    clean = {v: int(c) for v, c in counts.items() if v in VALID_VALUES and c > 0}
    n = sum(clean.values())
    if n < K_MIN:
        return QuestionStats(question, rec_number, index, n, False, {}, None, None, None, None, None, None)
    levels = sorted(lvl for v, c in clean.items() for lvl in [level_of(v)] * c if lvl is not None)
    full = {v: clean.get(v, 0) for v in VALID_VALUES}
    if not levels:
        return QuestionStats(question, rec_number, index, n, True, full, None, None, None, None, None,
                             group_value(clean))
    q1, med, q3 = _quartiles(levels)
    return QuestionStats(question, rec_number, index, n, True, full, med, q1, q3, levels[0], levels[-1],
                         group_value(clean))


def build_board(content: Content, rec_ids: Iterable[str], counts: Mapping[str, Mapping[str, int]],
                targets: Mapping[str, int] | None = None) -> Board:
    """The board for one workshop from per-question counts (live, or the snapshot kept after purging)."""
    sub = subset(content, rec_ids)
    recs = []
    for rec in sub.recommendations:
        qs = tuple(question_stats(q, rec.number, i, counts.get(q.id, {})) for i, q in enumerate(rec.questions, 1))
        recs.append(RecStats(rec, qs))
    values = {q.question.id: q.group_value for r in recs for q in r.questions if q.group_value is not None}
    scores = score(sub, values, {r.id: (targets or {}).get(r.id, DEFAULT_TARGET) for r in sub.recommendations})
    shown = [q for r in recs for q in r.questions if q.shown and q.iqr is not None]
    hotspots = sorted(shown, key=lambda q: (-(q.iqr or 0), -(q.range or 0), q.rec_number, q.index))
    return Board(sub, tuple(recs), scores, tuple(hotspots))
