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

from sqlalchemy import func, literal, select, true, union_all
from sqlalchemy.orm import Session

from ..actions.models import ActionItem
from ..models import Agency, Assessment, Unit, User


def agency_fingerprint(session: Session, agency_id: int) -> str:
    """A short hex digest that changes whenever anything the agency's dashboard or report shows can change.

    Two statements whatever the size of the agency: one row of aggregates (with the agency's name), and the
    names of its units and of the people named as owners of its actions (renaming a person changes no row of
    the agency itself). Dates that depend on "today" (overdue actions, "done in the last 12 months") are not
    in it: callers that show them add the date to their own key.
    """
    units = select(Unit.id).where(Unit.agency_id == agency_id).scalar_subquery()
    assessments = select(func.count(Assessment.id).label("n"), func.coalesce(func.sum(Assessment.version_id), 0)
                         .label("v"), func.max(Assessment.updated_at).label("t"), func.max(Assessment.id).label("m")
                         ).where(Assessment.unit_id.in_(units)).subquery()
    actions = select(func.count(ActionItem.id).label("n"), func.coalesce(func.sum(ActionItem.version_id), 0)
                     .label("v"), func.max(ActionItem.updated_at).label("t"), func.max(ActionItem.id).label("m")
                     ).where(ActionItem.unit_id.in_(units)).subquery()
    agency_name = select(Agency.name).where(Agency.id == agency_id).scalar_subquery()
    one = select(agency_name, *assessments.c, *actions.c).select_from(assessments).join(actions, true())
    names = union_all(
        select(literal("u"), Unit.id, Unit.name).where(Unit.agency_id == agency_id),
        select(literal("o"), User.id, User.name).where(User.id.in_(
            select(ActionItem.owner_id).join(Unit, Unit.id == ActionItem.unit_id).where(Unit.agency_id == agency_id))),
    ).subquery()
    row: list[Any] = [agency_id, *session.execute(one).one()]
    row += sorted(tuple(r) for r in session.execute(select(names)).all())
    return hashlib.sha256(repr(row).encode()).hexdigest()[:32]
