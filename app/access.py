"""Access decisions in one place: route rules (default deny) and agency/unit-scoped object lookups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from .db import db
from .models import Assessment, Role, Unit, User

F = TypeVar("F", bound=Callable[..., Any])
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


def rule_of(view: Callable[..., Any] | None) -> frozenset[str] | None:
    return getattr(view, ACCESS_ATTR, None)


ASSESSMENT_ROLES = (Role.MEMBER, Role.SUPERVISOR)


def scope_assessments(user: User, stmt: Select[Any] | None = None) -> Select[Any]:
    """Restrict an Assessment query to what ``user`` may see: own unit (member) or own agency (supervisor)."""
    stmt = stmt if stmt is not None else select(Assessment)
    stmt = stmt.join(Unit, Unit.id == Assessment.unit_id)
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    if user.role == Role.MEMBER and user.unit_id is not None:
        return stmt.where(Assessment.unit_id == user.unit_id, Unit.agency_id == user.agency_id)
    return stmt.where(False)  # everyone else sees no assessment at all


def scope_units(user: User) -> Select[Any]:
    stmt = select(Unit).order_by(Unit.name)
    if user.role == Role.SUPERVISOR and user.agency_id is not None:
        return stmt.where(Unit.agency_id == user.agency_id)
    if user.role == Role.MEMBER and user.unit_id is not None:
        return stmt.where(Unit.id == user.unit_id, Unit.agency_id == user.agency_id)
    return stmt.where(False)


def get_assessment(assessment_id: int, *, for_update: bool = False) -> Assessment:
    """The assessment if the current user may see it; 404 otherwise (never reveal another unit's objects)."""
    stmt = scope_assessments(current_user).where(Assessment.id == assessment_id)
    if for_update:
        stmt = stmt.with_for_update(of=Assessment)
    found = db.session.scalars(stmt).first()
    if found is None:
        abort(404)
    return found
