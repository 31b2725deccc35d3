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
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import background
from ..actions import services as action_services
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
    """Render the PDF afresh (about a second of CPU: callers go through ``cached_or_rendered_pdf``), with the
    unit's planned actions under each gap, read-only."""
    r = dataclasses.replace(build_context(a))
    r.planned = action_services.report_plan(db.session, a.unit_id, r, can_plan=False, pdf=True)
    html = render_template("pdf/report.html", r=r)
    return render_pdf(html, current_app.static_folder or "")


@dataclasses.dataclass(frozen=True)
class PdfKey:
    """What a cached gap report must match to be served: the assessment's version and the unit's plan."""

    version: int
    plan: str


def pdf_key(session: Session, a: Assessment) -> PdfKey:
    """Read before rendering, so that a change during the render leaves a key that no longer matches."""
    return PdfKey(a.version_id, action_services.plan_fingerprint(session, a.unit_id, action_services.today_utc()))


def cached_pdf(session: Session, a: Assessment, key: PdfKey, language: str) -> bytes | None:
    cached = session.execute(select(ReportCache.assessment_version, ReportCache.plan_key, ReportCache.pdf).where(
        ReportCache.assessment_id == a.id, ReportCache.language == language)).first()
    if cached is not None and cached.assessment_version == key.version and cached.plan_key == key.plan:
        return bytes(cached.pdf)
    return None


def cached_or_rendered_pdf(a: Assessment) -> tuple[bytes, PdfKey | None]:
    """The PDF of an assessment and, when it was rendered now and should be cached, the key to cache it under.
    Reads only: no write lock while rendering."""
    if a.status == Status.SUBMITTED.value:
        key = pdf_key(db.session, a)
        hit = cached_pdf(db.session, a, key, locale_code())
        if hit is not None:
            return hit, None
        return render_report_pdf(a), key
    return render_report_pdf(a), None  # drafts change with every save: never cached


def store_pdf(session: Session, assessment_id: int, key: PdfKey, data: bytes, language: str = "en") -> None:
    """Insert or replace the cached PDF (one per language) in one statement, safe when two downloads race."""
    upsert(session, ReportCache,
           [{"assessment_id": assessment_id, "language": language, "assessment_version": key.version,
             "plan_key": key.plan, "pdf": data, "generated_at": utcnow()}],
           ["assessment_id", "language"], ["assessment_version", "plan_key", "pdf", "generated_at"])


def prepare_pdf(assessment_id: int, language: str) -> None:
    """Background job (app.background): render a submitted assessment's PDF into the cache unless it is there.

    The key is read before rendering and the file stored under it, so an assessment reopened (or an action
    edited) meanwhile leaves a row that is never served; a job lost with its worker leaves no row at all.
    """
    try:
        with force_locale(language):
            a = db.session.get(Assessment, assessment_id)
            if a is None or a.status != Status.SUBMITTED.value:
                return
            key = pdf_key(db.session, a)
            if cached_pdf(db.session, a, key, language) is not None:
                return
            data = render_report_pdf(a)
            db.session.rollback()  # end the read before taking SQLite's write lock
            db.best_effort(lambda session: store_pdf(session, assessment_id, key, data, language),
                           f"report cache of assessment {assessment_id}")
    finally:
        background.release_memory()


def schedule_pdfs(assessment_id: int, languages: list[str]) -> None:
    """After a commit that made (or kept) an assessment submitted: its PDF, in each language once, off the request.

    Only when PREPARE_REPORTS is on (the default); a full queue or a killed worker only means the next download
    renders the file itself, as before.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("PREPARE_REPORTS", True):
        return
    for language in dict.fromkeys(languages):
        background.submit(app, prepare_pdf, assessment_id, language,
                          what=f"gap report pdf of assessment {assessment_id} ({language})")
