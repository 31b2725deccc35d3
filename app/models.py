"""Typed SQLAlchemy models. No scoring here: scores are computed by app.scoring from answers + content."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .db import Base
from .scoring import VALID_VALUES


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    MEMBER = "member"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    ADMIN = "admin"


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REOPENED = "reopened"


# SQL list of the stored answer values for the CHECK constraints (here and in workshops/models.py).
ANSWER_VALUES_SQL = "(" + ",".join(f"'{v}'" for v in VALID_VALUES) + ")"
COMMENT_MAX = 4000


class Agency(Base):
    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    units: Mapped[list[Unit]] = relationship(back_populates="agency", order_by="Unit.name")


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("agency_id", "name", name="uq_unit_agency_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    agency: Mapped[Agency] = relationship(back_populates="units")


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('member','supervisor','trainer','admin')", name="role_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout and password change: every session cookie carrying an older value is dead.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The interface language the person chose (None: follow the browser); see app/i18n.py.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agency: Mapped[Agency | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    # Flask-Login protocol, spelled out so no mixin hides what "active" means.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"


class Assessment(Base):
    __tablename__ = "assessment"
    __table_args__ = (
        CheckConstraint("status IN ('draft','submitted','reopened')", name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    content_version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT.value)
    # Unused: "continue where you left off" is per person (ResumePoint). Kept to avoid a table rebuild on SQLite.
    last_section: Mapped[int] = mapped_column(Integer, default=1)
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sign_off_remark: Mapped[str | None] = mapped_column(Text)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    answers: Mapped[list[Answer]] = relationship(back_populates="assessment", cascade="all, delete-orphan")
    targets: Mapped[list[Target]] = relationship(back_populates="assessment", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_editable(self) -> bool:
        return self.status in (Status.DRAFT.value, Status.REOPENED.value)


class ResumePoint(Base):
    """Where one person continues an assessment: the section of their own last save.

    Kept apart from the assessment row on purpose: recording it never touches the assessment's version
    counter (which guards concurrent saves), and one member's place never moves another's.
    """

    __tablename__ = "resume_point"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    section: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Target(Base):
    __tablename__ = "assessment_target"
    __table_args__ = (
        UniqueConstraint("assessment_id", "recommendation_id", name="uq_target_assessment_rec"),
        CheckConstraint("target BETWEEN 1 AND 4", name="target_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    recommendation_id: Mapped[str] = mapped_column(String(40))
    target: Mapped[int] = mapped_column(Integer, default=3)
    assessment: Mapped[Assessment] = relationship(back_populates="targets")


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("assessment_id", "question_id", name="uq_answer_assessment_question"),
        CheckConstraint(f"value IS NULL OR value IN {ANSWER_VALUES_SQL}", name="value_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    # NULL while only a comment or evidence note was saved: kept, but the question counts as unanswered.
    value: Mapped[str | None] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    # Incremented on every change; a form carries the revision it was loaded with to detect overwrites.
    rev: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assessment: Mapped[Assessment] = relationship(back_populates="answers")
    updated_by: Mapped[User | None] = relationship()


class PasswordToken(Base):
    """One-time, expiring link to set a password. Only a hash of the token is stored."""

    __tablename__ = "password_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ReportCache(Base):
    """Rendered PDF of a submitted assessment in one language; valid while its version_id is unchanged."""

    __tablename__ = "report_cache"
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    assessment_version: Mapped[int] = mapped_column(Integer)
    # The unit's action plan as printed in it (app.actions.services.plan_fingerprint): the PDF lists the planned
    # actions under each gap, so it is valid only while this key matches too. NULL: made before plans were shown.
    plan_key: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class PdfCache(Base):
    """A rendered PDF other than the gap report (a closed workshop's report, an agency report), per language.

    ``cache_key`` is a fingerprint of everything the file shows, read from the database (app.pdfcache): the row
    is served only while the key computed now equals it. ``job_key``/``job_started_at`` claim the rendering of a
    key, so that two requests (in any process, on any host) do not render the same file twice; a claim older
    than a few minutes is taken over (its worker may have been killed).
    """

    __tablename__ = "pdf_cache"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    object_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_key: Mapped[str | None] = mapped_column(String(64))
    job_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only record of who did what to which object, when and from where. Never answers or secrets."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")


class RateCounter(Base):
    """One rate-limit window (app.ratelimit): shared by every worker and kept across restarts.

    ``key`` is a hash of the limit's scope and subject (e-mail, address), so typed e-mail addresses are not
    kept in clear; times are epoch milliseconds, compared the same way on every database.
    """

    __tablename__ = "rate_counter"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start_ms: Mapped[int] = mapped_column(BigInteger)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    count: Mapped[int] = mapped_column(Integer)

