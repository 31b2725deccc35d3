"""The action-plan table. An action belongs to one unit and one recommendation (kept by id, so it stays readable
when a later content version renames or removes the recommendation) and records the assessment that raised it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..models import Unit, User, UTCDateTime, utcnow


class ActionStatus(enum.StrEnum):
    # Carried from a workshop's hotspots: not part of the plan (nor of any count) until a member adopts it.
    PROPOSED = "proposed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


OPEN_STATUSES = (ActionStatus.PLANNED.value, ActionStatus.IN_PROGRESS.value)
TITLE_MAX = 200
NAME_MAX = 200
TEXT_MAX = 4000


class ActionItem(Base):
    __tablename__ = "action_item"
    __table_args__ = (
        CheckConstraint("status IN ('proposed','planned','in_progress','done','dropped')", name="status_known"),
        # A dropped action always says why (the service checks it too; this keeps imports and scripts honest).
        CheckConstraint("status <> 'dropped' OR drop_reason <> ''", name="drop_has_reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    recommendation_id: Mapped[str] = mapped_column(String(40))
    # The content version the recommendation was read in when the action was made (for the "renamed" flag).
    content_version: Mapped[str] = mapped_column(String(32))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Name and role as text, for owners without an account (or alongside one).
    owner_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.PLANNED.value)
    drop_reason: Mapped[str] = mapped_column(Text, default="")
    progress_note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The workshop whose hotspot this action came from (its title, kept as text: workshops are purged); "" otherwise.
    proposed_by: Mapped[str] = mapped_column(String(NAME_MAX), default="", server_default="")
    supervisor_remark: Mapped[str] = mapped_column(Text, default="")
    remark_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    remark_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)

    unit: Mapped[Unit] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    remark_by: Mapped[User | None] = relationship(foreign_keys=[remark_by_id])

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_proposed(self) -> bool:
        return self.status == ActionStatus.PROPOSED.value

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_date is not None and self.due_date < today

    @property
    def owner_label(self) -> str:
        return self.owner.name if self.owner is not None else self.owner_name
