"""Results page, PDF gap report (cached once submitted) and JSON export."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template

from .. import audit
from ..access import ASSESSMENT_ROLES, allow, get_assessment
from ..models import Assessment
from . import services
from .export import to_json

bp = Blueprint("reports", __name__, url_prefix="/assessments")


@bp.route("/<int:assessment_id>/results")
@allow(*ASSESSMENT_ROLES)
def results(assessment_id: int) -> str:
    a = get_assessment(assessment_id)
    return render_template("reports/results.html", a=a, r=services.build_context(a))


def _audited_download(a: Assessment, action: str, detail: str, pdf: tuple[int, bytes] | None = None) -> None:
    """Audit the download; a freshly rendered PDF is kept in the cache in the same short write."""
    obj_id = a.id
    audit.record_download(action, "assessment", obj_id, agency_id=a.unit.agency_id, detail=detail,
                          also=(lambda session: services.store_pdf(session, obj_id, *pdf)) if pdf is not None else None)


@bp.route("/<int:assessment_id>/report.pdf")
@allow(*ASSESSMENT_ROLES)
def pdf(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    filename, version = services.report_filename(a, "pdf"), a.version_id
    data, cache_it = services.cached_or_rendered_pdf(a)
    _audited_download(a, "report_downloaded", "pdf", (version, data) if cache_it else None)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/<int:assessment_id>/export.json")
@allow(*ASSESSMENT_ROLES)
def export_json(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    filename = services.report_filename(a, "json")
    body = json.dumps(to_json(services.build_context(a)), ensure_ascii=False, indent=2)
    _audited_download(a, "export_downloaded", "json")
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
