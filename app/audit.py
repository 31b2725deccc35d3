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
    event = _event(action, obj_type, obj_id, user=user, actor=actor, agency_id=agency_id, detail=detail)
    session.add(event)
    return event


def _event(action: str, obj_type: str, obj_id: object, *, user: User | None, actor: str | None,
           agency_id: int | None, detail: str) -> AuditEvent:
    return AuditEvent(
        user_id=user.id if user else None,
        actor=actor if actor is not None else (user.email if user else ""),
        agency_id=agency_id if agency_id is not None else (user.agency_id if user else None),
        action=action,
        object_type=obj_type,
        object_id=str(obj_id) if obj_id != "" else "",
        ip=client_address() if has_request_context() else "cli",
        detail=detail[:500],
    )


def record_download(action: str, obj_type: str, obj_id: object, *, agency_id: int | None, detail: str,
                    also: Callable[[Session], None] | None = None) -> bool:
    """Record a download after the (possibly slow) reading and rendering, without ever failing it.

    The download is a read: its audit row (and ``also``, such as keeping the rendered PDF) is written best-effort
    in a short transaction of its own (``db.best_effort``), which holds SQLite's write lock for that row only and
    cannot turn the download into an error page when the database is busy or away. If it is not stored, the
    application log keeps an ERROR line with the same facts. Returns whether the row was stored.
    """
    user = None
    if has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()  # type: ignore[attr-defined]
    # Built now, while the request's objects are loaded: the write below touches nothing of the request's session.
    event = _event(action, obj_type, obj_id, user=user, actor=None, agency_id=agency_id, detail=detail)

    def work(session: Session) -> None:
        if also is not None:
            also(session)
        session.add(event)

    who = f"user {event.user_id}" if event.user_id is not None else "anonymous"
    return db.best_effort(work, f"audit event {action} {obj_type} {event.object_id} by {who} ({detail})")
