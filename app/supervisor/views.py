"""Supervisors' pages and downloads: dashboard, trend, comparison, agency report and exports. Views stay thin.

One assessment's downloads (PDF, Word, JSON, CSV, Excel) are the report's: reports/views.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from .. import audit
from ..access import ASSESSMENT_ROLES, allow, get_assessment, scope_assessments, scope_units
from ..actions import services as action_services
from ..content.current import current as current_content
from ..content.current import for_version
from ..db import db
from ..display import locale_code
from ..models import Agency, Assessment, Role, Unit
from ..page_cache import PageCache
from ..reports import context as report_context
from ..reports.services import cached_or_rendered_pdf, store_pdf
from . import agency_report, analytics, exports, freshness, services
from .charts import trend_charts

bp = Blueprint("supervisor", __name__)


def _dashboard(sort: str = "unit", order: str = "") -> services.Dashboard:
    return services.dashboard(db.session, current_user, current_content(), for_version,
                              interval_months=current_app.config["REVIEW_INTERVAL_MONTHS"], sort=sort, order=order)


def _audit_download(obj_type: str, obj_id: object, detail: str) -> None:
    audit.record_download("export_downloaded", obj_type, obj_id, agency_id=current_user.agency_id, detail=detail)


def _attachment(body: Any, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# The dashboard's body as rendered, per agency, data, language, day and sort order (see _dashboard_key).
DASHBOARD_PAGES = PageCache(32)  # a 100-unit agency's body: 0.42 M characters, under 1 MB in memory


def _dashboard_key(sort: str, order: str, late_sort: str, late_order: str) -> tuple[Any, ...] | None:
    """Everything the dashboard's body depends on, read from the database and the request on every view.

    Supervisors see their whole agency (``access.scope_units``), so all supervisors of one agency share the
    entry; the agency's data (assessments, actions, the names of the agency, its units and the actions' owners)
    is in its fingerprint; the overdue marks depend on today's date; the rest is the language,
    the content, the sort orders (heat map and overdue list, both normalised), the settings printed and the links'
    prefix. None: nothing to share.
    """
    agency_id = current_user.agency_id
    if agency_id is None:
        return None
    content = current_content()
    sort, order = services.normalise_sort(content, sort, order)
    return (agency_id, freshness.agency_fingerprint(db.session, agency_id), action_services.today_utc(), locale_code(),
            content.version, content.sha256, sort, order, late_sort, late_order,
            current_app.config["REVIEW_INTERVAL_MONTHS"],
            request.script_root)


@bp.route("/agency/")
@allow(Role.SUPERVISOR)
def dashboard() -> str:
    """Computed once per change of the agency's data (or per day), then served as rendered until it changes."""
    sort, order = request.args.get("sort", "unit"), request.args.get("order", "")
    late_sort, late_order = action_services.overdue_sort(request.args.get("late_sort", ""),
                                                         request.args.get("late_order", ""))
    key = _dashboard_key(sort, order, late_sort, late_order)
    kept = DASHBOARD_PAGES.get(key) if key is not None else None
    if kept is not None:
        return render_template("supervisor/dashboard.html", kept=kept, keep=None)

    def keep(caller: Callable[[], Markup]) -> Markup:
        body = caller()
        if key is not None:
            DASHBOARD_PAGES.put(key, body)
        return body

    d = _dashboard(sort, order)
    plans = action_services.agency_plans(db.session, current_user.agency_id, action_services.today_utc(),
                                         current_content(), late_sort, late_order)
    return render_template("supervisor/dashboard.html", d=d, default_order=services.default_order, plans=plans,
                           kept=None, keep=keep)


@bp.route("/units/<int:unit_id>/trend")
@allow(*ASSESSMENT_ROLES)
def trend(unit_id: int) -> str:
    unit = db.session.execute(scope_units(current_user).with_only_columns(Unit.id, Unit.name)
                              .where(Unit.id == unit_id)).first()
    if unit is None:
        abort(404)
    t = services.trend(db.session, current_user, unit.id, unit.name, current_content(), for_version)
    return render_template("supervisor/trend.html", t=t, charts=trend_charts(t))


@bp.route("/compare")
@allow(*ASSESSMENT_ROLES)
def compare() -> str:
    options = db.session.execute(
        scope_assessments(current_user, select(Assessment.id, Unit.name, Assessment.title, Assessment.status,
                                               Assessment.submitted_at))
        .order_by(Unit.name, Assessment.submitted_at.desc(), Assessment.id.desc())).all()
    a_id, b_id = request.args.get("a", type=int), request.args.get("b", type=int)
    result = None
    if a_id is not None and b_id is not None:
        first, second = get_assessment(a_id), get_assessment(b_id)  # 404 outside the user's scope
        if first.id != second.id:
            before, after, comparison = report_context.compare_assessments(db.session, first, second, for_version)
            result = {"before": _summary(before), "after": _summary(after), "c": comparison}
    return render_template("supervisor/compare.html", options=options, a_id=a_id, b_id=b_id, result=result,
                           pillars=current_content().pillars)


def _summary(a: Assessment) -> dict[str, Any]:
    return {"id": a.id, "unit": a.unit.name, "unit_id": a.unit_id, "title": a.title, "status": a.status,
            "submitted_at": a.submitted_at, "created_at": a.created_at, "version": a.content_version}


def _agency_state() -> tuple[int, str, str]:
    agency_id = current_user.agency_id
    if agency_id is None:
        abort(404)
    return agency_id, locale_code(), agency_report.agency_key(db.session, agency_id)


@bp.route("/agency/report.pdf")
@allow(Role.SUPERVISOR)
def agency_pdf() -> Response | tuple[str, int, dict[str, str]]:
    """The agency report from the cache; when it is stale, a "being prepared" page (202) while a background job
    renders it (issue 16). The page polls ``agency_pdf_status`` and then fetches this address again."""
    agency_id, language, key = _agency_state()
    data = agency_report.cached(db.session, agency_id, language, key)
    if data is None:
        agency_report.start(agency_id, language, key)
        return (render_template("supervisor/agency_preparing.html"), 202,
                {"Retry-After": "3", "X-Report-Cache": "preparing"})
    name = db.session.scalar(select(Agency.name).where(Agency.id == agency_id)) or ""
    _audit_download("agency", agency_id, "pdf (agency report)")
    resp = _attachment(data, "application/pdf", exports.safe_name("agency-report", name, ext="pdf"))
    resp.headers["X-Report-Cache"] = "hit"
    return resp


@bp.route("/agency/report.pdf/status")
@allow(Role.SUPERVISOR)
def agency_pdf_status() -> Response:
    """For the "being prepared" page's script: whether the file is ready. Starts the render again if its job
    was lost (a claim older than a few minutes, or none)."""
    agency_id, language, key = _agency_state()
    ready = agency_report.cached(db.session, agency_id, language, key) is not None
    if not ready and not agency_report.is_rendering(db.session, agency_id, language, key):
        agency_report.start(agency_id, language, key)
    return jsonify(ready=ready)


def _export_data(heads: list[analytics.Head], agency: str) -> exports.ExportData:
    registry = current_app.extensions["content"]  # usable outside the request, by a streamed body
    return exports.localised(agency, heads, analytics.scores(db.session, heads, registry.get), registry.get,
                             locale_code())


def _agency_heads(d: services.Dashboard) -> list[analytics.Head]:
    """The latest submitted assessment of every unit, or (``?all=1``) every submitted assessment."""
    if request.args.get("all") == "1":
        return analytics.submitted(db.session, current_user)
    return [r.latest for r in d.rows if r.latest is not None]


@bp.route("/agency/export.csv")
@allow(Role.SUPERVISOR)
def agency_csv() -> Response:
    d = _dashboard()
    data = _export_data(_agency_heads(d), d.agency)
    _audit_download("agency", current_user.agency_id, f"csv ({len(data.heads)} assessments)")
    make_session = current_app.extensions["db_sessionmaker"]
    header = exports.column_labels(exports.ANSWER_COLUMNS)

    def body() -> Iterator[str]:
        # The stream owns its session and needs no request context: a server may iterate it after the view has
        # returned, and a stream left unfinished is simply closed (no context is left pushed half-way).
        session = make_session()
        try:
            yield from exports.csv_stream(header, exports.answer_rows(session, data))
        finally:
            session.close()

    return _attachment(body(), "text/csv", exports.safe_name("agency", d.agency, ext="csv"))


@bp.route("/agency/export.xlsx")
@allow(Role.SUPERVISOR)
def agency_xlsx() -> Response:
    d = _dashboard()
    data = _export_data(_agency_heads(d), d.agency)
    body = exports.workbook(db.session, data, d)
    _audit_download("agency", current_user.agency_id, f"xlsx ({len(data.heads)} assessments)")
    return _attachment(body, exports.XLSX, exports.safe_name("agency", d.agency, ext="xlsx"))


@bp.route("/agency/reports.zip")
@allow(Role.SUPERVISOR)
def agency_zip() -> Response:
    d = _dashboard()
    heads = [r.latest for r in d.rows if r.latest is not None]
    _audit_download("agency", current_user.agency_id, f"zip ({len(heads)} pdf reports)")
    index = [[_("Unit"), _("File"), _("Assessment ID"), _("Assessment title"), _("Submitted at (UTC)"), _("Overdue")]]
    yes, no = _("yes"), _("no")
    entries: list[tuple[str, Callable[[], bytes]]] = []
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for r in d.rows:
        if r.latest is None:
            index.append([r.name, "", "", "", "", yes])
            continue
        name = exports.safe_name(r.name, r.latest.title, str(r.latest.id), ext="pdf")
        index.append([r.name, name, str(r.latest.id), r.latest.title,
                      r.latest.submitted_at.isoformat() if r.latest.submitted_at else "", yes if r.overdue else no])
        entries.append((name, _pdf_producer(app, r.latest.id, locale_code())))
    entries.append(("index.csv", lambda: "".join(exports.csv_stream(index[0], index[1:])).encode("utf-8")))
    return _attachment(exports.zip_stream(entries), "application/zip",
                       exports.safe_name("gap-reports", d.agency, ext="zip"))


def _pdf_producer(app: Any, assessment_id: int, language: str) -> Callable[[], bytes]:
    """One unit's PDF, from the cache or rendered (and cached) as the gap report download does it.

    Each PDF is made inside its own application context (and session), opened and closed around that one
    piece of work, so the stream never holds a context or a transaction while the client downloads; the
    write lock is taken only for the short cache write after rendering.
    """

    def produce() -> bytes:
        with app.app_context(), force_locale(language):
            a = db.session.get(Assessment, assessment_id)
            if a is None:
                return b""
            data, key = cached_or_rendered_pdf(a)
            db.session.rollback()  # end the read before taking SQLite's write lock
            if key is not None:  # keeping the PDF is an optimisation: a busy database must not break the download
                db.best_effort(lambda session: store_pdf(session, assessment_id, key, data, language),
                               f"report cache of assessment {assessment_id}")
            return data

    return produce
