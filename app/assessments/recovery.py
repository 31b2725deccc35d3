"""Keep typed answers when a questionnaire save cannot happen: the form's token or the session expired, or the
database was away. Registered as the assessments blueprint's error handlers.

Flask routes an error to the blueprint whose route matched the request, including errors raised before the view
runs (the CSRF check and the login check are app-wide ``before_request`` hooks). So the infrastructure raises
plain errors (CSRFError, 401, OperationalError) and knows nothing of questionnaires; this module turns them into
pages that keep what was typed, and falls back to the generic pages for every other assessments route.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, Unauthorized

from .. import errors
from ..auth import RESUME_PREFIX, register_relogin_resume, relogin_page
from ..content import Recommendation
from ..content.current import registry
from .section_page import render_section_with_input

SECTION = "assessments.section"


def _section_post() -> bool:
    return request.endpoint == SECTION and request.method == "POST"


def _section_args() -> tuple[int, int]:
    view_args = request.view_args or {}
    return int(view_args["assessment_id"]), int(view_args["number"])


def _typed() -> list[tuple[str, str]]:
    """The posted questionnaire fields, without the (dead) CSRF token."""
    return [(k, v) for k, values in request.form.lists() if k != "csrf_token" for v in values]


def token_expired(exc: CSRFError) -> Any:
    """An expired CSRF token on a questionnaire page: show the typed answers again with a fresh token."""
    if not _section_post():
        return errors.csrf_error_response()
    if not current_user.is_authenticated:
        return session_ended(Unauthorized())
    assessment_id, number = _section_args()
    return render_section_with_input(assessment_id, number, request.form, notice="expired"), 400


def session_ended(exc: HTTPException) -> Any:
    """The session ended while a questionnaire page was open: ask to log in again, keeping what was typed.

    The answers travel in the login form's hidden fields (never in the session cookie) and come back on the
    section page after login (``resume_after_relogin``), unsaved, so the user checks them and presses Save.
    """
    if not _section_post():
        return errors.http_error_response(exc)
    kept = [(RESUME_PREFIX + k, v) for k, v in _typed()]
    return relogin_page(kept, request.path)


def _recommendation_for(number: int, field_names: set[str]) -> Recommendation | None:
    """The section whose questions the posted fields name (current content first, then archived versions).

    The assessment itself (and so its content version) cannot be read while the database is away.
    """
    posted = {name.split("_", 1)[1] for name in field_names if name[:2] in ("q_", "c_", "e_")}
    reg = registry()
    for version in [reg.current.version, *sorted(v for v in reg.versions if v != reg.current.version)]:
        rec = reg.get(version).recommendation_by_number.get(number)
        if rec is not None and posted and posted <= {q.id for q in rec.questions}:
            return rec
    return None


def database_away(exc: Exception) -> Any:
    """The database is away during a questionnaire save: 503, with the typed answers shown and ready to resend.

    Nothing can be read either, so this is not the section page: it lists what was typed (question, level,
    comment, evidence note) and carries it in a form that sends it again to the same address, with its
    revisions, so a conflicting change made meanwhile is still detected.
    """
    if not _section_post() or errors.wants_json():
        return errors.database_away_response()
    errors.end_failed_transaction()
    errors.forget_user()
    typed = _typed()
    values = MultiDict(typed)
    _assessment_id, number = _section_args()
    rec = _recommendation_for(number, set(values))
    body = render_template("assessments/unsaved.html", rec=rec, number=number, values=values, kept=typed,
                           action=request.path)
    return errors.database_away_response(body)


def resume_after_relogin(view_args: dict[str, Any], kept: MultiDict[str, str]) -> str:
    """After a re-login from an expired questionnaire page, show that page again with the typed answers."""
    return render_section_with_input(int(view_args["assessment_id"]), int(view_args["number"]), kept,
                                     notice="relogin")


def init_blueprint(bp: Blueprint) -> None:
    bp.register_error_handler(CSRFError, token_expired)
    bp.register_error_handler(401, session_ended)
    for exc_class in errors.DATABASE_AWAY:
        bp.register_error_handler(exc_class, database_away)

    def _register(state: Any) -> None:
        app: Flask = state.app
        register_relogin_resume(app, SECTION, resume_after_relogin)

    bp.record_once(_register)

