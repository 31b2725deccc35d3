"""Append-only audit trail: who did what to which object, when and from where (never answers or secrets)."""

from __future__ import annotations

from collections.abc import Callable

from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from .db import db
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


def record_download(action: str, obj_type: str, obj_id: object, *, agency_id: int | None, detail: str,
                    also: Callable[[Session], None] | None = None) -> None:
    """Record a download in a short write transaction of its own, after the (possibly slow) reading and rendering.

    The request's read transaction ends first (a download changes nothing else), so SQLite's write lock is held
    for the audit row and ``also`` (such as keeping the rendered PDF), never while a report renders.
    """
    db.session.rollback()
    with db.writing() as session:
        if also is not None:
            also(session)
        record(session, action, obj_type, obj_id, agency_id=agency_id, detail=detail)
