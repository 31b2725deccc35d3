"""JSON export of one assessment (format documented in docs/export-format.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .context import ReportContext

FORMAT = "thb-assessment-export"
FORMAT_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_json(ctx: ReportContext) -> dict[str, Any]:
    """Answers and scores at full precision; consumers round for display themselves."""
    s = ctx.scores
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": _iso(ctx.generated_at),
        "content_version": ctx.content_version,
        "assessment": {
            "id": ctx.assessment_id,
            "title": ctx.title,
            "agency": ctx.agency,
            "unit": ctx.unit,
            "status": ctx.status,
            "provisional": ctx.provisional,
            "created_at": _iso(ctx.created_at),
            "submitted_at": _iso(ctx.submitted_at),
            "signed_off_at": _iso(ctx.signed_off_at),
        },
        "answers": [
            {
                "question_id": a.question_id,
                "recommendation_id": row.rec.id,
                "value": a.value,
                "comment": a.comment,
                "evidence": a.evidence,
                "updated_at": _iso(a.updated_at),
            }
            for row in ctx.recs
            for a in row.answers
        ],
        "recommendations": [
            {
                "id": r.id,
                "number": r.number,
                "title": row.rec.title,
                "status": r.status,
                "applicable": r.applicable,
                "current": r.current,
                "target": r.target,
                "gap": r.gap,
                "priority": r.priority,
                "pillar_weights": dict(r.weights),
                "questions": r.total,
                "counted": r.counted,
                "unknown": r.unknown,
                "not_applicable": r.na,
                "unanswered": r.unanswered,
            }
            for row in ctx.recs
            for r in [row.score]
        ],
        "pillar_exposure": dict(s.exposure),
        "overall_maturity": s.maturity,
        "overall_maturity_percent": s.maturity_percent,
        "gap_ranking": list(s.ranking),
        "answered": s.answered,
        "total_questions": s.total_questions,
    }
