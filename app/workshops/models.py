"""Workshop tables. Participants are pseudonymous: a hash of a random cookie token, never a name or e-mail.

Participant-level rows (Participant, WorkshopAnswer) are deleted after the retention period; the per-question
counts (WorkshopAggregate) and the trainer's consensus stay, so the board and report still render afterwards.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..models import ANSWER_VALUES_SQL, Agency, User, UTCDateTime, utcnow

VALUE_CHECK = f"value IN {ANSWER_VALUES_SQL}"


class WorkshopStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Pacing(enum.StrEnum):
    ALL = "all"  # every selected recommendation is open at once
    ONE = "one"  # the trainer opens one recommendation at a time


class Workshop(Base):
    __tablename__ = "workshop"
    __table_args__ = (
        CheckConstraint("status IN ('open','closed')", name="status_known"),
        CheckConstraint("pacing IN ('all','one')", name="pacing_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    content_version: Mapped[str] = mapped_column(String(32))
    # Selected recommendation ids, comma-separated in content order ("r1,r4,r7").
    recommendation_ids: Mapped[str] = mapped_column(String(400))
    pacing: Mapped[str] = mapped_column(String(10), default=Pacing.ALL.value)
    open_recommendation_id: Mapped[str | None] = mapped_column(String(40))
    # The code stays after closing so a late participant is told "closed" rather than "wrong code".
    code: Mapped[str] = mapped_column(String(12), index=True)
    # Equal to ``code`` while open, NULL when closed: the unique constraint keeps codes unique among open workshops.
    open_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default=WorkshopStatus.OPEN.value)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Participation counts (JSON) frozen just before participant-level rows are purged; NULL until then.
    participation: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    agency: Mapped[Agency] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == WorkshopStatus.OPEN.value

    @property
    def rec_ids(self) -> list[str]:
        return [r for r in self.recommendation_ids.split(",") if r]


class Participant(Base):
    __tablename__ = "workshop_participant"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie token
    role_label: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkshopAnswer(Base):
    __tablename__ = "workshop_answer"
    __table_args__ = (
        UniqueConstraint("participant_id", "question_id", name="uq_workshop_answer_participant_question"),
        CheckConstraint(VALUE_CHECK, name="value_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the participant so the board aggregates one workshop with a single indexed query.
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    # No separate index: the unique (participant_id, question_id) constraint's index serves lookups and cascades.
    participant_id: Mapped[int] = mapped_column(ForeignKey("workshop_participant.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkshopConsensus(Base):
    __tablename__ = "workshop_consensus"
    __table_args__ = (
        UniqueConstraint("workshop_id", "question_id", name="uq_workshop_consensus_workshop_question"),
        CheckConstraint(VALUE_CHECK, name="value_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(8))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkshopAggregate(Base):
    """Per-question answer counts, frozen when participant-level answers are purged."""

    __tablename__ = "workshop_aggregate"
    __table_args__ = (
        UniqueConstraint("workshop_id", "question_id", name="uq_workshop_aggregate_workshop_question"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    counts: Mapped[str] = mapped_column(Text)  # JSON {value: count}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
