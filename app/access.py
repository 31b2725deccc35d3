"""Access decisions in one place: route rules (default deny) and agency/unit-scoped object lookups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple, overload

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, false, select

from .actions.models import ActionItem
from .db import db
from .models import Agency, Assessment, AuditEvent, Role, Unit, User
from .workshops.models import Workshop

F = TypeVar("F", bound=Callable[..., Any])
Ts = TypeVarTuple("Ts")
ACCESS_ATTR = "_access_rule"
PUBLIC = "public"


def allow(*roles: Role | str) -> Callable[[F], F]:
    """Declare which roles may call a view; a view without a declaration is refused to everyone."""

    def deco(fn: F) -> F:
        setattr(fn, ACCESS_ATTR, frozenset(str(r) for r in roles))
        return fn

    return deco


def public(fn: F) -> F:
    """Mark a view as reachable without login (login page, health check, workshop join)."""
    setattr(fn, ACCESS_ATTR, frozenset({PUBLIC}))
    return fn


FORM_CHECKS_TEXT_ATTR = "_form_checks_text"


def form_checks_text(fn: F) -> F:
    """Mark a view whose form refuses control characters itself (field by field, keeping the input).

    The app-wide NUL check then leaves that view's form fields alone, so a pasted NUL gives the form's 422 with
    everything typed shown again rather than a bare 400 that drops the whole page.
    """
    setattr(fn, FORM_CHECKS_TEXT_ATTR, True)
    return fn


def form_checks_text_of(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, FORM_CHECKS_TEXT_ATTR, False))


READS_FIRST_ATTR = "_reads_first"


def reads_first(fn: F) -> F:
    """Mark a write view that reads and validates before it writes, and calls ``db.start_writing`` itself.

    The access check then leaves the request in its read transaction instead of ending it to declare the write
    intent (``db.writes_from_here``): the logged-in user stays loaded (ending the transaction expired it, and
    the view read it again), and SQLite's write lock is taken only when the view starts writing.
    """
    setattr(fn, READS_FIRST_ATTR, True)
    return fn


def reads_first_of(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, READS_FIRST_ATTR, False))


def rule_of(view: Callable[..., Any] | None) -> frozenset[str] | None:
    return getattr(view, ACCESS_ATTR, None)


ASSESSMENT_ROLES = (Role.MEMBER, Role.SUPERVISOR)


@overload
def scope_assessments(user: User) -> Select[Assessment]: ...


@overload
def scope_assessments(user: User, stmt: Select[*Ts]) -> Select[*Ts]: ...


def scope_assessments(user: User, stmt: Select[*tuple[Any, ...]] | None = None) -> Select[*tuple[Any, ...]]:
    """Restrict an Assessment query to what ``user`` may see: own unit (member) or own agency (supervisor).

    ``stmt`` may select any columns (the comparison picker selects a few); by default whole Assessments.
    """
    stmt = stmt if stmt is not None else select(Assessment)
    stmt = stmt.join(Unit, Unit.id == Assessment.unit_id)
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    if user.role == Role.MEMBER and user.unit_id is not None:
        return stmt.where(Assessment.unit_id == user.unit_id, Unit.agency_id == user.agency_id)
    return stmt.where(false())  # everyone else sees no assessment at all


def scope_units(user: User) -> Select[Any]:
    stmt = select(Unit).order_by(Unit.name)
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    if user.role == Role.MEMBER and user.unit_id is not None:
        return stmt.where(Unit.id == user.unit_id, Unit.agency_id == user.agency_id)
    return stmt.where(false())


def get_assessment(assessment_id: int, *, for_update: bool = False) -> Assessment:
    """The assessment if the current user may see it; 404 otherwise (never reveal another unit's objects)."""
    stmt = scope_assessments(current_user).where(Assessment.id == assessment_id)
    if for_update:  # the locked row as it is now, even if this request read the assessment before the lock
        stmt = stmt.with_for_update(of=Assessment).execution_options(populate_existing=True)
    found = db.session.scalars(stmt).first()
    if found is None:
        abort(404)
    return found


def scope_workshops(user: User) -> Select[Any]:
    """Workshops ``user`` may run: only the trainer who created them, and only while in the same agency.

    Other trainers of the agency do not see them: participants answered for one trainer's session, and
    nothing in a workshop needs a second trainer. Supervisors and admins see no workshops at all.
    """
    if user.role != Role.TRAINER or user.agency_id is None:
        return select(Workshop).where(false())
    return select(Workshop).where(Workshop.created_by_id == user.id, Workshop.agency_id == user.agency_id)


def get_workshop(workshop_id: int, *, for_update: bool = False) -> Workshop:
    """The workshop if the current trainer may run it; 404 otherwise."""
    stmt = scope_workshops(current_user).where(Workshop.id == workshop_id)
    if for_update:
        stmt = stmt.with_for_update()
    found = db.session.scalars(stmt).first()
    if found is None:
        abort(404)
    return found


def scope_conversion_units(user: User) -> Select[Any]:
    """Units a trainer may turn a workshop's consensus into a draft assessment of: those of its own agency.

    The trainer never sees those assessments afterwards (trainers see no assessment at all); the draft is the
    unit's to review and submit.
    """
    stmt = select(Unit).order_by(Unit.name)
    if user.role == Role.TRAINER and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    return stmt.where(false())


def get_conversion_unit(unit_id: int) -> Unit:
    """The unit if the current trainer may convert a workshop into it; 404 otherwise."""
    return _one_or_404(scope_conversion_units(current_user).where(Unit.id == unit_id))


# --- Action plans: the unit's members change them, the agency's supervisors read them (and add a remark) -------


def scope_actions(user: User) -> Select[Any]:
    """Actions ``user`` may see: those of its own unit (member) or of its agency's units (supervisor); none else.

    Changing is decided by the route (members only, ``allow(Role.MEMBER)``), so a member's scope is exactly
    what it may edit and a supervisor's what it may read and remark on.
    """
    stmt = select(ActionItem).join(Unit, Unit.id == ActionItem.unit_id)
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    if user.role == Role.MEMBER and user.unit_id is not None:
        return stmt.where(ActionItem.unit_id == user.unit_id, Unit.agency_id == user.agency_id)
    return stmt.where(false())


def get_action(action_id: int, *, for_update: bool = False) -> ActionItem:
    """The action if the current user may see it; 404 otherwise (another unit's actions do not exist)."""
    stmt = scope_actions(current_user).where(ActionItem.id == action_id)
    if for_update:
        stmt = stmt.with_for_update(of=ActionItem)
    return _one_or_404(stmt)


def get_plan_unit(unit_id: int) -> Unit:
    """The unit whose plan the current user may read: its own (member) or one of its agency's (supervisor)."""
    return _one_or_404(scope_units(current_user).where(Unit.id == unit_id))


# --- Audit log: an admin reads every event, a supervisor those of its own agency, nobody else any ------------


def scope_audit_events(user: User) -> Select[Any]:
    """Audit events ``user`` may read. A supervisor without an agency reads none (not the events that have none)."""
    stmt = select(AuditEvent)
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(AuditEvent.agency_id == user.agency_id)
    return stmt.where(false())


# --- Administration: who may manage which agencies, units and users -------------------------------------------
# An admin manages everything. A supervisor manages the members of its own agency only (never other roles, never
# agencies or units themselves: the routes that change those are admin-only). Everyone else manages nothing.


def grantable_roles(user: User) -> tuple[Role, ...]:
    """Roles ``user`` may give to an account it creates or manages."""
    if user.role == Role.ADMIN:
        return tuple(Role)
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return (Role.MEMBER,)
    return ()


def scope_managed_agencies(user: User) -> Select[Any]:
    stmt = select(Agency).order_by(Agency.name)
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Agency.id == user.agency_id)
    return stmt.where(false())


def scope_managed_units(user: User) -> Select[Any]:
    stmt = select(Unit).order_by(Unit.name)
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    return stmt.where(false())


def scope_users(user: User) -> Select[Any]:
    """Accounts ``user`` may list and manage: all (admin) or the members of its own agency (supervisor)."""
    stmt = select(User)
    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(User.agency_id == user.agency_id, User.role == Role.MEMBER.value)
    return stmt.where(false())


def _one_or_404(stmt: Select[Any]) -> Any:
    found = db.session.scalars(stmt).first()
    if found is None:
        abort(404)
    return found


def get_managed_agency(agency_id: int) -> Agency:
    """The agency if the current user may manage it (or its members); 404 otherwise."""
    return _one_or_404(scope_managed_agencies(current_user).where(Agency.id == agency_id))


def get_managed_unit(unit_id: int) -> Unit:
    return _one_or_404(scope_managed_units(current_user).where(Unit.id == unit_id))


def get_managed_user(user_id: int, *, for_update: bool = False) -> User:
    """The account if the current user may manage it; 404 otherwise (another agency's accounts do not exist)."""
    stmt = scope_users(current_user).where(User.id == user_id)
    if for_update:
        stmt = stmt.with_for_update(of=User)
    return _one_or_404(stmt)
