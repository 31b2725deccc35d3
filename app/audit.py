"""Append-only audit trail: who did what to which object, when and from where (never answers or secrets)."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from .extensions import client_address
from .models import AuditEvent, User


def record(
    session: Session,
    action: str,
    obj_type: str = "",
    obj_id: object = "",
    *,
    user: User | None = None,
    actor: str | None = None,
    agency_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one audit event to the session; the caller's transaction commits it with the change it records."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()  # type: ignore[attr-defined]
    event = AuditEvent(
        user_id=user.id if user else None,
        actor=actor if actor is not None else (user.email if user else ""),
        agency_id=agency_id if agency_id is not None else (user.agency_id if user else None),
        action=action,
        object_type=obj_type,
        object_id=str(obj_id) if obj_id != "" else "",
        ip=client_address() if has_request_context() else "cli",
        detail=detail[:500],
    )
    session.add(event)
    return event
