"""The gap report of one assessment: its context, its file name, its PDF and the PDF cache.

Used by the report pages (reports/views.py), the Word export, the agency's ZIP of reports (supervisor/) and the
PDF benchmark (bench/pdf.py). Needs an application context (configuration, templates, static folder).
"""

from __future__ import annotations

import re

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..content.current import for_version
from ..db import db, upsert
from ..display import locale_code
from ..models import Assessment, ReportCache, Status, utcnow
from . import context as report_context
from .pdf import render_pdf


def build_context(a: Assessment, language: str | None = None) -> report_context.ReportContext:
    """Everything the results page, the PDF, the JSON and the Word export show, scored against the content
    version the assessment was answered with (not today's), in ``language`` (default: the reader's). The
    numbers do not depend on the language: answers are values, not text."""
    return report_context.build_report_context(
        db.session, a, for_version(a.content_version, language), marking=current_app.config["HANDLING_MARKING"],
        organisation=current_app.config["ORGANISATION_NAME"],
        content_for=lambda version: for_version(version, language),
    )


def report_filename(a: Assessment, ext: str) -> str:
    """A download name safe in a Content-Disposition header and on any file system."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"gap-report-{a.unit.name}-{a.title}").strip("-")[:120]
    return f"{stem}.{ext}"


def render_report_pdf(a: Assessment) -> bytes:
    """Render the PDF afresh (about a second of CPU: callers go through ``cached_or_rendered_pdf``)."""
    html = render_template("pdf/report.html", r=build_context(a))
    return render_pdf(html, current_app.static_folder or "")


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
    """Insert or replace the cached PDF (one per language) in one statement, safe when two downloads race."""
    upsert(session, ReportCache,
           [{"assessment_id": assessment_id, "language": language, "assessment_version": version, "pdf": data,
             "generated_at": utcnow()}],
           ["assessment_id", "language"], ["assessment_version", "pdf", "generated_at"])
