"""What an agency's dashboard and agency report depend on, read in a few small statements.

The dashboard and the agency report change only when an assessment of the agency changes (a save, a submission,
a sign-off, a reopening, a new or deleted draft), when an action of its plan changes, or when a unit or the
agency is renamed. Caches of what they show (per process, or in the database) are keyed by this fingerprint, so
they stay right across worker processes and hosts without any writer having to remember to invalidate them:
every writer already bumps ``version_id``/``updated_at``, and a deletion changes the counts.

Aggregates over indexed columns: its cost grows slowly with the agency, and it is far below
what it saves (the scores of every assessment and the template that draws them).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..actions.models import ActionItem
from ..models import Agency, Assessment, Unit


def agency_fingerprint(session: Session, agency_id: int) -> str:
    """A short hex digest that changes whenever anything the agency's dashboard or report shows can change.

    Dates that depend on "today" (overdue actions, "done in the last 12 months") are not in it: callers that
    show them add the date to their own key.
    """
    units = select(Unit.id).where(Unit.agency_id == agency_id).scalar_subquery()
    assessments = select(func.count(Assessment.id), func.coalesce(func.sum(Assessment.version_id), 0),
                         func.max(Assessment.updated_at), func.max(Assessment.id)).where(Assessment.unit_id.in_(units))
    actions = select(func.count(ActionItem.id), func.coalesce(func.sum(ActionItem.version_id), 0),
                     func.max(ActionItem.updated_at), func.max(ActionItem.id)).where(ActionItem.unit_id.in_(units))
    names = select(Unit.id, Unit.name).where(Unit.agency_id == agency_id).order_by(Unit.id)
    agency = session.get(Agency, agency_id)
    row: list[Any] = [agency_id, agency.name if agency is not None else None]
    row += list(session.execute(assessments).one())
    row += list(session.execute(actions).one())
    row += [tuple(r) for r in session.execute(names).all()]
    return hashlib.sha256(repr(row).encode()).hexdigest()[:32]
