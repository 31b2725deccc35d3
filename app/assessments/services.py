"""Assessment use cases. Services take a session and flush; the view commits (one transaction per save)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..content import Content, Question, Recommendation
from ..db import upsert
from ..models import Answer, Assessment, ResumePoint, Status, Target, Unit, User, utcnow
from ..scoring import DEFAULT_TARGET, Scores, score


class ReadOnlyError(Exception):
    """The assessment is submitted: it cannot change until a supervisor reopens it."""


@dataclass
class Conflict:
    question_id: str
    theirs: Answer | None
    by: str


class ConflictError(Exception):
    """Someone else changed the same answers since the page was loaded; nothing was saved."""

    def __init__(self, conflicts: list[Conflict], target_conflict: int | None = None) -> None:
        super().__init__("conflicting changes")
        self.conflicts = conflicts
        self.target_conflict = target_conflict


class IncompleteError(Exception):
    def __init__(self, missing: list[tuple[Recommendation, list[Question]]]) -> None:
        super().__init__("unanswered questions")
        self.missing = missing


@dataclass
class SectionInput:
    values: dict[str, str | None]
    comments: dict[str, str]
    evidence: dict[str, str]
    revs: dict[str, int | None]
    target: int = DEFAULT_TARGET
    target_orig: int | None = None


@dataclass
class Progress:
    sections_done: int
    sections_total: int
    answered: int
    total: int
    done_by_rec: dict[str, bool] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def create_assessment(session: Session, unit: Unit, title: str, user: User, content: Content) -> Assessment:
    """Start a draft against the current content version, with the default target for every recommendation."""
    a = Assessment(unit_id=unit.id, title=title, content_version=content.version, status=Status.DRAFT.value,
                   created_by_id=user.id, updated_by_id=user.id)
    a.targets = [Target(recommendation_id=r.id, target=DEFAULT_TARGET) for r in content.recommendations]
    session.add(a)
    session.flush()
    audit.record(session, "assessment_created", "assessment", a.id, user=user, agency_id=unit.agency_id)
    return a


def answers_by_question(session: Session, assessment: Assessment,
                        question_ids: Sequence[str] | None = None) -> dict[str, Answer]:
    """Stored answer rows by question id, with comment, evidence and revision (the conflict check needs them).

    ``question_ids``: only those (a save reads its own section's few rows, not the assessment's forty).
    """
    stmt = select(Answer).where(Answer.assessment_id == assessment.id)
    if question_ids is not None:
        stmt = stmt.where(Answer.question_id.in_(question_ids))
    return {a.question_id: a for a in session.scalars(stmt)}


def stored_answers(session: Session, assessment: Assessment,
                   question_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """What pages show of the stored answers, by question id: rows with ``value``, ``comment``, ``evidence`` and
    ``rev``, read as plain rows (no ORM objects: a page reads every answer of the assessment for its progress,
    and building 40 tracked objects cost more than the query). Saves use ``answers_by_question``.
    ``question_ids``: only those."""
    stmt = select(Answer.question_id, Answer.value, Answer.comment, Answer.evidence, Answer.rev) \
        .where(Answer.assessment_id == assessment.id)
    if question_ids is not None:
        stmt = stmt.where(Answer.question_id.in_(question_ids))
    return {r.question_id: r for r in session.execute(stmt)}


def answer_values(answers: Mapping[str, Any]) -> dict[str, str]:
    """Question id -> chosen value; a row holding only a comment is not an answer, for scores and progress."""
    return {q: a.value for q, a in answers.items() if a.value is not None}


def targets_of(assessment: Assessment) -> dict[str, int]:
    """Recommendation id -> the unit's target level, in the shape scoring takes."""
    return {t.recommendation_id: t.target for t in assessment.targets}


def scores_for(session: Session, assessment: Assessment, content: Content) -> Scores:
    """Score the assessment as stored now (provisional for a draft: unanswered questions are left out)."""
    return score(content, answer_values(stored_answers(session, assessment)), targets_of(assessment))


def progress(content: Content, values: dict[str, str]) -> Progress:
    """Sections and questions answered, for the progress bar and the section navigation."""
    done = {r.id: all(q.id in values for q in r.questions) for r in content.recommendations}
    return Progress(sum(done.values()), len(done), sum(1 for q in content.questions if q in values),
                    len(content.questions), done)


def missing_questions(content: Content, values: dict[str, str]) -> list[tuple[Recommendation, list[Question]]]:
    """Unanswered questions by recommendation: submitting is refused while any remain, and the page lists them."""
    out = []
    for r in content.recommendations:
        qs = [q for q in r.questions if q.id not in values]
        if qs:
            out.append((r, qs))
    return out


def save_section(
    session: Session, assessment: Assessment, rec: Recommendation, data: SectionInput, user: User
) -> int:
    """Store one section's answers and target; return how many answers changed.

    Detects overwrites per question: if someone changed an answer after this page was loaded and the
    user's input differs from that change, nothing is stored and ConflictError lists both versions.
    """
    if not assessment.is_editable:
        raise ReadOnlyError
    answers = answers_by_question(session, assessment, [q.id for q in rec.questions])
    conflicts: list[Conflict] = []
    changes: list[tuple[str, str | None, str, str]] = []
    for q in rec.questions:
        existing = answers.get(q.id)
        current_rev = existing.rev if existing else 0
        new_value = data.values.get(q.id)
        if new_value is None and existing is not None:
            new_value = existing.value  # an unselected radio leaves the stored level as it is
        new = (new_value, data.comments.get(q.id, ""), data.evidence.get(q.id, ""))
        old = (existing.value, existing.comment, existing.evidence) if existing else (None, "", "")
        if new == old:
            continue
        loaded_rev = data.revs.get(q.id)
        if loaded_rev is not None and loaded_rev != current_rev:
            who = existing.updated_by.name if existing and existing.updated_by else ""
            conflicts.append(Conflict(q.id, existing, who))
            continue
        changes.append((q.id, *new))
    target_row = next((t for t in assessment.targets if t.recommendation_id == rec.id), None)
    stored_target = target_row.target if target_row else DEFAULT_TARGET
    target_conflict = None
    if data.target_orig is not None and data.target_orig != stored_target and data.target != stored_target:
        target_conflict = stored_target
    if conflicts or target_conflict is not None:
        raise ConflictError(conflicts, target_conflict)
    now = utcnow()
    for qid, value, comment, evidence in changes:
        ans = answers.get(qid)
        if ans is None:
            session.add(Answer(assessment_id=assessment.id, question_id=qid, value=value, comment=comment,
                               evidence=evidence, rev=1, updated_by_id=user.id, updated_at=now))
        else:
            ans.value, ans.comment, ans.evidence = value, comment, evidence
            ans.rev += 1
            ans.updated_by_id, ans.updated_at = user.id, now
    if target_row is None:
        assessment.targets.append(Target(recommendation_id=rec.id, target=data.target))
    elif target_row.target != data.target:
        target_row.target = data.target
    # Touching the assessment bumps its version_id: concurrent saves serialise on that row.
    assessment.updated_at, assessment.updated_by_id = now, user.id
    session.flush()
    return len(changes)


def record_resume_point(session: Session, user_id: int, assessment_id: int, section: int) -> None:
    """Remember where this person continues the assessment (called with their save, never on a page view).

    One upsert on its own table: it never touches the assessment row, so it neither bumps the version counter
    that guards concurrent saves nor moves where a colleague continues.
    """
    upsert(session, ResumePoint, [{"user_id": user_id, "assessment_id": assessment_id, "section": section,
                                   "updated_at": utcnow()}], ["user_id", "assessment_id"], ["section", "updated_at"])


def resume_section(session: Session, user_id: int, assessment: Assessment, content: Content,
                   values: dict[str, str]) -> int:
    """The section where ``user_id`` continues: their own last save's, else the first with unanswered questions."""
    saved = session.scalar(select(ResumePoint.section).where(ResumePoint.user_id == user_id,
                                                             ResumePoint.assessment_id == assessment.id))
    if saved is not None and saved in content.recommendation_by_number:
        return saved
    missing = missing_questions(content, values)
    return missing[0][0].number if missing else 1


def submit(session: Session, assessment: Assessment, user: User, content: Content) -> bool:
    """Submit when complete. Returns False when it was already submitted (a double submit is harmless)."""
    if assessment.status == Status.SUBMITTED.value:
        return False
    values = answer_values(stored_answers(session, assessment))
    missing = missing_questions(content, values)
    if missing:
        raise IncompleteError(missing)
    now = utcnow()
    assessment.status = Status.SUBMITTED.value
    assessment.submitted_at, assessment.submitted_by_id = now, user.id
    assessment.updated_at, assessment.updated_by_id = now, user.id
    session.flush()
    audit.record(session, "assessment_submitted", "assessment", assessment.id, user=user,
                 agency_id=assessment.unit.agency_id)
    return True


class StateError(Exception):
    """The action does not fit the assessment's current status."""


def sign_off(session: Session, assessment: Assessment, user: User, remark: str) -> None:
    """A supervisor approves a submitted assessment; the remark is printed in the report's sign-off block."""
    if assessment.status != Status.SUBMITTED.value:
        raise StateError("only a submitted assessment can be signed off")
    if assessment.signed_off_at is not None:
        raise StateError("already signed off")
    assessment.signed_off_by_id, assessment.signed_off_at = user.id, utcnow()
    assessment.sign_off_remark = remark or None
    session.flush()
    audit.record(session, "assessment_signed_off", "assessment", assessment.id, user=user,
                 agency_id=assessment.unit.agency_id)


def reopen(session: Session, assessment: Assessment, user: User, reason: str) -> None:
    """Make a submitted assessment editable again; the sign-off no longer applies and is withdrawn."""
    if assessment.status != Status.SUBMITTED.value:
        raise StateError("only a submitted assessment can be reopened")
    if not reason.strip():
        raise StateError("a reason is required")
    now = utcnow()
    assessment.status = Status.REOPENED.value
    assessment.reopened_by_id, assessment.reopened_at, assessment.reopen_reason = user.id, now, reason
    assessment.signed_off_by_id = assessment.signed_off_at = assessment.sign_off_remark = None
    assessment.updated_at, assessment.updated_by_id = now, user.id
    session.flush()
    audit.record(session, "assessment_reopened", "assessment", assessment.id, user=user,
                 agency_id=assessment.unit.agency_id, detail=f"reason: {reason[:400]}")
