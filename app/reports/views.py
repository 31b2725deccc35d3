"""Results page, PDF gap report (cached once submitted) and JSON export."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select

from .. import audit
from ..access import ASSESSMENT_ROLES, allow, get_assessment
from ..content.current import for_version
from ..db import db
from ..models import Assessment, ReportCache, Status
from . import context as report_context
from .export import to_json
from .pdf import render_pdf

bp = Blueprint("reports", __name__, url_prefix="/assessments")


def build_context(a: Assessment) -> report_context.ReportContext:
    return report_context.build(
        db.session, a, for_version(a.content_version), marking=current_app.config["HANDLING_MARKING"],
        organisation=current_app.config["ORGANISATION_NAME"], content_for=for_version,
    )


def _filename(a: Assessment, ext: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"gap-report-{a.unit.name}-{a.title}").strip("-")[:120]
    return f"{stem}.{ext}"


def render_report_pdf(a: Assessment) -> bytes:
    html = render_template("pdf/report.html", r=build_context(a))
    return render_pdf(html, current_app.static_folder or "")


@bp.route("/<int:assessment_id>/results")
@allow(*ASSESSMENT_ROLES)
def results(assessment_id: int) -> str:
    a = get_assessment(assessment_id)
    return render_template("reports/results.html", a=a, r=build_context(a))


@bp.route("/<int:assessment_id>/report.pdf")
@allow(*ASSESSMENT_ROLES)
def pdf(assessment_id: int) -> Response:
    db.mark_write_intent()  # the download is audited (and may fill the cache)
    a = get_assessment(assessment_id)
    data: bytes | None = None
    if a.status == Status.SUBMITTED.value:
        cached = db.session.scalars(select(ReportCache).where(ReportCache.assessment_id == a.id)).first()
        if cached is not None and cached.assessment_version == a.version_id:
            data = cached.pdf
        else:
            data = render_report_pdf(a)
            if cached is None:
                db.session.add(ReportCache(assessment_id=a.id, assessment_version=a.version_id, pdf=data))
            else:
                cached.assessment_version, cached.pdf = a.version_id, data
    else:
        data = render_report_pdf(a)
    audit.record(db.session, "report_downloaded", "assessment", a.id, agency_id=a.unit.agency_id,
                 detail="pdf")
    db.session.commit()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_filename(a, "pdf")}"'})


@bp.route("/<int:assessment_id>/export.json")
@allow(*ASSESSMENT_ROLES)
def export_json(assessment_id: int) -> Response:
    db.mark_write_intent()
    a = get_assessment(assessment_id)
    body = json.dumps(to_json(build_context(a)), ensure_ascii=False, indent=2)
    audit.record(db.session, "export_downloaded", "assessment", a.id, agency_id=a.unit.agency_id, detail="json")
    db.session.commit()
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{_filename(a, "json")}"'})
