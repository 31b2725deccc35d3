"""Action-plan rules: what an action may hold, who may own it, how edits are checked and audited.

The same rules as answers (app.assessments.services): one transaction per change, optimistic locking through the
row's version counter (a form carries the version it was loaded with; a save against a newer one is refused with
both versions shown), and an audit row for every change, written in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select
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
    if data.status not in {s.value for s in ActionStatus} or data.status == ActionStatus.PROPOSED.value:
        # "Proposed" is set by a workshop only; a member adopts or drops a proposal, never makes one.
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


@dataclass(frozen=True)
class Proposal:
    """A workshop hotspot to carry into a unit's plan: the question's recommendation and the action's wording."""

    recommendation_id: str
    title: str
    description: str


def propose_from_workshop(session: Session, unit: Unit, assessment_id: int | None, workshop_title: str,
                          content_version: str, proposals: list[Proposal], user: User) -> list[ActionItem]:
    """Put a workshop's hotspots into the unit's plan as *proposed* actions (created by the trainer). They count
    nowhere (not open, not overdue) until a member of the unit adopts them."""
    items = []
    now = utcnow()
    for p in proposals:
        _check_text(_("Title"), p.title, TITLE_MAX, required=True)
        _check_text(_("What is to be done"), p.description, TEXT_MAX)
        item = ActionItem(unit_id=unit.id, recommendation_id=p.recommendation_id, content_version=content_version,
                          assessment_id=assessment_id, title=p.title, description=p.description, owner_name="",
                          status=ActionStatus.PROPOSED.value, drop_reason="", progress_note="", evidence="",
                          proposed_by=workshop_title[:NAME_MAX], supervisor_remark="", created_by_id=user.id,
                          created_at=now, updated_by_id=user.id, updated_at=now)
        session.add(item)
        items.append(item)
    session.flush()
    for item in items:
        audit.record(session, "action_proposed", "action", item.id, user=user, agency_id=unit.agency_id,
                     detail=f"unit {unit.id} recommendation {item.recommendation_id} by workshop")
    return items


def decide_proposal(session: Session, item: ActionItem, adopt: bool, reason: str, expected_version: int,
                    user: User) -> None:
    """A member adopts a proposed action (it becomes planned, owned by them) or drops it with a reason."""
    if not item.is_proposed:
        raise InputError(_("This action is no longer a proposal."))
    if expected_version != item.version_id:
        raise ConflictError(snapshot(item), item.updated_by.name if item.updated_by else "")
    if adopt:
        item.status = ActionStatus.PLANNED.value
        if item.owner_id is None and not item.owner_name:
            item.owner_id = user.id
    else:
        _check_text(_("Reason for dropping"), reason, TEXT_MAX, required=True)
        item.status, item.drop_reason = ActionStatus.DROPPED.value, reason
    item.updated_by_id, item.updated_at = user.id, utcnow()
    session.flush()
    audit.record(session, "action_adopted" if adopt else "action_updated", "action", item.id, user=user,
                 agency_id=item.unit.agency_id, detail=f"proposal -> {item.status}")


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
    if item.is_proposed:
        raise InputError(_("Adopt or drop the proposed action first."))
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
    """The actions of one recommendation, with what the current content says of it (None: no longer there) and,
    when the content changed under them, the title the actions were made against (``was``)."""

    recommendation_id: str
    rec: Recommendation | None
    actions: list[ActionItem] = field(default_factory=list)
    was: str = ""  # the recommendation's title in the actions' content version, when it differs from today's

    @property
    def pillars(self) -> list[str]:
        return sorted(self.rec.pillars) if self.rec else []

    @property
    def renamed(self) -> bool:
        return self.rec is not None and bool(self.was)


def recorded_title(lookup: Callable[[str], Content] | None, item: ActionItem) -> str:
    """The recommendation's title in the content version the action was made in ("" when not installed)."""
    if lookup is None:
        return ""
    try:
        rec = lookup(item.content_version).recommendation_by_id.get(item.recommendation_id)
    except LookupError:
        return ""
    return f"{rec.number}. {rec.short_title}" if rec else ""


def grouped(content: Content, items: list[ActionItem],
            lookup: Callable[[str], Content] | None = None) -> list[Group]:
    """Actions grouped by recommendation, in content order; recommendations the content no longer has last.

    An action keeps its recommendation id through content versions: when a later version removes the
    recommendation the group is flagged (``rec`` None) and titled as the action's own version had it; when it
    renames it, ``was`` keeps the title the action was planned against (``lookup``: version -> Content)."""
    groups: dict[str, Group] = {}
    for a in items:
        g = groups.get(a.recommendation_id)
        if g is None:
            g = groups[a.recommendation_id] = Group(a.recommendation_id,
                                                    content.recommendation_by_id.get(a.recommendation_id))
        if not g.was and a.content_version != content.version:
            title = recorded_title(lookup, a)
            now = f"{g.rec.number}. {g.rec.short_title}" if g.rec else ""
            if title and title != now:
                g.was = title
        g.actions.append(a)
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
    """The unit's actions that are neither dropped nor merely proposed, per recommendation id (for the gap
    report)."""
    out: dict[str, list[ActionItem]] = defaultdict(list)
    for a in plan(session, unit_id):
        if a.status not in (ActionStatus.DROPPED.value, ActionStatus.PROPOSED.value):
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


OVERDUE_SORTS = ("due", "unit", "rec")  # the whitelist of the overdue list's sort keys


def overdue_sort(sort: str, order: str) -> tuple[str, str]:
    """The overdue list's sort key and order from the query string: anything not whitelisted falls back to due date,
    ascending (so a cache keyed on it holds one entry per order really shown)."""
    return (sort if sort in OVERDUE_SORTS else "due"), (order if order in ("asc", "desc") else "asc")
OVERDUE_SHOWN = 200


@dataclass(frozen=True)
class OverdueRow:
    unit: str
    action: ActionItem
    rec: Recommendation | None  # None: the current content no longer has the recommendation
    days: int  # days overdue


@dataclass
class AgencyPlans:
    units: list[UnitPlanRow]
    overdue: list[OverdueRow]  # at most OVERDUE_SHOWN, in the chosen order
    sort: str = "due"
    order: str = "asc"

    @property
    def by_unit(self) -> dict[int, UnitPlanRow]:
        return {u.unit_id: u for u in self.units}

    @property
    def overdue_total(self) -> int:
        return sum(u.overdue for u in self.units)


def agency_plans(session: Session, agency_id: int, today: date, content: Content | None = None,
                 sort: str = "due", order: str = "asc") -> AgencyPlans:
    """The supervisor's view of every unit's plan: per unit open/overdue/done counts by SQL aggregation, and the
    agency's overdue actions sorted in SQL (``sort`` from OVERDUE_SORTS, ``order`` asc|desc; anything else falls
    back to due date, ascending). Three statements whatever the number of units and actions. Proposed actions
    count nowhere: they are not open until a member adopts them."""
    sort, order = overdue_sort(sort, order)
    is_open = ActionItem.status.in_(OPEN_STATUSES)
    # From midnight a year before ``today``: the figures depend on the date only (the dashboard keeps them a day).
    since = datetime.combine(today - timedelta(days=365), time.min, tzinfo=UTC)
    counts_q = (select(Unit.id, Unit.name,
                       func.count(ActionItem.id).filter(is_open),
                       func.count(ActionItem.id).filter(is_open, ActionItem.due_date < today),
                       func.count(ActionItem.id).filter(ActionItem.status == ActionStatus.DONE.value,
                                                        ActionItem.done_at >= since))
                .outerjoin(ActionItem, ActionItem.unit_id == Unit.id)
                .where(Unit.agency_id == agency_id).group_by(Unit.id, Unit.name).order_by(Unit.name))
    units = [UnitPlanRow(*row) for row in session.execute(counts_q)]
    by_id = content.recommendation_by_id if content is not None else {}
    # Content order, not the id's spelling; recommendations the content no longer has sort last.
    rec_rank = case({rid: r.number for rid, r in by_id.items()}, value=ActionItem.recommendation_id,
                    else_=10_000) if by_id else ActionItem.recommendation_id
    keys: dict[str, list[Any]] = {"due": [ActionItem.due_date, Unit.name], "unit": [Unit.name, ActionItem.due_date],
                                  "rec": [rec_rank, ActionItem.recommendation_id, ActionItem.due_date]}
    key = keys[sort]
    ordered = [k.desc() if order == "desc" else k.asc() for k in key]
    late = session.execute(select(Unit.name, ActionItem).join(Unit, Unit.id == ActionItem.unit_id)
                           .where(Unit.agency_id == agency_id, is_open, ActionItem.due_date < today)
                           .options(selectinload(ActionItem.owner))
                           .order_by(*ordered, ActionItem.id).limit(OVERDUE_SHOWN)).all()
    rows = [OverdueRow(name, item, by_id.get(item.recommendation_id),
                       (today - item.due_date).days if item.due_date else 0) for name, item in late]
    return AgencyPlans(units, rows, sort, order)


def today_utc() -> date:
    """The day overdue marks are computed against (UTC, the same for every reader of a plan)."""
    return utcnow().date()
