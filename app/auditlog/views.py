"""Audit log for admins (everything) and supervisors (their agency): filter by date, user and action; CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, select

from .. import audit
from ..access import allow, scope_audit_events
from ..db import db
from ..models import Agency, Assessment, AuditEvent, Role, Unit, User
from ..workshops.models import Workshop

bp = Blueprint("auditlog", __name__, url_prefix="/audit")
PAGE_SIZE = 100
# Words for the recorded action codes (the codes stay in the CSV export and the filter's values).
ACTION_LABELS = {
    "login": _l("Logged in"), "login_failed": _l("Failed login"), "login_rate_limited": _l("Login attempts limited"),
    "logout": _l("Logged out"), "password_changed": _l("Password changed"),
    "password_change_failed": _l("Password change failed"), "password_reset_issued": _l("Password reset link issued"),
    "password_set": _l("Password set"), "user_created": _l("Account created"),
    "user_deactivated": _l("Account deactivated"), "user_reactivated": _l("Account reactivated"),
    "agency_created": _l("Agency created"), "agency_renamed": _l("Agency renamed"),
    "unit_created": _l("Unit created"), "unit_renamed": _l("Unit renamed"),
    "assessment_created": _l("Assessment started"), "assessment_submitted": _l("Assessment submitted"),
    "assessment_reopened": _l("Assessment reopened"), "assessment_signed_off": _l("Assessment signed off"),
    "report_downloaded": _l("Report downloaded"), "export_downloaded": _l("Export downloaded"),
    "audit_exported": _l("Audit log exported"),
    "workshop_opened": _l("Workshop opened"), "workshop_closed": _l("Workshop closed"),
    "workshop_reopened": _l("Workshop reopened"), "workshop_consensus_recorded": _l("Workshop consensus recorded"),
    "workshop_converted": _l("Workshop turned into a draft assessment"),
    "workshop_join_rate_limited": _l("Workshop joins limited"), "workshop_purged": _l("Workshop answers deleted"),
    "workshop_report_downloaded": _l("Workshop report downloaded"),
}
OBJECT_MODELS: dict[str, Any] = {"user": User, "assessment": Assessment, "unit": Unit, "agency": Agency,
                                 "workshop": Workshop}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code.replace("_", " ")))


def _objects(events: Any) -> dict[tuple[str, str], Any]:
    """The people and things a page of events names, loaded in one query per kind (names instead of ids)."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        for kind, oid in ((e.object_type, e.object_id), ("user", str(e.user_id or ""))):
            if kind in OBJECT_MODELS and oid.isdigit():
                wanted.setdefault(kind, set()).add(int(oid))
    found: dict[tuple[str, str], Any] = {}
    for kind, ids in wanted.items():
        model = OBJECT_MODELS[kind]
        for obj in db.session.scalars(select(model).where(model.id.in_(ids))):
            found[(kind, str(obj.id))] = obj
    return found
CSV_FIELDS = ("at", "actor", "action", "object_type", "object_id", "ip", "detail")


def _date(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time.min, tzinfo=UTC)
    except ValueError:
        return None


def _filtered() -> tuple[Select[Any], dict[str, str], list[str]]:
    stmt = scope_audit_events(current_user)
    errors = []
    args = {k: request.args.get(k, "").strip()[:200] for k in ("from", "to", "user", "action")}
    start, end = _date("from"), _date("to")
    if args["from"] and start is None:
        errors.append(_("“From” must be a date like 2026-01-31."))
    if args["to"] and end is None:
        errors.append(_("“To” must be a date like 2026-01-31."))
    if start:
        stmt = stmt.where(AuditEvent.at >= start)
    if end:
        stmt = stmt.where(AuditEvent.at < end + timedelta(days=1))
    if args["user"]:
        stmt = stmt.where(func.lower(AuditEvent.actor).contains(args["user"].lower(), autoescape=True))
    if args["action"]:
        stmt = stmt.where(AuditEvent.action == args["action"])
    return stmt, args, errors


@bp.route("/")
@allow(Role.ADMIN, Role.SUPERVISOR)
def index() -> tuple[str, int] | str:
    stmt, args, errors = _filtered()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    events = db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.id.in_(scope_audit_events(current_user).with_only_columns(AuditEvent.id))).distinct().order_by(AuditEvent.action)).all()
    body = render_template("auditlog/index.html", events=events, args=args, errors=errors, actions=actions,
                           objects=_objects(events), action_label=action_label,
                           page=page, pages=max(1, -(-total // PAGE_SIZE)), total=total)
    return (body, 400) if errors else body


@bp.route("/export.csv")
@allow(Role.ADMIN, Role.SUPERVISOR)
def export_csv() -> Response:
    stmt, _args, _errors = _filtered()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_FIELDS)
    for e in db.session.scalars(stmt.order_by(AuditEvent.at, AuditEvent.id)):
        row = [e.at.isoformat(), e.actor, e.action, e.object_type, e.object_id, e.ip, e.detail]
        writer.writerow([_neutralise(str(v)) for v in row])
    # Read first without the write lock; the export's own audit row is written after, best-effort.
    audit.record_download("audit_exported", "audit", "", agency_id=None, detail="csv")
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})


def _neutralise(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: prefix them so they stay text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
