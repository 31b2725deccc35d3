"""Build the gap report's context: plain values only (no ORM objects), shared by the page and the PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..content import Content, Recommendation
from ..models import Answer, Assessment, Status, User, utcnow
from ..scoring import RecScore, Scores, level_floor, level_of, score
from . import charts

WEAKEST_SHOWN = 3


@dataclass(frozen=True)
class AnswerRow:
    question_id: str
    text: str
    value: str | None  # "0".."4", "na", "unknown" or None (unanswered)
    value_label: str
    descriptor: str
    comment: str
    evidence: str
    updated_by: str
    updated_at: datetime | None


@dataclass(frozen=True)
class PillarThreats:
    pillar_id: str
    pillar_name: str
    weight: int
    by_audience: list[tuple[str, list[str]]]  # (audience name, threats) for fear/want
    rights: list[str]  # indignity: rights whose violation is facilitated


@dataclass(frozen=True)
class ThreatLine:
    """One threat (or, for freedom from indignity, one right) and the gaps that leave it open."""

    text: str
    recs: list[int]  # numbers of the gap recommendations whose impacts carry this threat


@dataclass(frozen=True)
class PillarOverview:
    """A pillar's threats, said once for every gap of the report (the gap sections refer to it by name)."""

    pillar_id: str
    pillar_name: str
    by_audience: list[tuple[str, list[ThreatLine]]]
    rights: list[ThreatLine]
    description: str = ""


@dataclass(frozen=True)
class GapSection:
    rank: int
    rec: Recommendation
    score: RecScore
    pillars: list[PillarThreats]
    impacts: list[str]
    stages: list[str]
    technologies: list[str]
    weakest: list[AnswerRow]
    actions: list[str]
    level_reached: int
    sources: list[int]  # numbers into ReportContext.sources


@dataclass(frozen=True)
class RecRow:
    rec: Recommendation
    score: RecScore
    answers: list[AnswerRow]


@dataclass(frozen=True)
class ComparisonRow:
    number: int
    title: str
    before: float | None
    after: float | None
    delta: float | None
    change: str  # rose | fell | same | new | removed | n/a
    gap_before: float | None
    gap_after: float | None


@dataclass(frozen=True)
class QuestionChange:
    """One question whose answer differs between two assessments, matched by question id."""

    question_id: str
    recommendation: str  # "3. Short title"
    text: str
    before: str | None  # stored value; None when unanswered or not in that content version
    after: str | None
    before_label: str
    after_label: str
    change: str  # rose | fell | changed | added | removed


@dataclass(frozen=True)
class Comparison:
    previous_title: str
    previous_submitted_at: datetime | None
    previous_version: str
    maturity_before: float | None
    maturity_after: float | None
    rows: list[ComparisonRow]
    new_gaps: list[str]
    closed_gaps: list[str]
    questions_added: list[str]
    questions_removed: list[str]
    current_title: str = ""
    current_submitted_at: datetime | None = None
    current_version: str = ""
    exposure_before: dict[str, float] = field(default_factory=dict)
    exposure_after: dict[str, float] = field(default_factory=dict)
    question_changes: list[QuestionChange] = field(default_factory=list)

    @property
    def rose(self) -> list[ComparisonRow]:
        return [r for r in self.rows if r.change == "rose"]

    @property
    def fell(self) -> list[ComparisonRow]:
        return [r for r in self.rows if r.change == "fell"]


@dataclass(frozen=True)
class Side:
    """One assessment as the comparison sees it: its own content version, scores and stored values."""

    title: str
    submitted_at: datetime | None
    content: Content
    scores: Scores
    values: dict[str, str]


@dataclass
class ReportContext:
    assessment_id: int
    title: str
    agency: str
    unit: str
    status: str
    provisional: bool
    content: Content
    content_version: str
    generated_at: datetime
    marking: str
    organisation: str
    created_at: datetime
    submitted_at: datetime | None
    submitted_by: str
    signed_off_at: datetime | None
    signed_off_by: str
    sign_off_remark: str
    scores: Scores
    top: list[RecScore]
    gaps: list[GapSection]
    recs: list[RecRow]
    radar_svg: str
    matrix_svg: str
    exposure_svg: str
    unconfirmed: list[AnswerRow] = field(default_factory=list)
    comparison: Comparison | None = None
    sources: list[tuple[int, str, str | None]] = field(default_factory=list)  # (number, citation, url)
    # The unit's planned actions (app.actions.services.ReportPlan), set by the results page; None elsewhere.
    planned: Any = None

    @property
    def pillars(self) -> list[tuple[str, str, float]]:
        return [(p.id, p.name, self.scores.exposure[p.id]) for p in self.content.pillars]

    @property
    def threats(self) -> list[PillarOverview]:
        return threats_by_pillar(self.content, self.gaps)

    @property
    def brief_priorities(self) -> list[GapSection]:
        """The top gaps as page 1 shows them: title, figures and the first suggested action."""
        return self.gaps[:len(self.top)]


def special_value_labels() -> dict[str | None, str]:
    """The answers that are not levels, as people read them (in the current language)."""
    return {None: _("Unanswered"), "na": _("Not applicable"), "unknown": _("Don't know (counted as 0)")}


def value_label(content: Content, value: str | None) -> str:
    specials = special_value_labels()
    if value in specials:
        return specials[value]
    lvl = content.levels[int(str(value))]
    return f"{lvl.level} – {lvl.label}"


def _answer_rows(content: Content, rec: Recommendation, answers: dict[str, Answer],
                 names: dict[int, str]) -> list[AnswerRow]:
    rows = []
    for q in rec.questions:
        a = answers.get(q.id)
        value = a.value if a else None
        descriptor = q.levels[int(value)] if value is not None and value.isdigit() else ""
        rows.append(AnswerRow(q.id, q.text, value, value_label(content, value), descriptor,
                              a.comment if a else "", a.evidence if a else "",
                              names.get(a.updated_by_id or 0, "") if a else "", a.updated_at if a else None))
    return rows


def pillar_threats(content: Content, rec: Recommendation) -> list[PillarThreats]:
    out = []
    for p in content.pillars:
        w = rec.pillars[p.id]
        if w == 0:
            continue
        by_aud: list[tuple[str, list[str]]] = []
        rights: list[str] = []
        if p.id == "indignity":
            ids = rec.rights or tuple(r.id for r in content.rights)
            rights = [content.right_by_id[i].name for i in ids]
        else:
            for aud in content.audiences:
                threats: list[str] = []
                for imp_id in rec.impacts:
                    for t in content.impact_by_id[imp_id].threats.get(aud.id, {}).get(p.id, ()):
                        if t not in threats:
                            threats.append(t)
                if threats:
                    by_aud.append((aud.name, threats))
        out.append(PillarThreats(p.id, p.name, w, by_aud, rights))
    return sorted(out, key=lambda x: -x.weight)


def threats_by_pillar(content: Content, gaps: list[GapSection]) -> list[PillarOverview]:
    """The threats of all gaps, once per pillar and audience, each with the gaps that leave it open.

    Nine gap sections used to repeat nearly the same threat lists; the report now says them once and each
    gap names its pillars and refers here.
    """
    out = []
    for p in content.pillars:
        auds: dict[str, dict[str, list[int]]] = {a.name: {} for a in content.audiences}
        rights: dict[str, list[int]] = {}
        for g in gaps:
            for pt in g.pillars:
                if pt.pillar_id != p.id:
                    continue
                for aud, threats in pt.by_audience:
                    for t in threats:
                        nums = auds.setdefault(aud, {}).setdefault(t, [])
                        if g.rec.number not in nums:
                            nums.append(g.rec.number)
                for t in pt.rights:
                    nums = rights.setdefault(t, [])
                    if g.rec.number not in nums:
                        nums.append(g.rec.number)
        by_aud = [(a, [ThreatLine(t, sorted(n)) for t, n in ts.items()]) for a, ts in auds.items() if ts]
        if by_aud or rights:
            out.append(PillarOverview(p.id, p.name, by_aud, [ThreatLine(t, sorted(n)) for t, n in rights.items()],
                                      p.description))
    return out


def weakest_answers(rows: list[AnswerRow]) -> list[AnswerRow]:
    counted = [r for r in rows if r.value is not None and r.value != "na"]
    counted.sort(key=lambda r: (level_of(r.value or "0"), r.value != "unknown"))
    return counted[:WEAKEST_SHOWN]


def gap_sections(content: Content, scores: Scores, answers_of: Callable[[Recommendation], list[AnswerRow]]
                 ) -> tuple[list[GapSection], dict[str, int]]:
    """One section per gap, by priority, and the numbers given to the sources they cite (in order of first
    citation). Shared by the gap report and the workshop report, whose answers come from the assessment and
    from the group respectively (``answers_of``)."""
    numbering: dict[str, int] = {}
    gaps = []
    for rank, rs in enumerate(scores.gaps, start=1):
        rec = content.recommendation_by_id[rs.id]
        reached = level_floor(rs.current or 0)
        gaps.append(GapSection(
            rank=rank, rec=rec, score=rs, pillars=pillar_threats(content, rec),
            impacts=[f"{i}. {content.impact_by_id[i].name}" for i in sorted(rec.impacts)],
            stages=[content.stage_by_id[s].name for s in rec.stages],
            technologies=[content.technology_by_id[t].name for t in rec.technologies],
            weakest=weakest_answers(answers_of(rec)), actions=list(rec.actions[reached]),
            level_reached=reached, sources=[numbering.setdefault(s, len(numbering) + 1) for s in rec.sources],
        ))
    return gaps, numbering


def _level_change(before: str | None, after: str | None) -> str:
    lb = level_of(before) if before is not None else None
    la = level_of(after) if after is not None else None
    if lb is not None and la is not None and lb != la:
        return "rose" if la > lb else "fell"
    return "changed"


def compare(before: Side, after: Side) -> Comparison:
    """What rose, what fell, new and closed gaps, and changed answers between two assessments.

    Recommendations and questions are matched by id, so two content versions compare: what only one
    side has is reported as added or removed. The gap report ("since the previous assessment") and the
    supervisors' comparison page both use this, so they never disagree.
    """
    prev_scores, scores = before.scores, after.scores
    then_by_id, now_by_id = prev_scores.by_id, scores.by_id
    rows = []
    for rec in after.content.recommendations:
        now = now_by_id[rec.id]
        then = then_by_id.get(rec.id)
        b = then.current if then and then.applicable else None
        a = now.current if now.applicable else None
        if then is None:
            change = "new"
        elif a is None or b is None:
            change = "n/a"
        else:
            change = "rose" if a - b > 1e-9 else "fell" if b - a > 1e-9 else "same"
        rows.append(ComparisonRow(rec.number, rec.short_title, b, a, None if a is None or b is None else a - b,
                                  change, then.gap if then and then.applicable else None,
                                  now.gap if now.applicable else None))
    for rec in before.content.recommendations:
        if rec.id not in now_by_id:
            then = then_by_id[rec.id]
            rows.append(ComparisonRow(rec.number, rec.short_title, then.current if then.applicable else None, None,
                                      None, "removed", then.gap if then.applicable else None, None))
    prev_gap_ids = set(prev_scores.ranking)
    now_gap_ids = set(scores.ranking)
    title = {r.id: f"{r.number}. {r.short_title}" for r in after.content.recommendations}
    prev_title = {r.id: f"{r.number}. {r.short_title}" for r in before.content.recommendations}
    changes: list[QuestionChange] = []
    for rec in after.content.recommendations:
        for q in rec.questions:
            new_value = after.values.get(q.id)
            if q.id not in before.content.questions:
                changes.append(QuestionChange(q.id, title[rec.id], q.text, None, new_value, "",
                                              value_label(after.content, new_value), "added"))
                continue
            old_value = before.values.get(q.id)
            if old_value != new_value:
                changes.append(QuestionChange(q.id, title[rec.id], q.text, old_value, new_value,
                                              value_label(before.content, old_value),
                                              value_label(after.content, new_value),
                                              _level_change(old_value, new_value)))
    for rec in before.content.recommendations:
        for q in rec.questions:
            if q.id not in after.content.questions:
                old_value = before.values.get(q.id)
                changes.append(QuestionChange(q.id, prev_title[rec.id], q.text, old_value, None,
                                              value_label(before.content, old_value), "", "removed"))
    return Comparison(
        previous_title=before.title, previous_submitted_at=before.submitted_at,
        previous_version=before.content.version, maturity_before=prev_scores.maturity,
        maturity_after=scores.maturity, rows=rows,
        new_gaps=[title[i] for i in scores.ranking if i not in prev_gap_ids],
        closed_gaps=[prev_title[i] for i in prev_scores.ranking if i not in now_gap_ids],
        questions_added=sorted(set(after.content.questions) - set(before.content.questions)),
        questions_removed=sorted(set(before.content.questions) - set(after.content.questions)),
        current_title=after.title, current_submitted_at=after.submitted_at, current_version=after.content.version,
        exposure_before=dict(prev_scores.exposure), exposure_after=dict(scores.exposure),
        question_changes=changes,
    )


def side_of(session: Session, assessment: Assessment, content: Content) -> Side:
    """Load one assessment's stored values and targets and score them (two small queries)."""
    values = {q: v for q, v in session.execute(
        select(Answer.question_id, Answer.value).where(Answer.assessment_id == assessment.id,
                                                       Answer.value.is_not(None))) if v is not None}
    targets = {t.recommendation_id: t.target for t in assessment.targets}
    return Side(assessment.title, assessment.submitted_at, content, score(content, values, targets), values)


def compare_assessments(session: Session, first: Assessment, second: Assessment,
                        content_for: Any) -> tuple[Assessment, Assessment, Comparison]:
    """Compare two assessments in time order (the earlier one is "before"), whatever order they were given."""
    before, after = sorted((first, second), key=lambda a: (a.submitted_at or a.created_at, a.id))
    return before, after, compare(side_of(session, before, content_for(before.content_version)),
                                  side_of(session, after, content_for(after.content_version)))


def build_report_context(session: Session, assessment: Assessment, content: Content, *, marking: str,
                         organisation: str, content_for: Any, now: datetime | None = None) -> ReportContext:
    """Everything the page and the PDF show, computed once from the scoring module's results."""
    answers = {a.question_id: a for a in
               session.scalars(select(Answer).where(Answer.assessment_id == assessment.id))}
    user_ids = {a.updated_by_id for a in answers.values() if a.updated_by_id}
    user_ids |= {i for i in (assessment.submitted_by_id, assessment.signed_off_by_id) if i}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    targets = {t.recommendation_id: t.target for t in assessment.targets}
    values = {q: a.value for q, a in answers.items() if a.value is not None}
    scores = score(content, values, targets)
    rec_rows = [RecRow(r, scores.by_id[r.id], _answer_rows(content, r, answers, names))
                for r in content.recommendations]
    rows_by_id = {row.rec.id: row for row in rec_rows}
    gaps, numbering = gap_sections(content, scores, lambda rec: rows_by_id[rec.id].answers)
    comparison = None
    prev = _previous_submitted(session, assessment)
    if prev is not None:
        comparison = compare(side_of(session, prev, content_for(prev.content_version)),
                             Side(assessment.title, assessment.submitted_at, content, scores, values))
    unit = assessment.unit
    return ReportContext(
        assessment_id=assessment.id, title=assessment.title, agency=unit.agency.name, unit=unit.name,
        status=assessment.status, provisional=assessment.status != Status.SUBMITTED.value,
        content=content, content_version=content.version, generated_at=now or utcnow(), marking=marking,
        organisation=organisation, created_at=assessment.created_at, submitted_at=assessment.submitted_at,
        submitted_by=names.get(assessment.submitted_by_id or 0, ""), signed_off_at=assessment.signed_off_at,
        signed_off_by=names.get(assessment.signed_off_by_id or 0, ""),
        sign_off_remark=assessment.sign_off_remark or "", scores=scores, top=list(scores.gaps[:3]), gaps=gaps,
        recs=rec_rows, radar_svg=charts.radar(content, scores), matrix_svg=charts.pillar_matrix(content, scores),
        exposure_svg=charts.exposure_bars(content, scores),
        unconfirmed=[r for row in rec_rows for r in row.answers if r.value == "unknown"], comparison=comparison,
        sources=[(n, content.source_by_id[sid].citation, content.source_by_id[sid].url)
                 for sid, n in numbering.items()],
    )


def _previous_submitted(session: Session, assessment: Assessment) -> Assessment | None:
    """The unit's latest submitted assessment before this one (by submission, else creation time)."""
    pivot = assessment.submitted_at or assessment.created_at
    stmt = (select(Assessment)
            .where(Assessment.unit_id == assessment.unit_id, Assessment.id != assessment.id,
                   Assessment.status == Status.SUBMITTED.value, Assessment.submitted_at < pivot)
            .order_by(Assessment.submitted_at.desc()).limit(1))
    return session.scalars(stmt).first()


