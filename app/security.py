"""Default-deny routing, write intent for SQLite, and security headers on every response."""

from __future__ import annotations

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .access import PUBLIC, form_checks_text_of, reads_first_of, rule_of
from .db import db
from .errors import fail

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
)


def _refuse_nul() -> None:
    """NUL bytes are never legitimate text and PostgreSQL refuses them: stop them at the door with a 400.

    Views whose forms refuse control characters themselves (``form_checks_text``) get only their query string
    checked here, so their form answers with the typed input kept.
    """
    form_checked = form_checks_text_of(current_app.view_functions.get(request.endpoint or ""))
    only_args = request.method in SAFE_METHODS or form_checked
    sources = [request.args] if only_args else [request.args, request.form]
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                fail(400, _("The request contained control characters (a NUL byte), which this service does not "
                            "accept. Nothing was saved."))


def _enforce_access() -> Response | None:
    """Check access in a read transaction; a write request declares its write intent only once allowed.

    Loading the user and checking the rule never hold SQLite's write lock (they did, and saves serialised on
    it); ``db.writes_from_here`` ends that read transaction so the view's first query begins IMMEDIATE. A view
    marked ``reads_first`` keeps the read transaction and takes the lock itself (``db.start_writing``).
    """
    db.mark_write_intent(False)
    refused = _check_access()
    if refused is None and request.method not in SAFE_METHODS \
            and not reads_first_of(current_app.view_functions.get(request.endpoint or "")):
        db.writes_from_here()
    return refused


def _check_access() -> Response | None:
    """Refuse any endpoint that does not declare who may call it; send anonymous users to login."""
    if request.endpoint is None:
        return None  # 404/405 handled by routing
    if request.endpoint == "static":
        return None
    rule = rule_of(current_app.view_functions.get(request.endpoint))
    if rule is None:
        abort(403)
    if PUBLIC in rule:
        _refuse_nul()
        return None
    if not current_user.is_authenticated:
        if request.method in SAFE_METHODS:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)  # a blueprint may answer it with more (the questionnaire keeps the typed answers)
    if current_user.role not in rule:
        abort(403)
    _refuse_nul()
    return None


def _headers(resp: Response) -> Response:
    h = resp.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        # Pages and downloads carry assessment data: never keep them in a shared or browser cache.
        h["Cache-Control"] = "no-store"
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return resp


def init_app(app: Flask) -> None:
    app.before_request(_enforce_access)
    app.after_request(_headers)
