"""The agency report PDF, rendered off the request and kept per (agency, language) in ``pdf_cache`` (issue 16).

For a 100-unit agency a render takes seconds and a few hundred MiB: a supervisor's click gets the cached file
when its key matches, or a "being prepared" page while a background job (app.background) renders it. The key
(``agency_key``) is the agency's fingerprint (app.supervisor.freshness: every assessment, action, unit or name
change of the agency), today's date (the report shows overdue actions, "the last 12 months" and the review
cut-off), the language, the content and the settings printed on it. After a submission, sign-off or reopening
in the agency the report is re-rendered in the background in each language it was asked in before.
"""

from __future__ import annotations

import hashlib

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import pdfcache
from ..actions import services as action_services
from ..content.current import current as current_content
from ..content.current import for_version
from ..db import db
from ..models import PdfCache, Role, User
from ..reports.pdf import render_pdf
from . import services
from .charts import sparkline
from .freshness import agency_fingerprint

KIND = "agency"


def reader(agency_id: int) -> User:
    """A stand-in supervisor of the agency (never stored): what any of its supervisors sees, for the job."""
    return User(role=Role.SUPERVISOR.value, agency_id=agency_id)


def agency_key(session: Session, agency_id: int) -> str:
    """The cache key of the agency report in the current language (read before rendering)."""
    cfg = current_app.config
    raw = (agency_fingerprint(session, agency_id), action_services.today_utc().isoformat(),
           current_content().sha256, cfg["HANDLING_MARKING"], cfg["ORGANISATION_NAME"],
           cfg["REVIEW_INTERVAL_MONTHS"])
    return hashlib.sha256(repr(raw).encode()).hexdigest()[:32]


def render_agency_pdf(session: Session, agency_id: int) -> bytes:
    """Render the agency report afresh (seconds for a large agency: callers go through the cache)."""
    user = reader(agency_id)
    d = services.dashboard(session, user, current_content(), for_version,
                           interval_months=current_app.config["REVIEW_INTERVAL_MONTHS"])
    plans = action_services.agency_plans(session, agency_id, action_services.today_utc(), current_content())
    trends = services.maturity_trends(session, user, for_version)
    html = render_template("pdf/agency_report.html", d=d, marking=current_app.config["HANDLING_MARKING"],
                           organisation=current_app.config["ORGANISATION_NAME"], plans=plans, trends=trends,
                           sparkline=sparkline)
    return render_pdf(html, current_app.static_folder or "")


def cached(session: Session, agency_id: int, language: str, key: str) -> bytes | None:
    return pdfcache.cached(session, KIND, agency_id, language, key)


def start(agency_id: int, language: str, key: str, *, claim_first: bool = True) -> None:
    """Have the report for ``key`` rendered in the background (once, across requests and processes)."""
    pdfcache.start(KIND, agency_id, language, key, lambda s: agency_key(s, agency_id),
                   lambda s: render_agency_pdf(s, agency_id), claim_first=claim_first)


def is_rendering(session: Session, agency_id: int, language: str, key: str) -> bool:
    return pdfcache.is_rendering(session, KIND, agency_id, language, key)


def schedule_refresh(agency_id: int) -> None:
    """After a committed change in the agency: re-render its report in the languages it was asked in before.

    Only where a supervisor has asked for it (a row exists), so an agency nobody reads the report of costs no
    render; with PREPARE_REPORTS off, nothing (the next request starts the render).
    """
    if not current_app.config.get("PREPARE_REPORTS", True):
        return
    languages = list(db.session.scalars(select(PdfCache.language).where(PdfCache.kind == KIND,
                                                                      PdfCache.object_id == agency_id)))
    for language in languages:
        with force_locale(language):
            key = agency_key(db.session, agency_id)
            if cached(db.session, agency_id, language, key) is None:
                start(agency_id, language, key)
