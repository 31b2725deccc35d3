"""Workshop report context: plain values shared by the page and the PDF (DESIGN.md section 7, convention 5).

Gap sections reuse the gap report's building blocks (pillars with their threats, impacts, stages,
technologies, suggested actions, sources), so a consensus gap reads exactly like a gap in a unit's report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from ..content import Content, Recommendation
from ..reports import charts
from ..reports.context import AnswerRow, GapSection, PillarOverview, gap_sections, threats_by_pillar, value_label
from ..scoring import DEFAULT_TARGET, RecScore, Scores, score
from . import board as board_mod
from . import svg
from .models import Workshop
from .services import Participation

HOTSPOTS_SHOWN = 8


@dataclass(frozen=True)
class QuestionRow:
    stats: board_mod.QuestionStats
    histogram_svg: str
    consensus: str | None
    consensus_label: str
    differs: bool  # consensus recorded and different from the group's median value


@dataclass(frozen=True)
class RecSection:
    rec_id: str
    number: int
    title: str
    group: RecScore  # the group values scored
    consensus: RecScore | None  # the consensus scored, when any was recorded
    rows: list[QuestionRow]


@dataclass
class WorkshopReport:
    workshop_id: int
    title: str
    agency: str
    trainer: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    purged_at: datetime | None
    retention_days: int
    content: Content  # the workshop's recommendations only
    content_version: str
    generated_at: datetime
    marking: str
    organisation: str
    participation: Participation
    board: board_mod.Board
    sections: list[RecSection]
    hotspots: list[QuestionRow]
    consensus_recorded: int
    consensus_scores: Scores | None
    scores: Scores  # what the gap sections are built on: the consensus when recorded, else the group values
    basis: str  # "consensus" | "group"
    gaps: list[GapSection]
    radar_svg: str
    matrix_svg: str
    exposure_svg: str
    sources: list[tuple[int, str, str | None]] = field(default_factory=list)
    k_min: int = board_mod.K_MIN

    @property
    def top(self) -> list[RecScore]:
        return list(self.scores.gaps[:3])

    @property
    def threats(self) -> list[PillarOverview]:
        return threats_by_pillar(self.content, self.gaps)

    @property
    def hotspot_ids(self) -> set[str]:
        """Questions listed under the hotspots: "Answers per recommendation" does not list them again."""
        return {row.stats.question.id for row in self.hotspots}

    @property
    def disputed_count(self) -> int:
        return sum(1 for q in self.board.questions if q.disputed)

    @property
    def pillars(self) -> list[tuple[str, str, float]]:
        return [(p.id, p.name, self.scores.exposure[p.id]) for p in self.content.pillars]


def _group_answers(content: Content, values: dict[str, str]) -> Callable[[Recommendation], list[AnswerRow]]:
    """The group's answers (consensus, else median) as answer rows, for the weakest answers of a gap section.

    A row names its question by number ("Question 2.3"), followed by what the level means for it: the question itself
    is printed once, under "Answers per recommendation" or the hotspots, not again in the gap sections.
    """

    def rows(rec: Recommendation) -> list[AnswerRow]:
        return [AnswerRow(q.id, _("Question %(n)s", n=f"{rec.number}.{i}"), values.get(q.id),
                          value_label(content, values.get(q.id)),
                          q.levels[int(values[q.id])] if values.get(q.id, "").isdigit() else "", "", "", "", None)
                for i, q in enumerate(rec.questions, start=1)]

    return rows


def build_workshop_report(w: Workshop, content: Content, counts: dict[str, dict[str, int]],
                          consensus: dict[str, str], participation: Participation, *, trainer: str, agency: str,
                          marking: str, organisation: str, retention_days: int, now: datetime) -> WorkshopReport:
    """Everything the report page and PDF show, from counts, consensus and participation only."""
    b = board_mod.build_board(content, w.rec_ids, counts)
    sub = b.content
    targets = {r.id: DEFAULT_TARGET for r in sub.recommendations}
    consensus = {q: v for q, v in consensus.items() if q in sub.questions}
    consensus_scores = score(sub, consensus, targets) if consensus else None
    group_values = b.group_values

    def row(q: board_mod.QuestionStats) -> QuestionRow:
        c = consensus.get(q.question.id)
        return QuestionRow(q, svg.histogram(q), c, value_label(sub, c) if c else "",
                           c is not None and q.group_value is not None and c != q.group_value)

    sections = [RecSection(r.rec.id, r.rec.number, r.rec.title, b.scores.by_id[r.rec.id],
                           consensus_scores.by_id[r.rec.id] if consensus_scores else None,
                           [row(q) for q in r.questions]) for r in b.recs]
    basis_scores = consensus_scores or b.scores
    basis_values = consensus or group_values
    gaps, numbering = gap_sections(sub, basis_scores, _group_answers(sub, basis_values))
    many = len(sub.recommendations) >= 3
    return WorkshopReport(
        workshop_id=w.id, title=w.title, agency=agency, trainer=trainer, status=w.status, created_at=w.created_at,
        closed_at=w.closed_at, purged_at=w.purged_at, retention_days=retention_days, content=sub,
        content_version=w.content_version, generated_at=now, marking=marking, organisation=organisation,
        participation=participation, board=b, sections=sections,
        hotspots=[row(q) for q in b.disagreements[:HOTSPOTS_SHOWN]],
        consensus_recorded=len(consensus), consensus_scores=consensus_scores, scores=basis_scores,
        basis="consensus" if consensus_scores else "group", gaps=gaps,
        radar_svg=charts.radar(sub, basis_scores) if many else "",
        matrix_svg=charts.pillar_matrix(sub, basis_scores), exposure_svg=charts.exposure_bars(sub, basis_scores),
        sources=[(n, sub.source_by_id[sid].citation, sub.source_by_id[sid].url) for sid, n in numbering.items()],
    )
