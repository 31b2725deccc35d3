"""One assessment's results page and downloads: PDF gap report (cached once submitted), Word, JSON, CSV, Excel.

Members download their own unit's, supervisors their agency's (``get_assessment``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from .. import audit
from ..access import ASSESSMENT_ROLES, allow, get_assessment
from ..actions import services as action_services
from ..db import db
from ..display import locale_code
from ..models import Assessment, Role, Status
from ..page_cache import PageCache
from ..supervisor import analytics, exports
from . import services
from .docx_report import gap_report_docx
from .export import to_json

bp = Blueprint("reports", __name__, url_prefix="/assessments")
REPORTS = PageCache(64)  # the results page's rendered report, per context, plan, day (see results)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.route("/<int:assessment_id>/results")
@allow(*ASSESSMENT_ROLES)
def results(assessment_id: int) -> str:
    a = get_assessment(assessment_id)
    context_key, shared = services.results_context_keyed(a)
    # The cached context is shared by every reader of this version: copy it before adding this reader's plan.
    r = dataclasses.replace(shared)
    can_plan = current_user.role == Role.MEMBER
    # The report itself (the <article>) depends on the context and the plan only: kept as rendered under their
    # keys, the day (dates shown relative to it) and the links' prefix. Drafts and reopened ones: rendered each time.
    # The plan's key is one aggregate statement (what the PDF cache uses too: the report names no person, only
    # actions, their status and dates); the plan itself is loaded only to render.
    today = action_services.today_utc()
    key = None if context_key is None else (context_key, action_services.plan_fingerprint(db.session, a.unit_id, today),
                                            can_plan, today, request.script_root)
    kept = REPORTS.get(key) if key is not None else None
    if kept is None:
        r.planned = action_services.report_plan(db.session, a.unit_id, r, can_plan=can_plan)

    def keep(caller: Callable[[], Markup]) -> Markup:
        body = caller()
        if key is not None:
            REPORTS.put(key, body)
        return body

    return render_template("reports/results.html", a=a, r=r, kept=kept, keep=keep)


def _audited_download(a: Assessment, action: str, detail: str,
                      pdf: tuple[services.PdfKey, bytes] | None = None) -> None:
    """Audit the download; a freshly rendered PDF is kept in the cache in the same short write."""
    obj_id, lang = a.id, locale_code()
    audit.record_download(action, "assessment", obj_id, agency_id=a.unit.agency_id, detail=detail,
                          also=(lambda session: services.store_pdf(session, obj_id, *pdf, lang)) if pdf else None)


@bp.route("/<int:assessment_id>/report.pdf")
@allow(*ASSESSMENT_ROLES)
def pdf(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    filename = services.report_filename(a, "pdf")
    data, key = services.cached_or_rendered_pdf(a)
    _audited_download(a, "report_downloaded", "pdf", (key, data) if key is not None else None)
    # X-Report-Cache: whether the file came ready from the cache (for operators and the tests); drafts are "draft".
    state = "draft" if a.status != Status.SUBMITTED.value else ("miss" if key is not None else "hit")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Report-Cache": state})


@bp.route("/<int:assessment_id>/export.json")
@allow(*ASSESSMENT_ROLES)
def export_json(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    filename = services.report_filename(a, "json")
    # A machine export: the same in every interface language (English content texts, ISO dates).
    body = json.dumps(to_json(services.build_context(a, "en")), ensure_ascii=False, indent=2)
    _audited_download(a, "export_downloaded", "json")
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _attachment(body: Any, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _export_data(a: Assessment) -> exports.ExportData:
    """The one assessment in the shape of the agency exports, so both have the same columns."""
    heads = analytics.heads_by_id(db.session, current_user, [a.id])
    registry = current_app.extensions["content"]
    return exports.localised(a.unit.agency.name, heads, analytics.scores(db.session, heads, registry.get),
                             registry.get, locale_code())


@bp.route("/<int:assessment_id>/report.docx")
@allow(*ASSESSMENT_ROLES)
def docx(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    body = gap_report_docx(services.build_context(a))
    _audited_download(a, "export_downloaded", "docx")
    return _attachment(body, DOCX, exports.safe_name("gap-report", a.unit.name, a.title, ext="docx"))


@bp.route("/<int:assessment_id>/export.csv")
@allow(*ASSESSMENT_ROLES)
def export_csv(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    data = _export_data(a)
    body = "".join(exports.csv_stream(exports.column_labels(exports.ANSWER_COLUMNS),
                                      exports.answer_rows(db.session, data)))
    _audited_download(a, "export_downloaded", "csv")
    return _attachment(body, "text/csv", exports.safe_name("assessment", a.unit.name, a.title, ext="csv"))


@bp.route("/<int:assessment_id>/export.xlsx")
@allow(*ASSESSMENT_ROLES)
def export_xlsx(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    body = exports.workbook(db.session, _export_data(a))
    _audited_download(a, "export_downloaded", "xlsx")
    return _attachment(body, exports.XLSX, exports.safe_name("assessment", a.unit.name, a.title, ext="xlsx"))
