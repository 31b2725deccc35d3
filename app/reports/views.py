"""Results page, PDF gap report (cached once submitted) and JSON export."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .. import audit
from ..access import ASSESSMENT_ROLES, allow, get_assessment
from ..content.current import for_version
from ..db import db
from ..display import locale_code
from ..models import Assessment, ReportCache, Status, utcnow
from . import context as report_context
from .export import to_json
from .pdf import render_pdf

bp = Blueprint("reports", __name__, url_prefix="/assessments")


def build_context(a: Assessment, language: str | None = None) -> report_context.ReportContext:
    """The report of ``a`` in ``language`` (default: the reader's); the numbers do not depend on it."""
    return report_context.build(
        db.session, a, for_version(a.content_version, language), marking=current_app.config["HANDLING_MARKING"],
        organisation=current_app.config["ORGANISATION_NAME"],
        content_for=lambda version: for_version(version, language),
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


def cached_or_rendered_pdf(a: Assessment) -> tuple[bytes, bool]:
    """The PDF of an assessment and whether it must be (re)cached. Reads only: no write lock while rendering."""
    if a.status == Status.SUBMITTED.value:
        cached = db.session.scalars(select(ReportCache).where(
            ReportCache.assessment_id == a.id, ReportCache.language == locale_code())).first()
        if cached is not None and cached.assessment_version == a.version_id:
            return cached.pdf, False
        return render_report_pdf(a), True
    return render_report_pdf(a), False  # drafts change with every save: never cached


def store_pdf(session: Session, assessment_id: int, version: int, data: bytes, language: str = "en") -> None:
    """Insert or replace the cached PDF in one statement, safe when two downloads race."""
    values = {"assessment_id": assessment_id, "language": language, "assessment_version": version, "pdf": data,
              "generated_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ReportCache).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[ReportCache.assessment_id, ReportCache.language],
        set_={k: stmt.excluded[k] for k in ("assessment_version", "pdf", "generated_at")}))


def _audited_download(a: Assessment, action: str, detail: str, pdf: tuple[int, bytes] | None = None) -> None:
    """Audit the download; a freshly rendered PDF is kept in the cache in the same short write."""
    obj_id, lang = a.id, locale_code()
    audit.record_download(action, "assessment", obj_id, agency_id=a.unit.agency_id, detail=detail,
                          also=(lambda session: store_pdf(session, obj_id, *pdf, lang)) if pdf is not None else None)


@bp.route("/<int:assessment_id>/report.pdf")
@allow(*ASSESSMENT_ROLES)
def pdf(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    filename, version = _filename(a, "pdf"), a.version_id
    data, cache_it = cached_or_rendered_pdf(a)
    _audited_download(a, "report_downloaded", "pdf", (version, data) if cache_it else None)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/<int:assessment_id>/export.json")
@allow(*ASSESSMENT_ROLES)
def export_json(assessment_id: int) -> Response:
    a = get_assessment(assessment_id)
    filename = _filename(a, "json")
    # A machine export: the same in every interface language (English content texts, ISO dates).
    body = json.dumps(to_json(build_context(a, "en")), ensure_ascii=False, indent=2)
    _audited_download(a, "export_downloaded", "json")
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
