"""The gap report of one assessment: its context, its file name, its PDF and the PDF cache.

Used by the report pages (reports/views.py), the Word export, the agency's ZIP of reports (supervisor/) and the
PDF benchmark (bench/pdf.py). Needs an application context (configuration, templates, static folder).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..content.current import for_version
from ..db import db, upsert
from ..display import locale_code
from ..models import Agency, Answer, Assessment, ReportCache, Status, Unit, User, utcnow
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


# The results page of a submitted assessment, per process: (key) -> (names shown, context). Small: a worker serves
# the few reports being read at a time; the least recently used goes first.
_RESULTS: OrderedDict[tuple[Any, ...], tuple[dict[int, str], report_context.ReportContext]] = OrderedDict()
_RESULTS_LOCK = threading.Lock()
RESULTS_CACHE_SIZE = 64


def results_context(a: Assessment) -> report_context.ReportContext:
    return results_context_keyed(a)[1]


def results_context_keyed(a: Assessment) -> tuple[tuple[Any, ...] | None, report_context.ReportContext]:
    """The results page's context, built once per change of what it shows (a submitted assessment's cannot change).

    Every worker process keeps its own copy, so the key is read from the database on every view and holds all
    the page depends on: the assessment's version (bumped by every save, submission, sign-off and reopening),
    the reader's language and the content's SHA-256 in it, the unit's and agency's names, the settings printed
    on it, and the previous submitted assessment it is compared with (its id, version and content). The names
    of the people shown (who answered, submitted, signed off) are read again on every view and compared with
    those the context was built with. Drafts and reopened assessments change with every save: built each time.

    Also returns the key (with those names), under which what is rendered from the context alone may be kept
    too; None for a context built afresh each time.
    """
    if a.status != Status.SUBMITTED.value:
        return None, build_context(a)
    language = locale_code()
    content = for_version(a.content_version, language)
    prev = report_context._previous_submitted(db.session, a)
    prev_key = (None if prev is None else
                (prev.id, prev.version_id, for_version(prev.content_version, language).sha256))
    cfg = current_app.config
    names_shown = db.session.execute(select(Unit.name, Agency.name).join(Agency, Agency.id == Unit.agency_id)
                                     .where(Unit.id == a.unit_id)).one()  # one statement, not two lazy loads
    # The times make the key unique to this database's history too (a restored backup, the test suite's
    # fresh databases): the same id and version elsewhere were created or submitted at another moment.
    key = (a.id, a.version_id, a.created_at, a.submitted_at, a.updated_at, language, content.sha256, *names_shown,
           prev_key, cfg["HANDLING_MARKING"], cfg["ORGANISATION_NAME"])
    with _RESULTS_LOCK:
        hit = _RESULTS.get(key)
        if hit is not None:
            _RESULTS.move_to_end(key)
    if hit is not None:
        names, ctx = hit
        now_names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(names))).all()) \
            if names else {}
        if now_names == names:
            return (*key, tuple(sorted(names.items()))), dataclasses.replace(ctx, generated_at=utcnow())
    ctx = build_context(a)
    user_ids = {i for i in db.session.scalars(select(Answer.updated_by_id).distinct()
                                              .where(Answer.assessment_id == a.id)) if i}
    user_ids |= {i for i in (a.submitted_by_id, a.signed_off_by_id) if i}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    with _RESULTS_LOCK:
        _RESULTS[key] = (names, ctx)
        _RESULTS.move_to_end(key)
        while len(_RESULTS) > RESULTS_CACHE_SIZE:
            _RESULTS.popitem(last=False)
    return (*key, tuple(sorted(names.items()))), ctx


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
