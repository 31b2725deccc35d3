"""Action-plan rules: what an action may hold, who may own it, how edits are checked and audited.

The same rules as answers (app.assessments.services): one transaction per change, optimistic locking through the
row's version counter (a form carries the version it was loaded with; a save against a newer one is refused with
both versions shown), and an audit row for every change, written in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..content import Content, Recommendation
from ..models import Assessment, Role, Unit, User, utcnow
from ..scoring import level_floor
from .models import NAME_MAX, OPEN_STATUSES, TEXT_MAX, TITLE_MAX, ActionItem, ActionStatus

DUE_MIN = date(2000, 1, 1)
DUE_MAX = date(2100, 12, 31)
EDITED_FIELDS = ("title", "description", "owner_id", "owner_name", "due_date", "status", "drop_reason",
                 "progress_note", "evidence")


class InputError(ValueError):
    """Input the service refuses (the form should have caught it; scripts and forged posts get here)."""


@dataclass
class ConflictError(Exception):
    """Someone saved the action after this form was loaded: ``theirs`` is what is stored now."""

    theirs: dict[str, Any]
    changed_by: str


@dataclass
class ActionInput:
    title: str
    description: str = ""
    owner_id: int | None = None
    owner_name: str = ""
    due_date: date | None = None
    status: str = ActionStatus.PLANNED.value
    drop_reason: str = ""
    progress_note: str = ""
    evidence: str = ""

    def values(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in EDITED_FIELDS}


def _check_text(label: str, value: str, limit: int, *, required: bool = False) -> None:
    if required and not value.strip():
        raise InputError(_("%(field)s is required.", field=label))
    if len(value) > limit:
        raise InputError(_("%(field)s is too long (at most %(n)d characters).", field=label, n=limit))
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise InputError(_("%(field)s contains control characters (such as NUL).", field=label))


def unit_members(session: Session, unit_id: int) -> list[User]:
    """The accounts an action of this unit may be given to: the unit's active members."""
    return list(session.scalars(select(User).where(User.unit_id == unit_id, User.role == Role.MEMBER.value,
                                                   User.active.is_(True)).order_by(User.name)))


def validate(session: Session, unit: Unit, data: ActionInput) -> None:
    """Refuse what must never be stored, whatever the form let through; nothing is written before this passes."""
    _check_text(_("Title"), data.title, TITLE_MAX, required=True)
    _check_text(_("What is to be done"), data.description, TEXT_MAX)
    _check_text(_("Owner (name and role)"), data.owner_name, NAME_MAX)
    _check_text(_("Reason for dropping"), data.drop_reason, TEXT_MAX)
    _check_text(_("Progress note"), data.progress_note, TEXT_MAX)
    _check_text(_("Evidence of completion"), data.evidence, TEXT_MAX)
    if data.status not in {s.value for s in ActionStatus}:
        raise InputError(_("Unknown status."))
    if data.status == ActionStatus.DROPPED.value and not data.drop_reason.strip():
        raise InputError(_("Say why the action is dropped."))
    if data.due_date is not None and not DUE_MIN <= data.due_date <= DUE_MAX:
        raise InputError(_("The due date must lie between %(a)s and %(b)s.", a=DUE_MIN.isoformat(),
                           b=DUE_MAX.isoformat()))
    if data.owner_id is not None and data.owner_id not in {u.id for u in unit_members(session, unit.id)}:
        # An owner from another unit (or agency) would leak this plan to them: refused, never stored.
        raise InputError(_("The owner must be a member of this unit."))


def suggestions(content: Content, rec: Recommendation, current: float | None) -> tuple[int, list[str]]:
    """The content's suggested actions for the level a recommendation reached (as the gap report shows them)."""
    reached = level_floor(current or 0)
    return reached, list(rec.actions.get(reached, ()))


def create_action(session: Session, unit: Unit, assessment: Assessment | None, rec: Recommendation,
                  content_version: str, data: ActionInput, user: User) -> ActionItem:
    """Add an action to the unit's plan for one recommendation, recording the assessment that raised it."""
    validate(session, unit, data)
    now = utcnow()
    item = ActionItem(unit_id=unit.id, recommendation_id=rec.id, content_version=content_version,
                      assessment_id=assessment.id if assessment else None, created_by_id=user.id, created_at=now,
                      updated_by_id=user.id, updated_at=now, supervisor_remark="", **data.values())
    if item.status == ActionStatus.DONE.value:
        item.done_at = now
    session.add(item)
    session.flush()
    audit.record(session, "action_created", "action", item.id, user=user, agency_id=unit.agency_id,
                 detail=f"unit {unit.id} recommendation {rec.id} status {item.status}")
    return item


def snapshot(item: ActionItem) -> dict[str, Any]:
    return {f: getattr(item, f) for f in EDITED_FIELDS} | {"owner_label": item.owner_label,
                                                          "version_id": item.version_id}


def update_action(session: Session, item: ActionItem, data: ActionInput, expected_version: int,
                  user: User) -> list[str]:
    """Apply an edit made on the version ``expected_version``; returns the names of the changed fields.

    A form loaded before someone else's save is refused (ConflictError) rather than silently overwriting it;
    the row's version counter also stops two saves racing past this check (StaleDataError at flush).
    """
    if expected_version != item.version_id:
        who = item.updated_by.name if item.updated_by else ""
        raise ConflictError(snapshot(item), who)
    validate(session, item.unit, data)
    changed = [f for f, v in data.values().items() if getattr(item, f) != v]
    if not changed:
        return []
    before = item.status
    for f in changed:
        setattr(item, f, getattr(data, f))
    if item.status == ActionStatus.DONE.value and before != ActionStatus.DONE.value:
        item.done_at = utcnow()
    elif item.status != ActionStatus.DONE.value:
        item.done_at = None
    item.updated_by_id, item.updated_at = user.id, utcnow()
    session.flush()
    audit.record(session, "action_updated", "action", item.id, user=user, agency_id=item.unit.agency_id,
                 detail=f"changed {', '.join(changed)}; status {before} -> {item.status}")
    return changed


def add_remark(session: Session, item: ActionItem, text: str, user: User) -> None:
    """A supervisor's remark on an action: the only thing a supervisor writes in a unit's plan."""
    _check_text(_("Remark"), text, TEXT_MAX, required=True)
    item.supervisor_remark, item.remark_by_id, item.remark_at = text, user.id, utcnow()
    session.flush()
    audit.record(session, "action_remark", "action", item.id, user=user, agency_id=item.unit.agency_id,
                 detail=f"unit {item.unit_id}")


@dataclass
class Filters:
    status: str = ""  # "" or "all": every status; "open"; or one status
    owner: str = ""  # "" all, "u<id>" an account, "n<name>" a free-text owner
    recommendation: str = ""


def plan(session: Session, unit_id: int, filters: Filters | None = None) -> list[ActionItem]:
    """The unit's actions (filtered), in one query with their people loaded."""
    stmt = (select(ActionItem).where(ActionItem.unit_id == unit_id)
            .options(selectinload(ActionItem.owner), selectinload(ActionItem.updated_by),
                     selectinload(ActionItem.remark_by))
            .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id))
    f = filters or Filters()
    if f.status == "open":
        stmt = stmt.where(ActionItem.status.in_(OPEN_STATUSES))
    elif f.status in {s.value for s in ActionStatus}:
        stmt = stmt.where(ActionItem.status == f.status)
    if f.owner.startswith("u") and f.owner[1:].isdigit():
        stmt = stmt.where(ActionItem.owner_id == int(f.owner[1:]))
    elif f.owner.startswith("n"):
        stmt = stmt.where(ActionItem.owner_id.is_(None), ActionItem.owner_name == f.owner[1:])
    if f.recommendation:
        stmt = stmt.where(ActionItem.recommendation_id == f.recommendation)
    return list(session.scalars(stmt))


@dataclass
class Counts:
    open: int = 0
    overdue: int = 0
    done_this_year: int = 0


def counts(items: list[ActionItem], today: date) -> Counts:
    c = Counts()
    for a in items:
        c.open += a.is_open
        c.overdue += a.is_overdue(today)
        c.done_this_year += a.status == ActionStatus.DONE.value and a.done_at is not None and \
            a.done_at.year == today.year
    return c


@dataclass
class Group:
    """The actions of one recommendation, with what the current content says of it (None: no longer there)."""

    recommendation_id: str
    rec: Recommendation | None
    actions: list[ActionItem] = field(default_factory=list)

    @property
    def pillars(self) -> list[str]:
        return sorted(self.rec.pillars) if self.rec else []


def grouped(content: Content, items: list[ActionItem]) -> list[Group]:
    """Actions grouped by recommendation, in content order; recommendations the content no longer has last."""
    groups: dict[str, Group] = {}
    for a in items:
        groups.setdefault(a.recommendation_id, Group(a.recommendation_id,
                                                     content.recommendation_by_id.get(a.recommendation_id)))
        groups[a.recommendation_id].actions.append(a)
    return sorted(groups.values(), key=lambda g: (g.rec is None, g.rec.number if g.rec else 0,
                                                  g.recommendation_id))


def owners(items: list[ActionItem]) -> list[tuple[str, str]]:
    """The owner filter's choices: (value, label), one per distinct owner of the unit's actions."""
    seen: dict[str, str] = {}
    for a in items:
        if a.owner is not None:
            seen[f"u{a.owner_id}"] = a.owner.name
        elif a.owner_name:
            seen[f"n{a.owner_name}"] = a.owner_name
    return sorted(seen.items(), key=lambda kv: kv[1].lower())


def by_recommendation(session: Session, unit_id: int) -> dict[str, list[ActionItem]]:
    """The unit's actions that are not dropped, per recommendation id (for the gap report)."""
    out: dict[str, list[ActionItem]] = defaultdict(list)
    for a in plan(session, unit_id):
        if a.status != ActionStatus.DROPPED.value:
            out[a.recommendation_id].append(a)
    return dict(out)


@dataclass
class SinceRow:
    """One recommendation in "since the previous assessment": its level change and the actions done between."""

    number: int
    title: str
    change: str  # as in reports.context.ComparisonRow: rose | fell | same | new | removed | n/a
    delta: float | None
    done: list[ActionItem]


@dataclass
class Since:
    rows: list[SinceRow]  # recommendations with a completed action or a rise
    done_no_rise: list[SinceRow]  # actions completed, level did not rise
    rise_no_action: list[SinceRow]  # level rose with no completed action behind it


def since_previous(session: Session, unit_id: int, r: Any) -> Since | None:
    """Close the loop: per recommendation, the actions completed between the previous submitted assessment and
    this one (``r`` is its ReportContext), next to the change in the recommendation's level.

    An action counts when its done_at lies after the previous submission and not after this one (or now, for a
    provisional report); dropped and open actions do not count.
    """
    c = r.comparison
    if c is None or c.previous_submitted_at is None:
        return None
    end = r.submitted_at or utcnow()
    done = session.scalars(select(ActionItem).where(
        ActionItem.unit_id == unit_id, ActionItem.status == ActionStatus.DONE.value,
        ActionItem.done_at > c.previous_submitted_at, ActionItem.done_at <= end).order_by(ActionItem.done_at))
    by_rec: dict[str, list[ActionItem]] = defaultdict(list)
    for a in done:
        by_rec[a.recommendation_id].append(a)
    rows = []
    for row in c.rows:
        rec = r.content.recommendation_by_number.get(row.number)
        acts = by_rec.get(rec.id, []) if rec else []
        if acts or row.change == "rose":
            rows.append(SinceRow(row.number, row.title, row.change, row.delta, acts))
    return Since(rows, [x for x in rows if x.done and x.change != "rose"],
                 [x for x in rows if not x.done and x.change == "rose"])


@dataclass
class ReportPlan:
    """What the gap report shows of the plan: actions per gap, how many, and whether the reader may add one."""

    by_rec: dict[str, list[ActionItem]]
    total: int
    covered: int
    can_plan: bool
    since: Since | None = None
    overdue: int = 0  # open actions under the gaps whose due date has passed
    pdf: bool = False  # printed (no links, no buttons) rather than the results page
    today: date | None = None


def report_plan(session: Session, unit_id: int, r: Any, *, can_plan: bool, pdf: bool = False) -> ReportPlan:
    """The unit's live (not dropped) actions under each gap of a report (``r``, a ReportContext), and the
    actions completed since the previous assessment."""
    by_rec = by_recommendation(session, unit_id)
    ids = [g.rec.id for g in r.gaps]
    today = today_utc()
    overdue = sum(1 for i in ids for x in by_rec.get(i, [])
                  if x.status in OPEN_STATUSES and x.due_date is not None and x.due_date < today)
    return ReportPlan(by_rec, sum(len(by_rec.get(i, [])) for i in ids), sum(1 for i in ids if by_rec.get(i)),
                      can_plan, since_previous(session, unit_id, r), overdue, pdf, today)


def plan_fingerprint(session: Session, unit_id: int, today: date) -> str:
    """A key that changes whenever what a report shows of the unit's plan can change (issue 17): any action
    added, edited (its version), deleted (the count), and any open action becoming overdue since (the number of
    overdue ones as of ``today``, so the key does not change every day, only when a due date passes)."""
    is_open = ActionItem.status.in_(OPEN_STATUSES)
    row = session.execute(select(func.count(ActionItem.id), func.coalesce(func.sum(ActionItem.version_id), 0),
                                 func.max(ActionItem.updated_at), func.max(ActionItem.id),
                                 func.count(ActionItem.id).filter(is_open, ActionItem.due_date < today))
                          .where(ActionItem.unit_id == unit_id)).one()
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class UnitPlanRow:
    unit_id: int
    unit: str
    open: int
    overdue: int
    done_12_months: int


@dataclass
class AgencyPlans:
    units: list[UnitPlanRow]
    overdue: list[tuple[str, ActionItem]]  # (unit name, action), most overdue first


def agency_plans(session: Session, agency_id: int, today: date) -> AgencyPlans:
    """The supervisor's view of every unit's plan, in two queries whatever the number of units and actions."""
    is_open = ActionItem.status.in_(OPEN_STATUSES)
    since = utcnow() - timedelta(days=365)
    counts_q = (select(Unit.id, Unit.name,
                       func.count(ActionItem.id).filter(is_open),
                       func.count(ActionItem.id).filter(is_open, ActionItem.due_date < today),
                       func.count(ActionItem.id).filter(ActionItem.status == ActionStatus.DONE.value,
                                                        ActionItem.done_at >= since))
                .outerjoin(ActionItem, ActionItem.unit_id == Unit.id)
                .where(Unit.agency_id == agency_id).group_by(Unit.id, Unit.name).order_by(Unit.name))
    units = [UnitPlanRow(*row) for row in session.execute(counts_q)]
    late = session.execute(select(Unit.name, ActionItem).join(Unit, Unit.id == ActionItem.unit_id)
                           .where(Unit.agency_id == agency_id, is_open, ActionItem.due_date < today)
                           .order_by(ActionItem.due_date, Unit.name, ActionItem.id).limit(200)).all()
    return AgencyPlans(units, [(name, item) for name, item in late])


def today_utc() -> date:
    """The day overdue marks are computed against (UTC, the same for every reader of a plan)."""
    return utcnow().date()
